/**
 * Where an answer stands and which pair shows it, in the worker (fake-indexeddb): waiting in the
 * outbox, sent once the edge accepted it (the local preview shows its effect until the edge's next
 * plan is pulled), applied once the edge's plan carries it out, stale when a record changed.
 */
import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, test } from 'vitest';
import { reconcile, type Resolution } from '../../src/lib/core';
import {
	RostersyncDb,
	enqueue,
	flush,
	remember,
	saveAcceptedResolutions,
	saveEdgePlan,
	saveSnapshot
} from '../../src/lib/db';
import { api, linkCacheKey, useDatabase } from '../../src/lib/reconcile/api';
import { AnswerIndex, answersOf, reasonOf, withNames } from '../../src/lib/reconcile/answers';
import { baseline, fieldsOf, person, personEntry, snap, twoWay, NOW } from '../support/factories';

const link = twoWay();
const a = snap('A', {
	people: [person('a1', 'Anne', { email: 'ann@x.org' }), person('a2', 'Bram', { email: 'bram@x.org' })]
});
const b = snap('B', {
	people: [person('b1', 'Annie', { email: 'ann@x.org' }), person('b2', 'Bram', { email: 'bram@x.org' })]
});
const entries = [
	personEntry('a1', 'b1', fieldsOf({ displayName: 'Ann', email: 'ann@x.org' })),
	personEntry('a2', 'b2', fieldsOf({ displayName: 'Bram', email: 'bram@x.org' }))
];
const base = baseline(link.id, entries);

let db: RostersyncDb;
let n = 0;
beforeEach(async () => {
	db = new RostersyncDb(`answers-${++n}`);
	useDatabase(db);
	await remember(db, linkCacheKey(link.id), { config: link, status: { enabled: false, requiresAction: 1, staged: 0 } });
	await saveSnapshot(db, link.id, 'a', a);
	await saveSnapshot(db, link.id, 'b', b);
	await saveEdgePlan(db, reconcile({ link, a, b, baseline: base, now: NOW }), '2026-12-01T09:00:00.000Z');
});

async function answer(choice: Resolution['choice'] = 'take-b'): Promise<Resolution> {
	const conflict = (await db.conflicts.toArray())[0];
	const resolution = { conflictId: conflict.id, choice, against: conflict.records };
	await enqueue(db, link.id, resolution, conflict, new Date('2026-12-01T09:01:00Z'), [
		{ side: 'a', kind: 'person', id: 'a1', name: 'Anne' },
		{ side: 'b', kind: 'person', id: 'b1', name: 'Annie' }
	]);
	return resolution;
}

/** The answer shown on Anne's pair, whatever situation the pair is in now. */
async function onAnnesPair() {
	await api.query(link.id, { text: 'anne' });
	const [row] = await api.rows(link.id, 0, 1);
	const detail = await api.detail(link.id, row.i);
	expect(detail!.answer?.state).toBe(row.answer?.state);
	return { situation: row.situation, state: row.answer?.state, who: row.answer?.who.map((w) => w.name) };
}

describe('answers on their pairs', () => {
	test('waiting: in the outbox, previewed at once on the pair it answers, with the names seen', async () => {
		await answer();
		await api.previewIfPending(link.id);
		expect(await onAnnesPair()).toEqual({ situation: 'update', state: 'waiting', who: ['Anne', 'Annie'] });
	});

	test('sent: accepted by the edge, whose stored plan still shows the conflict: the preview keeps its effect', async () => {
		await answer();
		const report = await flush({
			db,
			send: async (_l, rs) => ({ accepted: rs.map((r) => r.conflictId), stale: [] }),
			classify: () => ({ retry: true, message: '' }),
			now: () => new Date('2026-12-01T09:02:00Z')
		});
		expect(report).toMatchObject({ accepted: 1, links: [link.id] });
		const s = await api.previewIfPending(link.id);
		expect(s).toMatchObject({ source: 'local', requiresAction: 0 });
		expect(await onAnnesPair()).toMatchObject({ situation: 'update', state: 'sent' });
	});

	test("applied: the edge's plan made with the answer carries it out; nothing is previewed locally", async () => {
		const resolution = await answer();
		await db.outbox.clear();
		await saveAcceptedResolutions(db, link.id, [resolution]);
		await saveEdgePlan(db, reconcile({ link, a, b, baseline: base, resolutions: [resolution], now: NOW }));
		const s = await api.previewIfPending(link.id);
		expect(s).toMatchObject({ source: 'edge', requiresAction: 0, applied: [resolution.conflictId] });
		expect(await onAnnesPair()).toMatchObject({ situation: 'update', state: 'applied', who: ['Anne', 'Annie'] });
	});

	test('stale: a record changed since the answer; the conflict stands again and says so', async () => {
		const conflict = (await db.conflicts.toArray())[0];
		const against = conflict.records.map((r) => ({ ...r, version: 'older' }));
		await enqueue(db, link.id, { conflictId: conflict.id, choice: 'take-a', against }, conflict);
		await api.previewIfPending(link.id);
		expect(await onAnnesPair()).toMatchObject({ situation: 'conflict', state: 'stale' });
	});

	test('a pair nobody answered carries no answer', async () => {
		await answer();
		await api.previewIfPending(link.id);
		await api.query(link.id, { text: 'bram' });
		const [row] = await api.rows(link.id, 0, 1);
		expect(row.answer).toBeUndefined();
	});
});

describe('answersOf, the pure part', () => {
	const ref = (side: 'a' | 'b', id: string) => ({ side, kind: 'person' as const, id, version: 'v' });
	const r = (conflictId: string, against = [ref('a', 'a1')]): Resolution => ({ conflictId, choice: 'take-a', against });
	const plan = { source: 'edge' as const, applied: ['c-applied'], stale: [{ resolution: r('c-stale'), changed: [] }] };

	test('the outbox wins over what the edge holds (a newer answer); each accepted one is judged by the plan', () => {
		const states = answersOf(
			[
				{
					linkId: 'L',
					conflictId: 'c-applied',
					resolution: r('c-applied'),
					state: 'pending',
					rev: 2,
					createdAt: '',
					updatedAt: '',
					attempts: 0
				}
			],
			[r('c-applied'), r('c-stale'), r('c-sent'), r('c-other')],
			plan
		).map((x) => `${x.conflictId}:${x.state}`);
		expect(states.sort()).toEqual(['c-applied:waiting', 'c-other:sent', 'c-sent:sent', 'c-stale:stale']);
	});

	test('a local preview never calls an accepted answer applied: only the edge applies', () => {
		expect(answersOf([], [r('c-applied')], { ...plan, source: 'local' })[0].state).toBe('sent');
	});

	test('a pair finds its answer by conflict, or by any record it was made against (a link names both)', () => {
		const linked: Resolution = {
			conflictId: 'ambiguous-match:person:x',
			choice: 'link',
			against: [ref('a', 'a1'), ref('b', 'b1'), ref('b', 'b2')],
			link: { a: 'a1', b: 'b2' }
		};
		const index = new AnswerIndex(answersOf([], [linked], plan));
		expect(index.forPair({ kind: 'person', aId: 'a1', bId: 'b2' })?.conflictId).toBe(linked.conflictId);
		expect(index.forPair({ kind: 'person', bId: 'b1' })?.conflictId).toBe(linked.conflictId);
		expect(index.forPair({ kind: 'group', aId: 'a1' })).toBeUndefined();
		expect(index.forPair({ kind: 'person', aId: 'a3' })).toBeUndefined();
	});

	test('names come from the answer, then the snapshots; reasons from the conflict id', () => {
		const [x] = answersOf([], [r('changed-vs-removed:person:1', [ref('a', 'a1')])], plan);
		expect(x).toMatchObject({ reason: 'changed-vs-removed', removedSide: 'b' });
		expect(withNames(x, (_s, _k, id) => (id === 'a1' ? 'Anne' : undefined)).who).toEqual([
			{ side: 'a', kind: 'person', id: 'a1', name: 'Anne' }
		]);
		expect(reasonOf('not-a-reason:person:1')).toBeUndefined();
	});
});
