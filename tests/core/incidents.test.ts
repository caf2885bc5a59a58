/** Incident pushes, the pure part: the payload's validation, people mapping, keys and backoff. */
import { describe, expect, test } from 'vitest';
import { ValidationError } from '../../src/lib/core';
import {
	incidentKey,
	mapIncident,
	MAX_PUSH_ATTEMPTS,
	nextAttemptAt,
	parseIncident,
	type IncidentPayload
} from '../../src/lib/core/incidents';

const base: IncidentPayload = {
	id: 'inc-1',
	title: 'Flood',
	type: 'flood',
	startedAt: '2026-12-01T08:00:00Z',
	endedAt: '2026-12-01T10:00:00Z',
	people: [
		{ id: 'p1', role: 'lead' },
		{ id: 'p2', role: 'crew', from: '2026-12-01T09:00:00Z', to: '2026-12-01T09:30:00Z' },
		{ id: 'p9', role: 'crew' }
	]
};

describe('parseIncident: each bad field named, one line a case', () => {
	const cases: [change: Record<string, unknown>, field: string][] = [
		[{ title: '' }, 'title'],
		[{ title: undefined }, 'title'],
		[{ startedAt: 'yesterday' }, 'startedAt'],
		[{ endedAt: '2026-12-01T07:00:00Z' }, 'endedAt'],
		[{ people: 'p1' }, 'people'],
		[{ people: [{ id: 'p1' }] }, 'people.0.role'],
		[{ people: [{ id: '', role: 'x' }] }, 'people.0.id'],
		[{ people: [{ id: 'p1', role: 'x', from: 'noon' }] }, 'people.0.from'],
		[{ location: 5 }, 'location']
	];
	test.each(cases)('%j → %s', (change, field) => {
		try {
			parseIncident({ ...base, ...change });
			expect.unreachable();
		} catch (e) {
			expect(e).toBeInstanceOf(ValidationError);
			expect((e as ValidationError).issues.map((i) => i.field)).toContain(field);
			expect((e as ValidationError).issues[0].record).toBe('incident "inc-1"');
		}
	});
	test('a good payload passes as it is', () => expect(parseIncident(base)).toEqual(base));
});

describe('mapIncident', () => {
	const pairs = new Map([
		['p1', 'b1'],
		['p2', 'b2']
	]);
	test('people through the pairs, with their times (the incident’s when they have none); the others named', () => {
		const { record, unmapped } = mapIncident(base, 'event', (id) => pairs.get(id));
		expect(unmapped).toEqual(['p9']);
		expect(record).toEqual({
			kind: 'event',
			sourceId: 'inc-1',
			title: 'Flood',
			type: 'flood',
			startedAt: base.startedAt,
			endedAt: base.endedAt,
			people: [
				{ personId: 'b1', role: 'lead', from: base.startedAt, to: base.endedAt },
				{ personId: 'b2', role: 'crew', from: '2026-12-01T09:00:00Z', to: '2026-12-01T09:30:00Z' }
			]
		});
	});
	test('a person listed twice in one role attends once', () => {
		const twice = { ...base, people: [base.people[0], base.people[0]] };
		expect(mapIncident(twice, 'report', (id) => pairs.get(id)).record.people).toHaveLength(1);
	});
});

describe('keys and backoff', () => {
	test('one key per link and incident, whatever else the payload says', () => {
		expect(incidentKey('L1', 'inc-1')).toBe(incidentKey('L1', 'inc-1'));
		expect(incidentKey('L1', 'inc-1')).not.toBe(incidentKey('L2', 'inc-1'));
		expect(incidentKey('L1', 'inc-1')).not.toBe(incidentKey('L1', 'inc-2'));
	});
	test.each([
		[1, 30_000],
		[2, 60_000],
		[3, 120_000],
		[5, 480_000]
	])('after %i failed attempts the next waits %i ms', (attempts, wait) => {
		expect(nextAttemptAt(attempts, 1000)).toBe(1000 + wait);
	});
	test('jitter adds at most a tenth; the attempts run out', () => {
		expect(nextAttemptAt(1, 0, 1)).toBe(33_000);
		expect(nextAttemptAt(MAX_PUSH_ATTEMPTS, 0)).toBeUndefined();
	});
});
