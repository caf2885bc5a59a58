/** Snapshots in IndexedDB: one row per person, the rest of the snapshot in one meta row. */
import Dexie, { type IndexableTypeArrayReadonly } from 'dexie';
import type { Person, Side, Snapshot } from '$lib/core';
import type { RostersyncDb, SnapshotMeta } from './schema';

const personRange = (db: RostersyncDb, linkId: string, side: Side) =>
	db.people.where(':id').between([linkId, side, Dexie.minKey], [linkId, side, Dexie.maxKey], true, true);

/** Replaces the stored snapshot of one side of a link, in one transaction. */
export async function saveSnapshot(db: RostersyncDb, linkId: string, side: Side, snapshot: Snapshot): Promise<void> {
	const { people, ...rest } = snapshot;
	const keys = new Array<[string, Side, string]>(people.length);
	for (let i = 0; i < people.length; i++) keys[i] = [linkId, side, people[i].id];
	const meta: SnapshotMeta = { ...rest, linkId, side, peopleCount: people.length, storedAt: new Date().toISOString() };
	await db.transaction('rw', db.people, db.snapshots, async () => {
		const old = await db.snapshots.get([linkId, side]);
		if (old && old.peopleCount > 0) await personRange(db, linkId, side).delete();
		await db.people.bulkPut(people, keys as unknown as IndexableTypeArrayReadonly);
		await db.snapshots.put(meta);
	});
}

export async function snapshotMeta(db: RostersyncDb, linkId: string, side: Side): Promise<SnapshotMeta | undefined> {
	return db.snapshots.get([linkId, side]);
}

/** The stored snapshot of one side, or undefined when none was stored yet. */
export async function loadSnapshot(db: RostersyncDb, linkId: string, side: Side): Promise<Snapshot | undefined> {
	return db.transaction('r', db.people, db.snapshots, async () => {
		const meta = await db.snapshots.get([linkId, side]);
		if (!meta) return undefined;
		const people: Person[] = await personRange(db, linkId, side).toArray();
		const { linkId: _l, side: _s, peopleCount: _c, storedAt: _t, ...rest } = meta;
		return { ...rest, people };
	});
}

/** Deletes everything stored for a link (it was deleted on the edge). */
export async function forgetLink(db: RostersyncDb, linkId: string): Promise<void> {
	await db.transaction(
		'rw',
		[db.people, db.snapshots, db.plans, db.baselines, db.conflicts, db.resolutions],
		async () => {
			for (const side of ['a', 'b'] as const) await personRange(db, linkId, side).delete();
			await db.snapshots.where('linkId').equals(linkId).delete();
			await db.plans.where('linkId').equals(linkId).delete();
			await db.baselines.delete(linkId);
			await db.conflicts.where('linkId').equals(linkId).delete();
			await db.resolutions.where('linkId').equals(linkId).delete();
		}
	);
}
