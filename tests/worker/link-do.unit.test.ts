import { env } from 'cloudflare:workers';
import { abortAllDurableObjects, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { makeLink, type Op, type Snapshot } from '$lib/core';
import { LinkDO } from '../../worker/link/link-do';
import { chunked, jsonParts } from '../../worker/link/json-chunks';
import { recoveredOutcome } from '../../worker/link/recovery';
import { computeNextAlarm } from '../../worker/link/schedule';

const at = (s: string) => Date.parse(s);

describe('computeNextAlarm', () => {
	const schedule = (timeZone: string, hour = 2) => ({ timeZone, hour, enabled: true });
	// [time zone, now, planned nextRunAt, expected alarm]: each line one case.
	const cases: [string, string, string | undefined, string][] = [
		// Amsterdam, clocks go forward 02:00 -> 03:00 on 28 March 2027: 02:00 does not exist; the run is at 03:00 CEST.
		['Europe/Amsterdam', '2027-03-27T12:00:00Z', undefined, '2027-03-28T01:00:00Z'],
		['Europe/Amsterdam', '2027-03-28T01:00:00Z', '2027-03-28T01:00:00Z', '2027-03-29T00:00:00Z'],
		// Clocks go back 03:00 -> 02:00 on 31 October 2027: 02:00 happens twice; the first one runs.
		['Europe/Amsterdam', '2027-10-30T12:00:00Z', undefined, '2027-10-31T00:00:00Z'],
		['Europe/Amsterdam', '2027-10-31T00:00:00Z', '2027-10-31T00:00:00Z', '2027-11-01T01:00:00Z'],
		// A planned run still ahead is kept.
		['Europe/Amsterdam', '2027-06-01T10:00:00Z', '2027-06-02T00:00:00Z', '2027-06-02T00:00:00Z'],
		['America/New_York', '2027-03-13T12:00:00Z', undefined, '2027-03-14T07:00:00Z'],
		['UTC', '2027-01-01T02:00:00Z', undefined, '2027-01-02T02:00:00Z']
	];
	it.each(cases)('%s at %s (planned %s) rings at %s', (tz, now, planned, expected) => {
		const next = computeNextAlarm(
			{
				running: false,
				config: { enabled: true, schedule: schedule(tz) },
				nextRunAt: planned ? at(planned) : undefined
			},
			at(now)
		);
		expect(new Date(next.alarm!).toISOString()).toBe(new Date(at(expected)).toISOString());
		expect(next.nextRunAt).toBe(next.alarm);
	});

	it('continues a run now, keeping the nightly plan', () => {
		const now = at('2027-06-01T10:00:00Z');
		expect(computeNextAlarm({ running: true, config: { enabled: true, schedule: schedule('UTC') } }, now)).toEqual({
			alarm: now,
			nextRunAt: at('2027-06-02T02:00:00Z')
		});
	});

	it('rings for nothing when sync or its schedule is off', () => {
		const now = at('2027-06-01T10:00:00Z');
		expect(computeNextAlarm({ running: false, config: { enabled: false, schedule: schedule('UTC') } }, now)).toEqual({
			alarm: null
		});
		expect(
			computeNextAlarm(
				{ running: false, config: { enabled: true, schedule: { ...schedule('UTC'), enabled: false } } },
				now
			)
		).toEqual({ alarm: null });
		expect(computeNextAlarm({ running: true, config: { enabled: false, schedule: schedule('UTC') } }, now)).toEqual({
			alarm: now
		});
	});

	it('runs at the hour the link asks for', () => {
		const next = computeNextAlarm(
			{ running: false, config: { enabled: true, schedule: schedule('Asia/Kolkata', 23) } },
			at('2027-06-01T00:00:00Z')
		);
		expect(new Date(next.alarm!).toISOString()).toBe('2027-06-01T17:30:00.000Z');
	});
});

describe('jsonParts and chunked', () => {
	it('writes the same JSON as JSON.stringify, in bounded chunks', () => {
		const value = {
			a: [1, 'two', { three: [3, null, undefined] }, undefined],
			skipped: undefined,
			nested: { list: Array.from({ length: 500 }, (_, i) => ({ i, name: `Zoë ${i} 🧑‍🚒` })) },
			empty: [],
			s: 'x'
		};
		const chunks = [...chunked(jsonParts(value), 1000)];
		expect(chunks.length).toBeGreaterThan(10);
		for (const c of chunks) expect(c.length).toBeLessThanOrEqual(1100);
		expect(chunks.join('')).toBe(JSON.stringify(value));
	});

	it('never splits a surrogate pair when a single part is longer than a chunk', () => {
		const text = '🧑'.repeat(1000); // 2000 UTF-16 units
		const chunks = [...chunked([JSON.stringify(text)], 333)];
		for (const c of chunks) expect(new TextDecoder().decode(new TextEncoder().encode(c))).toBe(c);
		expect(JSON.parse(chunks.join(''))).toBe(text);
	});
});

describe('recoveredOutcome', () => {
	const target: Snapshot = {
		system: 'b',
		takenAt: '2027-01-01T00:00:00Z',
		version: 'v',
		people: [
			{ id: 'u1', externalId: 'E1', displayName: 'Ann', active: true },
			{ id: 'u2', displayName: 'Bo', email: 'bo@example.org', active: true }
		],
		groups: [{ id: 'g1', externalId: 'G1', name: 'North', kind: 'community' }],
		memberships: [{ groupId: 'g1', personId: 'u1', role: 'member' }]
	};
	const resolve = (ref: { id: string } | { createdBy: string }) => {
		if ('id' in ref) return ref.id;
		if (ref.createdBy === 'create-ann') return 'u1';
		throw new Error('not created');
	};
	const op = (o: Partial<Op> & Pick<Op, 'type'>): Op => ({ key: o.type, side: 'b', step: 0, ...o }) as Op;

	it.each([
		[
			'a create whose record is there (by externalId)',
			op({ type: 'create-person', record: { externalId: 'E1', displayName: 'Ann', active: true } }),
			{ status: 'done', id: 'u1' }
		],
		[
			'a create found by email',
			op({ type: 'create-person', record: { email: 'BO@example.org', displayName: 'Bo', active: true } }),
			{ status: 'done', id: 'u2' }
		],
		[
			'a create not there yet',
			op({ type: 'create-person', record: { externalId: 'E9', displayName: 'Cy', active: true } }),
			undefined
		],
		[
			'a group create found by externalId',
			op({ type: 'create-group', record: { externalId: 'G1', name: 'North', kind: 'community' } }),
			{ status: 'done', id: 'g1' }
		],
		[
			'a membership already there',
			op({ type: 'add-membership', group: { id: 'g1' }, person: { createdBy: 'create-ann' }, role: 'member' }),
			{ status: 'done' }
		],
		[
			'a membership with another role',
			op({ type: 'set-role', group: { id: 'g1' }, person: { id: 'u1' }, role: 'manager', before: 'member' }),
			undefined
		],
		[
			'a membership whose person was not created',
			op({ type: 'add-membership', group: { id: 'g1' }, person: { createdBy: 'create-zed' }, role: 'member' }),
			undefined
		],
		[
			'an update (idempotent: applied again)',
			op({ type: 'update-person', target: { id: 'u1' }, values: { displayName: 'Ann' }, before: {} }),
			undefined
		]
	] as const)('%s', (_name, o, expected) => {
		const outcome = recoveredOutcome(o, target, resolve);
		expect(outcome).toEqual(expected ? { key: o.key, ...expected } : undefined);
	});

	it('never takes a record another create made, or the baseline pairs: the create is applied again', () => {
		const bo = op({ type: 'create-person', record: { email: 'bo@example.org', displayName: 'Bo', active: true } });
		const north = op({ type: 'create-group', record: { externalId: 'G1', name: 'North', kind: 'community' } });
		expect(recoveredOutcome(bo, target, resolve, (id) => id === 'u2')).toBeUndefined();
		expect(recoveredOutcome(north, target, resolve, (id) => id === 'g1')).toBeUndefined();
		expect(recoveredOutcome(bo, target, resolve, (id) => id === 'u1')).toEqual({
			key: bo.key,
			status: 'done',
			id: 'u2'
		});
	});
});

describe('LinkDO', () => {
	const config = makeLink({ id: 'link-unit', name: 'Unit', mode: 'provision', systems: { a: 'sys-a', b: 'sys-b' } });

	it('validates and stores the configuration with the core, and refuses a second create', async () => {
		const stub = env.LINKS.getByName('link-unit');
		expect(await stub.get()).toBeNull();
		const bad = await stub.create({ ...config, schedule: { timeZone: 'Mars/Olympus', hour: 2, enabled: true } });
		expect(bad).toMatchObject({
			ok: false,
			refusal: { code: 'invalid', extra: { issues: [{ field: 'schedule.timeZone' }] } }
		});
		const created = await stub.create(config);
		expect(created).toMatchObject({
			ok: true,
			value: {
				config: { id: 'link-unit', retentionDays: 30, enabled: false },
				status: { enabled: false, staged: 0, requiresAction: 0 }
			}
		});
		expect(await stub.create(config)).toMatchObject({ ok: false, refusal: { code: 'conflict' } });
	});

	it('keeps systems, id and the enabled flag out of a patch', async () => {
		const stub = env.LINKS.getByName('link-unit');
		expect(await stub.update({ systems: { a: 'x', b: 'y' } })).toMatchObject({
			ok: false,
			refusal: { code: 'invalid', extra: { issues: [{ field: 'systems' }] } }
		});
		expect(await stub.update({ enabled: true })).toMatchObject({ ok: false, refusal: { code: 'invalid' } });
		expect(await stub.update({ retentionDays: -1 })).toMatchObject({ ok: false, refusal: { code: 'invalid' } });
		const patched = await stub.update({
			name: 'Renamed',
			schedule: { timeZone: 'Europe/Oslo', hour: 3, enabled: true }
		});
		expect(patched).toMatchObject({
			ok: true,
			value: { config: { name: 'Renamed', schedule: { timeZone: 'Europe/Oslo', hour: 3 } } }
		});
	});

	it('keeps its state in SQLite rows, so a fresh instance loads it', async () => {
		const stub = env.LINKS.getByName('link-unit');
		const tables = await runInDurableObject(stub, (instance, state) => {
			expect(instance).toBeInstanceOf(LinkDO);
			return state.storage.sql
				.exec<{ name: string }>(
					"SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite%' ORDER BY name"
				)
				.toArray()
				.map((r) => r.name);
		});
		expect(tables).toEqual([
			'baseline',
			'baseline_journal',
			'baseline_parts',
			'drafts',
			'incident_pushes',
			'journal',
			'meta',
			'notices',
			'plan_conflicts',
			'plan_drafts',
			'plan_dropped',
			'plan_fragments',
			'plan_kept',
			'plan_ops',
			'plan_views',
			'resolutions',
			'runs',
			'schema_migrations',
			'snap_groups',
			'snap_members',
			'snap_parts',
			'snap_people',
			'staged',
			'staged_ops'
		]);
		await abortAllDurableObjects();
		expect((await env.LINKS.getByName('link-unit').get())?.config.name).toBe('Renamed');
	});

	it('refuses a real run while sync is off, and answers 404-style for an unknown link', async () => {
		const stub = env.LINKS.getByName('link-unit');
		expect(await stub.startRun({ dryRun: false, startedBy: { kind: 'person', subject: 't' } })).toMatchObject({
			ok: false,
			refusal: { code: 'conflict' }
		});
		expect(await env.LINKS.getByName('nope').startRun({ dryRun: true, startedBy: { kind: 'person' } })).toMatchObject({
			ok: false,
			refusal: { code: 'not-found' }
		});
	});

	it('deletes everything, alarm included', async () => {
		const stub = env.LINKS.getByName('link-unit');
		expect(await stub.destroy()).toEqual({ ok: true, value: null });
		expect(await stub.get()).toBeNull();
		expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBeNull();
	});
});
