/**
 * The browser's local store (IndexedDB through Dexie): both snapshots of each link, the plan being
 * reviewed, its conflicts, the resolutions the edge accepted, and the outbox of resolutions that
 * wait to be sent. The page and the reconcile Web Worker open the same database.
 */
import Dexie, { type Table } from 'dexie';
import type {
	BaselineEntry,
	Conflict,
	Person,
	Reconciliation,
	RecordKind,
	Resolution,
	Side,
	Snapshot,
	StaleResolution
} from '$lib/core';

/** A snapshot without its people: they live one row each in `people` (key [linkId, side, id]). */
export interface SnapshotMeta extends Omit<Snapshot, 'people'> {
	linkId: string;
	side: Side;
	/** How many people rows belong to it. */
	peopleCount: number;
	/** When this browser stored it (ISO). */
	storedAt: string;
}

/** Where a stored reconciliation came from: the edge (the truth online) or this browser's worker. */
export const PLAN_SOURCES = ['edge', 'local'] as const;
export type PlanSource = (typeof PLAN_SOURCES)[number];

/**
 * A reconciliation as the review needs it: pairs, conflicts, counts. The plan's operations and
 * its baseline drafts are left out (the baseline is stored on its own), which keeps a 100k-person
 * plan small enough to write and read back quickly.
 */
export type ReviewPlan = Omit<Reconciliation, 'plan'> & {
	plan: Pick<Reconciliation['plan'], 'linkId' | 'versions' | 'counts'>;
};

export interface StoredPlan {
	linkId: string;
	source: PlanSource;
	/** ISO instant it was computed (edge) or previewed (local). */
	at: string;
	reconciliation: ReviewPlan;
}

export interface StoredBaseline {
	linkId: string;
	entries: BaselineEntry[];
}

export interface StoredConflict extends Conflict {
	linkId: string;
}

/** A resolution the edge accepted and stores. */
export interface AcceptedResolution {
	linkId: string;
	conflictId: string;
	resolution: Resolution;
	/** When this device's send was accepted (ISO, this device's clock); absent when listed by the edge. */
	acceptedAt?: string;
}

export const OUTBOX_STATES = ['pending', 'stale', 'rejected'] as const;
/**
 * `pending`: waits to be sent. `stale`: the edge (or a reconciliation) found that a record
 * changed since it was made: it waits for another look. `rejected`: the edge refused it (kept,
 * never dropped, until the person resolves again or dismisses it).
 */
export type OutboxState = (typeof OUTBOX_STATES)[number];

export interface OutboxEntry {
	linkId: string;
	conflictId: string;
	resolution: Resolution;
	state: OutboxState;
	/** Bumped on every change, so a send that raced an edit never deletes the newer answer. */
	rev: number;
	createdAt: string;
	updatedAt: string;
	attempts: number;
	lastError?: string;
	/** For a stale entry: each record as the person saw it and as it is now. */
	changed?: StaleResolution['changed'];
	/** The conflict as it stood when the person answered it, to show it again. */
	conflict?: Conflict;
	/** The records the answer names, with the names the person saw: the outbox says to whom. */
	who?: RecordName[];
}

/** A record as the person saw it when answering. */
export interface RecordName {
	side: Side;
	kind: RecordKind;
	id: string;
	name: string;
}

/** The last answer of a read-only API route, so screens have something to show offline. */
export interface CacheEntry {
	key: string;
	value: unknown;
	at: string;
}

export class RostersyncDb extends Dexie {
	people!: Table<Person, [string, Side, string]>;
	snapshots!: Table<SnapshotMeta, [string, Side]>;
	plans!: Table<StoredPlan, [string, PlanSource]>;
	baselines!: Table<StoredBaseline, string>;
	conflicts!: Table<StoredConflict, [string, string]>;
	resolutions!: Table<AcceptedResolution, [string, string]>;
	outbox!: Table<OutboxEntry, [string, string]>;
	cache!: Table<CacheEntry, string>;

	constructor(name = 'rostersync') {
		super(name);
		// Versions are append-only: a new schema is a new version() with an upgrade, never an edit.
		this.version(1).stores({
			// Outbound keys [linkId, side, personId]: the stored person is exactly the snapshot's
			// record, so its digest (the version a resolution is made against) stays the same.
			people: '',
			snapshots: '[linkId+side], linkId',
			plans: '[linkId+source], linkId',
			baselines: 'linkId',
			conflicts: '[linkId+id], linkId',
			resolutions: '[linkId+conflictId], linkId',
			outbox: '[linkId+conflictId], linkId, state',
			cache: 'key'
		});
	}
}

let shared: RostersyncDb | undefined;

/** The app's database, opened on first use (the page and the worker each hold one handle). */
export function getDb(): RostersyncDb {
	return (shared ??= new RostersyncDb());
}
