/**
 * Erasing at sign-out (fake-indexeddb, and a CacheStorage stand-in): every table emptied at
 * once, the outbox counted first, and only API answers taken from the caches.
 */
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { reconcile } from '../../src/lib/core';
import {
	RostersyncDb,
	enqueue,
	eraseCachedAnswers,
	eraseDatabase,
	remember,
	saveEdgePlan,
	saveSnapshot,
	unsentCount,
	type StoredConflict
} from '../../src/lib/db';
import { NOW, baseline, person, snap, twoWay } from '../support/factories';

let db: RostersyncDb;
let n = 0;
beforeEach(() => {
	db = new RostersyncDb(`erase-${++n}`);
});
afterEach(() => db.close());

const counts = () => Promise.all(db.tables.map(async (t) => [t.name, await t.count()] as const));

describe('erasing the database', () => {
	test('empties every table, the outbox it counted included', async () => {
		const a = snap('A', { people: [person('p1', 'Ann')] });
		const b = snap('B', { people: [person('q1', 'Ann'), person('q2', 'Bram')] });
		await saveSnapshot(db, 'L1', 'a', a);
		await saveSnapshot(db, 'L1', 'b', b);
		await saveEdgePlan(db, reconcile({ link: twoWay(), a, b, baseline: baseline('L1'), now: NOW }));
		await db.resolutions.put({
			linkId: 'L1',
			conflictId: 'c0',
			resolution: { conflictId: 'c0', choice: 'ignore', against: [] }
		});
		await db.conflicts.put({ linkId: 'L1', id: 'c1' } as StoredConflict);
		await enqueue(db, 'L1', { conflictId: 'c1', choice: 'take-a', against: [] });
		await enqueue(db, 'L1', { conflictId: 'c2', choice: 'take-b', against: [] });
		await remember(db, 'links', [{ id: 'L1' }]);
		// Every table holds something, so "empty afterwards" says something about each.
		expect((await counts()).filter(([, count]) => count === 0)).toEqual([]);
		expect(await unsentCount(db)).toBe(2);

		await eraseDatabase(db);
		expect((await counts()).filter(([, count]) => count > 0)).toEqual([]);
		expect(await unsentCount(db)).toBe(0);
	});
});

/** The part of CacheStorage erasing uses, over maps of URL -> body. */
function cacheStorage(caches: Record<string, string[]>) {
	const store = new Map(Object.entries(caches).map(([name, urls]) => [name, new Set(urls)]));
	const storage = {
		keys: async () => [...store.keys()],
		open: async (name: string) => {
			const urls = store.get(name)!;
			return {
				keys: async () => [...urls].map((url) => new Request(url)),
				delete: async (request: Request) => urls.delete(request.url)
			};
		}
	};
	return {
		storage: storage as unknown as CacheStorage,
		left: () => Object.fromEntries([...store].map(([k, v]) => [k, [...v]]))
	};
}

describe('erasing cached answers', () => {
	test('deletes every /api/ answer in any cache and keeps the app shell', async () => {
		const { storage, left } = cacheStorage({
			'rostersync-1': ['https://app.test/', 'https://app.test/_app/x.js', 'https://app.test/api/links'],
			other: ['https://app.test/api/systems?x=1', 'https://app.test/apiary.png']
		});
		expect(await eraseCachedAnswers(storage)).toBe(2);
		expect(left()).toEqual({
			'rostersync-1': ['https://app.test/', 'https://app.test/_app/x.js'],
			other: ['https://app.test/apiary.png']
		});
	});
});
