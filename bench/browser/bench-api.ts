/**
 * The worker side of the browser benchmark: the app's own store and reconcile path
 * (src/lib/db, src/lib/reconcile/api) on seeded drifted directories, next to the floor: the same
 * records written with raw IndexedDB in one transaction.
 */
import { makeLink, reconcile, type Snapshot } from '$lib/core';
import { RostersyncDb, loadSnapshot, remember } from '$lib/db';
import { api, linkCacheKey, useDatabase } from '$lib/reconcile/api';
import { drifted, type Drifted } from '../generate';

const LINK = 'bench';
let data: Drifted | undefined;
let db: RostersyncDb | undefined;

function rawOpen(): Promise<IDBDatabase> {
	return new Promise((resolve, reject) => {
		const req = indexedDB.open('bench-raw', 1);
		req.onupgradeneeded = () => {
			req.result.createObjectStore('people');
			req.result.createObjectStore('snapshots');
		};
		req.onsuccess = () => resolve(req.result);
		req.onerror = () => reject(req.error);
	});
}

function rawClear(raw: IDBDatabase): Promise<void> {
	return new Promise((resolve, reject) => {
		const tx = raw.transaction(['people', 'snapshots'], 'readwrite');
		tx.objectStore('people').clear();
		tx.objectStore('snapshots').clear();
		tx.oncomplete = () => resolve();
		tx.onerror = () => reject(tx.error);
	});
}

/** The floor: every person put under the same keys, plus the meta row, in one transaction. */
function rawSave(raw: IDBDatabase, snapshot: Snapshot): Promise<void> {
	return new Promise((resolve, reject) => {
		const tx = raw.transaction(['people', 'snapshots'], 'readwrite');
		const people = tx.objectStore('people');
		for (const p of snapshot.people) people.put(p, [LINK, 'a', p.id]);
		const { people: list, ...rest } = snapshot;
		tx.objectStore('snapshots').put({ ...rest, linkId: LINK, side: 'a', peopleCount: list.length }, [LINK, 'a']);
		tx.oncomplete = () => resolve();
		tx.onerror = () => reject(tx.error);
	});
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

export const bench = {
	async generate(people: number): Promise<void> {
		data = drifted({ people, groups: 5_000, membershipsPerPerson: 3, drift: 0.03, seed: 42 });
		db = new RostersyncDb('bench-dexie');
		useDatabase(db);
	},

	/** Saves side A through Dexie and raw, alternating, `runs` times each; medians in ms. */
	async save(runs: number): Promise<{ ms: number; floorMs: number }> {
		const raw = await rawOpen();
		const dexie: number[] = [];
		const floor: number[] = [];
		for (let i = 0; i < runs; i++) {
			await db!.people.clear();
			await db!.snapshots.clear();
			let t = performance.now();
			await api.saveSnapshot(LINK, 'a', data!.a);
			dexie.push(performance.now() - t);

			await rawClear(raw);
			t = performance.now();
			await rawSave(raw, data!.a);
			floor.push(performance.now() - t);
		}
		raw.close();
		return { ms: Math.round(median(dexie)), floorMs: Math.round(median(floor)) };
	},

	/** Stores side B, the link and the baseline, as a Reload would. */
	async prepareReconcile(): Promise<void> {
		await api.saveSnapshot(LINK, 'b', data!.b);
		const link = makeLink({
			id: LINK,
			name: LINK,
			mode: 'two-way',
			systems: { a: 'A', b: 'B' },
			match: { person: 'email', group: 'externalId' }
		});
		await remember(db!, linkCacheKey(LINK), { config: link, status: { enabled: false, requiresAction: 0, staged: 0 } });
		await db!.baselines.put({ linkId: LINK, entries: data!.baseline.entries });
		data = undefined; // the worker reads everything back from IndexedDB, as offline
	},

	/** The offline review's path: read both snapshots from IndexedDB, reconcile, store, summarize. */
	async preview(): Promise<{ people: number; requiresAction: number; ops: number }> {
		const s = await api.preview(LINK);
		return { people: s!.snapshots.a!.people, requiresAction: s!.requiresAction, ops: s!.planCounts.total };
	},

	/** The core's reconcile alone on the same stored data, for comparison (not on the page's clock). */
	async coreOnly(): Promise<number> {
		const a = (await loadSnapshot(db!, LINK, 'a'))!;
		const b = (await loadSnapshot(db!, LINK, 'b'))!;
		const link = makeLink({
			id: LINK,
			name: LINK,
			mode: 'two-way',
			systems: { a: 'A', b: 'B' },
			match: { person: 'email', group: 'externalId' }
		});
		const baseline = { linkId: LINK, entries: (await db!.baselines.get(LINK))!.entries };
		const t = performance.now();
		reconcile({ link, a, b, baseline, now: Date.now() });
		return Math.round(performance.now() - t);
	},

	async cleanup(): Promise<void> {
		db?.close();
		await new Promise((r) => {
			const req = indexedDB.deleteDatabase('bench-dexie');
			req.onsuccess = req.onerror = r;
		});
		await new Promise((r) => {
			const req = indexedDB.deleteDatabase('bench-raw');
			req.onsuccess = req.onerror = r;
		});
	}
};

export type BenchApi = typeof bench;
