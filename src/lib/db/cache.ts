/** The last answer of read-only API routes, so each screen has something true to show offline. */
import type { RostersyncDb } from './schema';

export async function remember<T>(db: RostersyncDb, key: string, value: T): Promise<T> {
	await db.cache.put({ key, value, at: new Date().toISOString() });
	return value;
}

export async function recall<T>(db: RostersyncDb, key: string): Promise<{ value: T; at: string } | undefined> {
	const entry = await db.cache.get(key);
	return entry ? { value: entry.value as T, at: entry.at } : undefined;
}
