/**
 * The reconcile worker's functions, run in Node against fake-indexeddb: offline, a resolution in
 * the outbox is previewed at once by re-reconciling the stored snapshots with the baseline the
 * edge's plan carries; the list filters and pages inside the worker.
 */
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
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

describe('pulling the edge plan', () => {
	const realFetch = globalThis.fetch;
	afterEach(() => {
		globalThis.fetch = realFetch;
	});

	/** An edge holding `rec` under ETag `tag`; every request it was sent, with its If-None-Match. */
	function fakeEdge(rec: ReturnType<typeof reconcile>, tag: string) {
		const sent: string[] = [];
		globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
			const path = new URL(String(input)).pathname;
			const held = new Headers(init?.headers).get('if-none-match');
			sent.push(held ? `${path} ${held}` : path);
			const json = (body: unknown, headers: Record<string, string> = {}) =>
				new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json', ...headers } });
			if (path.endsWith('/plan'))
				return held === tag ? new Response(null, { status: 304, headers: { etag: tag } }) : json(rec, { etag: tag });
			if (path.endsWith('/snapshots')) return json({ a, b });
			if (path.endsWith('/resolutions')) return json([]);
			return json({ config: link, status: { enabled: false, requiresAction: rec.requiresAction, staged: 0 } });
		}) as typeof fetch;
		return sent;
	}

	test('names the plan it holds: a 304 keeps it and its snapshots, a new tag brings the new plan', async () => {
		const auth = { base: 'https://edge.test', token: 't' };
		const rec = reconcile({ link, a, b, baseline: baseline(link.id, entries), now: NOW });
		const sent = fakeEdge(rec, '"plan-1"');
		await db.cache.clear();
		// Nothing named yet: the whole plan and its snapshots come.
		expect(await api.pull(link.id, auth)).toMatchObject({ source: 'edge', requiresAction: 1 });
		expect(sent.filter((s) => /\/(plan|snapshots)/.test(s))).toEqual([
			`/api/links/${link.id}/plan`,
			`/api/links/${link.id}/snapshots`
		]);
		sent.length = 0;
		expect(await api.pull(link.id, auth)).toMatchObject({ source: 'edge', requiresAction: 1 });
		expect(sent).toContain(`/api/links/${link.id}/plan "plan-1"`);
		expect(sent.some((s) => s.endsWith('/snapshots'))).toBe(false);

		// The edge made another plan: a person more in A, to be created in B.
		const grown = { ...a, people: [...a.people, person('a4', 'Dirk', { email: 'dirk@x.org' })] };
		const next = reconcile({ link, a: grown, b, baseline: baseline(link.id, entries), now: NOW });
		const again = fakeEdge(next, '"plan-2"');
		const summary = await api.pull(link.id, auth);
		expect(again).toContain(`/api/links/${link.id}/plan "plan-1"`);
		expect(again.some((s) => s.endsWith('/snapshots'))).toBe(true);
		expect(summary!.counts.person.create).toBe(2);
	});
});
