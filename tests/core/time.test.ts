/** Wall-clock arithmetic across daylight-saving changes, and the lifecycle state machine. */
import { describe, expect, test } from 'vitest';
import { addLocalDays, isRestorable, lifecycleStep, nextDailyRun, plannedRemoval, retention } from '../../src/lib/core';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

describe('nextDailyRun: 02:00 in the link zone', () => {
	test.each([
		['UTC, before 02:00', 'UTC', '2026-01-01T01:00:00Z', '2026-01-01T02:00:00.000Z'],
		['UTC, at 02:00 runs the next night', 'UTC', '2026-01-01T02:00:00Z', '2026-01-02T02:00:00.000Z'],
		['Amsterdam in winter (CET)', 'Europe/Amsterdam', '2026-01-10T12:00:00Z', '2026-01-11T01:00:00.000Z'],
		['Amsterdam in summer (CEST)', 'Europe/Amsterdam', '2026-07-10T12:00:00Z', '2026-07-11T00:00:00.000Z'],
		[
			'Amsterdam spring forward: 02:00 does not exist, runs at 03:00 CEST',
			'Europe/Amsterdam',
			'2026-03-28T12:00:00Z',
			'2026-03-29T01:00:00.000Z'
		],
		[
			'Amsterdam fall back: 02:00 happens twice, runs at the first',
			'Europe/Amsterdam',
			'2026-10-24T12:00:00Z',
			'2026-10-25T00:00:00.000Z'
		],
		[
			'Amsterdam fall back: and not again an hour later',
			'Europe/Amsterdam',
			'2026-10-25T00:00:00Z',
			'2026-10-26T01:00:00.000Z'
		],
		['New York spring forward', 'America/New_York', '2026-03-07T12:00:00Z', '2026-03-08T07:00:00.000Z'],
		[
			'New York fall back: 02:00 EST, after the repeated hour',
			'America/New_York',
			'2026-10-31T12:00:00Z',
			'2026-11-01T07:00:00.000Z'
		],
		['Lord Howe half-hour shift', 'Australia/Lord_Howe', '2026-10-03T12:00:00Z', '2026-10-03T15:30:00.000Z'],
		['Kolkata, no DST', 'Asia/Kolkata', '2026-06-01T00:00:00Z', '2026-06-01T20:30:00.000Z']
	])('%s', (_n, zone, now, expected) => {
		expect(iso(nextDailyRun(at(now), zone))).toBe(expected);
	});
});

describe('addLocalDays keeps the wall-clock time', () => {
	test.each([
		['across spring forward (Amsterdam)', '2026-03-10T09:00:00Z', 30, 'Europe/Amsterdam', '2026-04-09T08:00:00.000Z'],
		['across fall back (Amsterdam)', '2026-10-10T08:00:00Z', 30, 'Europe/Amsterdam', '2026-11-09T09:00:00.000Z'],
		['no DST (UTC)', '2026-03-10T09:00:00Z', 30, 'UTC', '2026-04-09T09:00:00.000Z']
	])('%s', (_n, from, days, zone, expected) => {
		expect(iso(addLocalDays(at(from), days, zone))).toBe(expected);
	});
});

describe('lifecycle', () => {
	const ctx = { now: at('2026-03-10T09:00:00Z'), retentionDays: 30, timeZone: 'Europe/Amsterdam' };
	const removed = {
		state: 'removed' as const,
		removedAt: '2026-03-10T09:00:00.000Z',
		purgeAfter: '2026-04-09T08:00:00.000Z'
	};
	test.each([
		['active, present: nothing', undefined, true, ctx.now, null, 'active'],
		['active, gone: removed', undefined, false, ctx.now, 'remove', 'removed'],
		['removed, back: restored', removed, true, at('2026-04-01T00:00:00Z'), 'restore', 'active'],
		['removed, still gone, within retention: waits', removed, false, at('2026-04-09T07:59:59Z'), null, 'removed'],
		['removed, retention over: anonymized', removed, false, at('2026-04-09T08:00:00Z'), 'anonymize', 'anonymized'],
		['anonymized stays anonymized', { state: 'anonymized' as const }, true, ctx.now, null, 'anonymized']
	] as const)('%s', (_n, current, present, now, action, state) => {
		const step = lifecycleStep(current, present, { ...ctx, now });
		expect(step.action).toBe(action);
		expect(step.next.state).toBe(state);
	});

	test('restorable until the purge instant, not after', () => {
		expect(isRestorable(removed, at('2026-04-09T07:59:59Z'))).toBe(true);
		expect(isRestorable(removed, at('2026-04-09T08:00:00Z'))).toBe(false);
	});
});

describe('retention: the dates an admin is shown', () => {
	const nightly = { timeZone: 'Europe/Oslo', hour: 2, enabled: true };
	// Removed by the nightly run of 2 March (02:00 Oslo, winter): 30 calendar days later is 1 April,
	// 02:00 Oslo in summer time, which is 00:00 UTC.
	const removed = plannedRemoval(at('2026-03-02T01:00:00Z'), 30, 'Europe/Oslo');
	test.each([
		[
			'removed, nightly on',
			removed,
			at('2026-03-20T12:00:00Z'),
			nightly,
			{ restorable: true, anonymizedOn: '2026-04-01T00:00:00.000Z' }
		],
		[
			'removed by hand at noon: the next nightly run after retention anonymizes',
			plannedRemoval(at('2026-03-02T11:00:00Z'), 30, 'Europe/Oslo'),
			at('2026-03-20T12:00:00Z'),
			nightly,
			{ restorableUntil: '2026-04-01T10:00:00.000Z', anonymizedOn: '2026-04-02T00:00:00.000Z' }
		],
		[
			'removed, no nightly run: no anonymization date',
			removed,
			at('2026-03-20T12:00:00Z'),
			{ ...nightly, enabled: false },
			{ restorable: true, anonymizedOn: undefined }
		],
		['retention over: no longer restorable', removed, at('2026-04-01T00:00:00Z'), nightly, { restorable: false }],
		[
			'anonymized',
			{ ...removed, state: 'anonymized' as const },
			at('2026-04-02T00:00:00Z'),
			nightly,
			{ state: 'anonymized', restorable: false, anonymizedOn: undefined }
		]
	] as const)('%s', (_n, lifecycle, now, schedule, expected) => {
		const r = retention(lifecycle, now, schedule);
		const { anonymizedOn, ...rest } = expected as typeof expected & { anonymizedOn?: string };
		expect(r).toMatchObject({ removedAt: lifecycle.removedAt, restorableUntil: lifecycle.purgeAfter, ...rest });
		if ('anonymizedOn' in expected) expect(r?.anonymizedOn).toBe(anonymizedOn);
	});

	test('an active person has no retention', () => {
		expect(retention(undefined, at('2026-03-20T12:00:00Z'), nightly)).toBeUndefined();
		expect(retention({ state: 'active' }, at('2026-03-20T12:00:00Z'), nightly)).toBeUndefined();
	});

	test('a removal starts a retention ending 30 calendar days later at the same wall-clock time', () => {
		expect(removed).toEqual({
			state: 'removed',
			removedAt: '2026-03-02T01:00:00.000Z',
			purgeAfter: '2026-04-01T00:00:00.000Z'
		});
	});
});
