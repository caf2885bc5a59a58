/**
 * The outbox in IndexedDB (fake-indexeddb): answers are kept until the edge accepts them, a send
 * that fails keeps them, stale ones come back with what changed, and a reopened database (a
 * reload, a closed tab) still has every one.
 */
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { Resolution } from '../../src/lib/core';
import { RostersyncDb, enqueue, flush, markStale, outboxOf, type FlushDeps, type SendAnswer } from '../../src/lib/db';

const ref = (side: 'a' | 'b', id: string, version = 'v1') => ({ side, kind: 'person' as const, id, version });
const answer = (conflictId: string, choice: Resolution['choice'] = 'take-a'): Resolution => ({
	conflictId,
	choice,
	against: [ref('a', 'a1'), ref('b', 'b1')]
});

let db: RostersyncDb;
let n = 0;
beforeEach(() => {
	db = new RostersyncDb(`outbox-${++n}`);
});
afterEach(async () => {
	db.close();
});

const offline = Object.assign(new Error('The edge cannot be reached'), { offline: true });
const deps = (send: FlushDeps['send']): FlushDeps => ({
	db,
	send,
	classify: (e) =>
		(e as { offline?: boolean }).offline
			? { retry: true, message: 'offline' }
			: { retry: false, message: (e as Error).message }
});

describe('outbox', () => {
	test('a new answer to the same conflict replaces the earlier one and bumps its revision', async () => {
		await enqueue(db, 'L1', answer('c1', 'take-a'));
		const second = await enqueue(db, 'L1', answer('c1', 'take-b'));
		const all = await outboxOf(db, 'L1');
		expect(all).toHaveLength(1);
		expect(all[0]).toMatchObject({ state: 'pending', rev: 2, resolution: { choice: 'take-b' } });
		expect(second.createdAt).toBe(all[0].createdAt);
	});

	test.each([
		// [case, what the edge does, outbox after, accepted store after]
		['accepted: leaves the outbox, joins the accepted resolutions', 'accept', [], ['c1']],
		['stale: stays, marked stale with what changed', 'stale', ['c1:stale'], []],
		['offline: stays pending, one more attempt', 'offline', ['c1:pending'], []],
		['refused (400): stays, marked rejected with the reason', 'refuse', ['c1:rejected'], []],
		['silence: neither accepted nor stale stays pending', 'silent', ['c1:pending'], []]
	] as const)('%s', async (_name, edge, outboxAfter, acceptedAfter) => {
		await enqueue(db, 'L1', answer('c1'));
		const send = async (_link: string, rs: Resolution[]): Promise<SendAnswer> => {
			if (edge === 'offline') throw offline;
			if (edge === 'refuse') throw new Error('resolution of "c1": link is required');
			if (edge === 'accept') return { accepted: rs.map((r) => r.conflictId), stale: [] };
			if (edge === 'stale')
				return {
					accepted: [],
					stale: [{ resolution: rs[0], changed: [{ then: ref('a', 'a1'), now: ref('a', 'a1', 'v2') }] }]
				};
			return { accepted: [], stale: [] };
		};
		await flush(deps(send));
		const after = await outboxOf(db, 'L1');
		expect(after.map((e) => `${e.conflictId}:${e.state}`)).toEqual(outboxAfter);
		expect((await db.resolutions.toArray()).map((r) => r.conflictId)).toEqual(acceptedAfter);
		if (edge === 'stale') expect(after[0].changed?.[0].now?.version).toBe('v2');
		if (edge === 'offline') expect(after[0]).toMatchObject({ attempts: 1, lastError: 'offline' });
		if (edge === 'refuse') expect(after[0].lastError).toContain('link is required');
	});

	test('an answer changed while it was being sent is never deleted by the older send', async () => {
		await enqueue(db, 'L1', answer('c1', 'take-a'));
		await flush(
			deps(async (_l, rs) => {
				await enqueue(db, 'L1', answer('c1', 'take-b')); // the person answers again mid-flight
				return { accepted: rs.map((r) => r.conflictId), stale: [] };
			})
		);
		const left = await outboxOf(db, 'L1');
		expect(left).toHaveLength(1);
		expect(left[0]).toMatchObject({ state: 'pending', resolution: { choice: 'take-b' } });
	});

	test('offline: the first unreachable link stops the flush; every link keeps its answers', async () => {
		await enqueue(db, 'L1', answer('c1'));
		await enqueue(db, 'L2', answer('c2'));
		let calls = 0;
		const report = await flush(
			deps(async () => {
				calls++;
				throw offline;
			})
		);
		expect(calls).toBe(1);
		expect(report).toMatchObject({ waiting: 2, accepted: 0 });
		expect((await outboxOf(db)).map((e) => e.state)).toEqual(['pending', 'pending']);
	});

	test('batches per link, in one request each', async () => {
		await enqueue(db, 'L1', answer('c1'));
		await enqueue(db, 'L1', answer('c2'));
		await enqueue(db, 'L2', answer('c3'));
		const sent: string[] = [];
		const report = await flush(
			deps(async (link, rs) => {
				sent.push(`${link}:${rs.map((r) => r.conflictId).join(',')}`);
				return { accepted: rs.map((r) => r.conflictId), stale: [] };
			})
		);
		expect(sent.sort()).toEqual(['L1:c1,c2', 'L2:c3']);
		expect(report).toMatchObject({ sent: 3, accepted: 3, links: expect.arrayContaining(['L1', 'L2']) });
		expect(await outboxOf(db)).toEqual([]);
	});

	test('nothing typed is lost when the database is closed and opened again (a reload)', async () => {
		const name = db.name;
		await enqueue(db, 'L1', answer('c1', 'ignore'));
		db.close();
		db = new RostersyncDb(name);
		expect((await outboxOf(db, 'L1')).map((e) => e.resolution.choice)).toEqual(['ignore']);
	});

	test('a local reconciliation marks pending answers stale, leaving others alone', async () => {
		await enqueue(db, 'L1', answer('c1'));
		await enqueue(db, 'L1', answer('c2'));
		await markStale(db, 'L1', [{ resolution: answer('c1'), changed: [{ then: ref('a', 'a1') }] }]);
		const byId = Object.fromEntries((await outboxOf(db, 'L1')).map((e) => [e.conflictId, e.state]));
		expect(byId).toEqual({ c1: 'stale', c2: 'pending' });
	});
});
