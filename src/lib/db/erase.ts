/**
 * Erasing what this browser keeps of the account, for a sign-out on what may be a shared tablet:
 * every table of the database (snapshots, people, plans, baselines, conflicts, resolutions, the
 * outbox, cached answers) and any answer of the API that CacheStorage holds.
 */
import type { RostersyncDb } from './schema';

/** Answers erasing would lose: every outbox entry is one the edge has not accepted (yet). */
export function unsentCount(db: RostersyncDb): Promise<number> {
	return db.outbox.count();
}

/** Empties every table in one transaction: all of it goes, or nothing does. */
export async function eraseDatabase(db: RostersyncDb): Promise<void> {
	await db.transaction('rw', db.tables, () => Promise.all(db.tables.map((table) => table.clear())));
}

/**
 * Deletes every API answer from CacheStorage, in whatever cache holds one, and returns how many.
 * The service worker stores none today (src/service-worker.ts); this keeps a sign-out complete
 * whatever cached one. The app shell stays: it is the same for everyone and opens the app offline.
 */
export async function eraseCachedAnswers(storage: CacheStorage): Promise<number> {
	let erased = 0;
	for (const name of await storage.keys()) {
		const cache = await storage.open(name);
		for (const request of await cache.keys()) {
			if (new URL(request.url).pathname.startsWith('/api/') && (await cache.delete(request))) erased++;
		}
	}
	return erased;
}
