/**
 * The link's SQLite storage, as the run engine and the Durable Object need it: the composition of
 * the link's stores (baseline, run journal, snapshots, current plan) with what belongs to the link
 * as a whole (its meta values, resolutions, the schema's migrations, the reconciliation lock).
 * Everything that can grow with the directories is kept in rows, never in one value: a 100k-person
 * link has 100k+ baseline entries and a run as many operations, and a SQLite value is capped at 2 MB.
 */
export type { PlanMeta } from './plan-store';
export type { JournalRow, NewRun, Notice } from './run-journal';
import type { LinkConfig, Resolution } from '$lib/core';
import { BaselineStore } from './baseline-store';
import { migrate } from './migrations';
import { PlanStore, type PlanMeta } from './plan-store';
import { RunJournal } from './run-journal';
import { SnapshotStore } from './snapshots';
import type { StagedDeletes } from './types';

export class LinkStore {
	readonly baseline: BaselineStore;
	readonly journal: RunJournal;
	readonly snapshots: SnapshotStore;
	readonly plan: PlanStore;

	constructor(
		private readonly storage: DurableObjectStorage,
		/** The link's id (set once its configuration is known): runs name it. */
		linkId: string
	) {
		const transaction = <T>(fn: () => T): T => this.transaction(fn);
		this.baseline = new BaselineStore(storage.sql, transaction);
		this.journal = new RunJournal(storage.sql, transaction, linkId);
		this.snapshots = new SnapshotStore(storage.sql, transaction, {
			get: <T>(key: string) => this.getMeta<T>(key),
			set: (key, value) => this.setMeta(key, value)
		});
		this.plan = new PlanStore(
			storage.sql,
			transaction,
			(key) => this.getMeta(key),
			(key, value) => this.setMeta(key, value)
		);
	}

	get linkId(): string {
		return this.journal.linkId;
	}

	set linkId(id: string) {
		this.journal.linkId = id;
	}

	private get sql(): SqlStorage {
		return this.storage.sql;
	}

	#planning: Promise<unknown> = Promise.resolve();

	/**
	 * Runs `fn` once any reconciliation in progress has ended: reconciling writes the snapshot and
	 * plan tables across awaits (reading systems, yielding between parts), one at a time.
	 */
	exclusive<T>(fn: () => Promise<T>): Promise<T> {
		const run = this.#planning.then(fn, fn);
		this.#planning = run.catch(() => undefined);
		return run;
	}

	/**
	 * Brings the tables up to date (worker/link/migrations.ts); called under blockConcurrencyWhile
	 * before anything else. Returns the names of the migrations it applied.
	 */
	migrate(): string[] {
		return migrate(this.storage);
	}

	transaction<T>(fn: () => T): T {
		return this.storage.transactionSync(fn);
	}

	// ---- meta -----------------------------------------------------------------------------

	getMeta<T>(key: string): T | undefined {
		const row = this.sql.exec<{ value: string }>('SELECT value FROM meta WHERE key = ?', key).toArray()[0];
		return row ? (JSON.parse(row.value) as T) : undefined;
	}

	setMeta(key: string, value: unknown): void {
		if (value === undefined) this.sql.exec('DELETE FROM meta WHERE key = ?', key);
		else
			this.sql.exec(
				'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
				key,
				JSON.stringify(value)
			);
	}

	config(): LinkConfig | undefined {
		return this.getMeta<LinkConfig>('config');
	}

	// ---- resolutions ----------------------------------------------------------------------

	resolutions(): Resolution[] {
		return this.sql
			.exec<{ resolution: string }>('SELECT resolution FROM resolutions ORDER BY stored_at, conflict_id')
			.toArray()
			.map((r) => JSON.parse(r.resolution));
	}

	putResolution(resolution: Resolution, at: number): void {
		this.sql.exec(
			'INSERT INTO resolutions (conflict_id, resolution, stored_at) VALUES (?, ?, ?) ON CONFLICT(conflict_id) DO UPDATE SET resolution = excluded.resolution, stored_at = excluded.stored_at',
			resolution.conflictId,
			JSON.stringify(resolution),
			at
		);
	}

	resolution(conflictId: string): Resolution | undefined {
		const row = this.sql
			.exec<{ resolution: string }>('SELECT resolution FROM resolutions WHERE conflict_id = ?', conflictId)
			.toArray()[0];
		return row ? JSON.parse(row.resolution) : undefined;
	}

	// ---- the current plan (rows: see plan-store.ts) ---------------------------------------

	planMeta(): PlanMeta | undefined {
		return this.plan.meta();
	}

	planText(): ReadableStream<Uint8Array> | undefined {
		return this.plan.text();
	}

	staged(): Omit<StagedDeletes, 'decision'>[] {
		return this.plan.staged();
	}
}
