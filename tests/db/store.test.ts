/** Snapshots and plans in IndexedDB (fake-indexeddb): exact round trips, replacement, baselines. */
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { recordVersion, reconcile } from '../../src/lib/core';
import { RostersyncDb, currentPlan, loadSnapshot, saveEdgePlan, saveLocalPlan, saveSnapshot } from '../../src/lib/db';
import { baseline, fieldsOf, person, personEntry, snap, twoWay, NOW } from '../support/factories';

let db: RostersyncDb;
let n = 0;
beforeEach(() => {
	db = new RostersyncDb(`store-${++n}`);
});
afterEach(() => db.close());

describe('snapshots', () => {
	test('round trip keeps every record exactly (so resolution versions still match)', async () => {
		const s = snap('A', {
			people: [
				person('p1', 'Ann', { email: 'ann@x.org', custom: { badge: '7' } }),
				person('p2', 'Bram', { buildings: ['HQ'] })
			]
		});
		await saveSnapshot(db, 'L1', 'a', s);
		const back = await loadSnapshot(db, 'L1', 'a');
		expect(back).toEqual(s);
		expect(back!.people.map(recordVersion)).toEqual(s.people.map(recordVersion));
	});

	test('saving again replaces the side whole; the other side and other links stay', async () => {
		await saveSnapshot(db, 'L1', 'a', snap('A', { people: [person('p1', 'Ann'), person('p2', 'Bram')] }));
		await saveSnapshot(db, 'L1', 'b', snap('B', { people: [person('q1', 'Ann')] }));
		await saveSnapshot(db, 'L2', 'a', snap('A', { people: [person('p9', 'Zoe')] }));
		await saveSnapshot(db, 'L1', 'a', snap('A', { people: [person('p3', 'Chloé')] }));
		expect((await loadSnapshot(db, 'L1', 'a'))!.people.map((p) => p.id)).toEqual(['p3']);
		expect((await loadSnapshot(db, 'L1', 'b'))!.people.map((p) => p.id)).toEqual(['q1']);
		expect((await loadSnapshot(db, 'L2', 'a'))!.people.map((p) => p.id)).toEqual(['p9']);
	});
});

describe('plans', () => {
	const link = twoWay();
	const a = snap('A', {
		people: [person('a1', 'Anne', { email: 'ann@x.org' }), person('a2', 'Bram', { email: 'bram@x.org' })]
	});
	const b = snap('B', {
		people: [person('b1', 'Ann', { email: 'ann@x.org' }), person('b2', 'Bram', { email: 'bram@x.org' })]
	});
	const entries = [
		personEntry('a1', 'b1', fieldsOf({ displayName: 'Ann', email: 'ann@x.org' })),
		personEntry('a2', 'b2', fieldsOf({ displayName: 'Bram', email: 'bram@x.org' }))
	];

	test("the edge's plan yields back the baseline it was computed against", async () => {
		const r = reconcile({ link, a, b, baseline: baseline(link.id, entries), now: NOW });
		await saveEdgePlan(db, r);
		const stored = await db.baselines.get(link.id);
		const key = (e: { a: string; b: string }) => `${e.a}|${e.b}`;
		expect(stored!.entries.map(key).sort()).toEqual(entries.map(key).sort());
		expect(stored!.entries.find((e) => e.a === 'a1')).toEqual(entries[0]);
	});

	test('a local preview stands in front of the edge plan until the edge speaks again', async () => {
		const r = reconcile({ link, a, b, baseline: baseline(link.id, entries), now: NOW });
		await saveEdgePlan(db, r, '2026-01-01T00:00:00Z');
		await saveLocalPlan(db, r, '2026-01-01T00:01:00Z');
		expect((await currentPlan(db, link.id))!.source).toBe('local');
		await saveEdgePlan(db, r, '2026-01-01T00:02:00Z');
		expect((await currentPlan(db, link.id))!.source).toBe('edge');
		expect(await db.conflicts.where('linkId').equals(link.id).count()).toBe(r.conflicts.length);
	});
});
