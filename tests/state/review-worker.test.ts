/**
 * The reconcile worker's functions, run in Node against fake-indexeddb: offline, a resolution in
 * the outbox is previewed at once by re-reconciling the stored snapshots with the baseline the
 * edge's plan carries; the list filters and pages inside the worker.
 */
import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, test } from 'vitest';
import { reconcile } from '../../src/lib/core';
import { RostersyncDb, enqueue, outboxOf, remember, saveEdgePlan, saveSnapshot } from '../../src/lib/db';
import { api, fieldsOf as systemFieldsOf, linkCacheKey, useDatabase } from '../../src/lib/reconcile/api';
import { baseline, fieldsOf, group, person, personEntry, snap, twoWay, NOW } from '../support/factories';

const link = twoWay();
const a = snap('A', {
	people: [
		person('a1', 'Anne', { email: 'ann@x.org' }),
		person('a2', 'Bram', { email: 'bram@x.org' }),
		person('a3', 'Chloé', { email: 'chloe@x.org', custom: { badge: '3' } })
	],
	groups: [group('ga', 'Rescue', { externalId: 'G1' })]
});
const b = snap('B', {
	people: [person('b1', 'Annie', { email: 'ann@x.org' }), person('b2', 'Bram', { email: 'bram@x.org' })],
	groups: [group('gb', 'Rescue', { externalId: 'G1' })]
});
const entries = [
	personEntry('a1', 'b1', fieldsOf({ displayName: 'Ann', email: 'ann@x.org' })),
	personEntry('a2', 'b2', fieldsOf({ displayName: 'Bram', email: 'bram@x.org' }))
];

let db: RostersyncDb;
let n = 0;
beforeEach(async () => {
	db = new RostersyncDb(`review-${++n}`);
	useDatabase(db);
	// What a Reload leaves behind: the link, both snapshots, the edge's plan.
	await remember(db, linkCacheKey(link.id), { config: link, status: { enabled: false, requiresAction: 1, staged: 0 } });
	await saveSnapshot(db, link.id, 'a', a);
	await saveSnapshot(db, link.id, 'b', b);
	await saveEdgePlan(db, reconcile({ link, a, b, baseline: baseline(link.id, entries), now: NOW }));
});

describe('review in the worker', () => {
	test("the edge's plan is shown as stored: one conflict requires action", async () => {
		const s = await api.summary(link.id);
		expect(s).toMatchObject({ source: 'edge', requiresAction: 1 });
		expect(s!.counts.person).toMatchObject({ conflict: 1, create: 1, 'in-sync': 1 });
		expect(s!.counts.group['in-sync']).toBe(1);
	});

	test('offline: a resolution in the outbox is previewed at once, and the stored plan keeps it', async () => {
		const conflict = (await db.conflicts.toArray())[0];
		await enqueue(db, link.id, { conflictId: conflict.id, choice: 'take-b', against: conflict.records }, conflict);
		const s = await api.previewIfPending(link.id);
		expect(s).toMatchObject({ source: 'local', requiresAction: 0, applied: [conflict.id] });
		expect(s!.counts.person).toMatchObject({ conflict: 0, update: 1 });
		await api.query(link.id, { situation: 'update' });
		const [row] = await api.rows(link.id, 0, 10);
		expect(row).toMatchObject({ aName: 'Anne', bName: 'Annie', to: 'a', note: 'resolved' });
	});

	test('a resolution made against records that changed since comes back stale', async () => {
		const conflict = (await db.conflicts.toArray())[0];
		const against = conflict.records.map((r) => ({ ...r, version: 'older' }));
		await enqueue(db, link.id, { conflictId: conflict.id, choice: 'take-a', against }, conflict);
		const s = await api.previewIfPending(link.id);
		expect(s!.requiresAction).toBe(1);
		expect((await outboxOf(db, link.id))[0].state).toBe('stale');
	});

	test('without pending answers the edge plan is shown again', async () => {
		const conflict = (await db.conflicts.toArray())[0];
		await enqueue(db, link.id, { conflictId: conflict.id, choice: 'take-b', against: conflict.records });
		await api.previewIfPending(link.id);
		await db.outbox.clear();
		expect((await api.previewIfPending(link.id))!.source).toBe('edge');
	});

	test('the list: conflicts first, groups before people; filter by kind, situation, text; pages', async () => {
		expect(await api.query(link.id, {})).toBe(4);
		const rows = await api.rows(link.id, 0, 10);
		expect(rows.map((r) => `${r.situation}:${r.kind}:${r.aName ?? r.bName}`)).toEqual([
			'conflict:person:Anne',
			'create:person:Chloé',
			'in-sync:group:Rescue',
			'in-sync:person:Bram'
		]);
		expect(await api.query(link.id, { kind: 'group' })).toBe(1);
		expect(await api.query(link.id, { text: 'chlo' })).toBe(1);
		expect(await api.query(link.id, { situation: 'conflict', text: 'annie' })).toBe(1);
		expect(await api.rows(link.id, 1, 10)).toEqual([]);
	});

	test("a pair's detail has both records and the conflict with its candidates", async () => {
		await api.query(link.id, { situation: 'conflict' });
		const [row] = await api.rows(link.id, 0, 1);
		const d = await api.detail(link.id, row.i);
		expect(d!.a).toMatchObject({ displayName: 'Anne' });
		expect(d!.b).toMatchObject({ displayName: 'Annie' });
		expect(d!.conflict).toMatchObject({
			reason: 'both-changed',
			fields: [{ field: 'displayName', base: 'Ann', a: 'Anne', b: 'Annie' }]
		});
		expect(d!.candidates.map((c) => c.ref.id)).toEqual(['a1', 'b1']);
		expect(await api.rowOfConflict(link.id, row.conflictId!)).toBe(row.i);
		expect((await api.search(link.id, 'b', 'person', 'bra')).map((p) => p.id)).toEqual(['b2']);
	});

	test("a system's fields: standard ones present, then custom names", () => {
		expect(systemFieldsOf(a)).toMatchObject({
			people: 3,
			standard: ['displayName', 'email', 'active'],
			custom: ['badge']
		});
	});
});
