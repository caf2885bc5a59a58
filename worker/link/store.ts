/**
 * The link's SQLite storage, as the run engine and the Durable Object need it. Everything that can
 * grow with the directories (baseline, journal, drafts, the current plan) is kept in rows, never
 * in one value: a 100k-person link has 100k+ baseline entries and a run as many operations, and a
 * SQLite value is capped at 2 MB. Reads that could be large are paged or streamed.
 */
export type { PlanMeta } from './plan-store';
import type {
	BaselineEntry,
	BaselineMember,
	DraftEntry,
	LinkConfig,
	Op,
	OpOutcome,
	OutcomeStatus,
	PlanCounts,
	OwnedCounts,
	Resolution,
	RunTally
} from '$lib/core';
import { PLAN_SCHEMA, PlanStore, type PlanMeta } from './plan-store';
import { insertRows } from './rows';
import { SNAPSHOT_SCHEMA, SnapshotStore } from './snapshots';
import type { RunError, RunPhase, RunStatus, RunSummary, StagedDeletes, StartedBy } from './types';

/** The tables, created on every start (IF NOT EXISTS): add columns and tables, never rename. */
const SCHEMA = [
	// config (LinkConfig), versions, nextRunAt, activeRun, plan (summary of the current plan)
	`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS baseline (kind TEXT NOT NULL, a TEXT NOT NULL, b TEXT NOT NULL, entry TEXT NOT NULL)`,
	`CREATE INDEX IF NOT EXISTS baseline_pair ON baseline (kind, a, b)`,
	// Which part each person entry of the baseline went to in the latest reconciliation.
	`CREATE TABLE IF NOT EXISTS baseline_parts (rid INTEGER PRIMARY KEY, part INTEGER NOT NULL)`,
	`CREATE INDEX IF NOT EXISTS baseline_parts_part ON baseline_parts (part)`,
	// Plans before parts were one JSON text in pieces.
	`DROP TABLE IF EXISTS plan_chunks`,
	`CREATE TABLE IF NOT EXISTS resolutions (conflict_id TEXT PRIMARY KEY, resolution TEXT NOT NULL, stored_at INTEGER NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS runs (
		seq INTEGER PRIMARY KEY AUTOINCREMENT,
		id TEXT NOT NULL UNIQUE,
		dry_run INTEGER NOT NULL,
		started_by TEXT NOT NULL,
		status TEXT NOT NULL,
		phase TEXT NOT NULL,
		started_at INTEGER NOT NULL,
		finished_at INTEGER,
		counts TEXT NOT NULL,
		total INTEGER NOT NULL DEFAULT 0,
		done INTEGER NOT NULL DEFAULT 0,
		failed INTEGER NOT NULL DEFAULT 0,
		skipped INTEGER NOT NULL DEFAULT 0,
		staged INTEGER NOT NULL DEFAULT 0,
		error TEXT,
		undo_of TEXT,
		undone_by TEXT,
		irreversible TEXT
	)`,
	// The journal: every operation of every run with its before-values (inside the op) and outcome.
	// `started` is set before the write goes out; a started op without outcome was cut off.
	`CREATE TABLE IF NOT EXISTS journal (
		run_id TEXT NOT NULL,
		seq INTEGER NOT NULL,
		key TEXT NOT NULL,
		op TEXT NOT NULL,
		started INTEGER NOT NULL DEFAULT 0,
		status TEXT,
		outcome TEXT,
		PRIMARY KEY (run_id, seq)
	)`,
	`CREATE INDEX IF NOT EXISTS journal_key ON journal (run_id, key)`,
	`CREATE INDEX IF NOT EXISTS journal_status ON journal (run_id, status, seq)`,
	// What the baseline becomes once the run's operations succeed (plan.next), committed at the end.
	`CREATE TABLE IF NOT EXISTS drafts (run_id TEXT NOT NULL, seq INTEGER NOT NULL, draft TEXT NOT NULL, PRIMARY KEY (run_id, seq))`,
	// Baseline rows a run removed and added, so undoing the run restores the baseline too.
	`CREATE TABLE IF NOT EXISTS baseline_journal (run_id TEXT NOT NULL, seq INTEGER NOT NULL, action TEXT NOT NULL, entry TEXT NOT NULL, PRIMARY KEY (run_id, seq))`,
	// The outbox of emails (invitations, transfer notices). A mail provider binding would read the
	// rows with sent_at NULL, send them and set sent_at; nothing sends mail yet.
	`CREATE TABLE IF NOT EXISTS notices (
		run_id TEXT NOT NULL,
		key TEXT NOT NULL,
		type TEXT NOT NULL,
		system TEXT NOT NULL,
		person TEXT NOT NULL,
		payload TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		sent_at INTEGER,
		PRIMARY KEY (run_id, key)
	)`
];

export interface Notice {
	runId: string;
	key: string;
	type: 'invite' | 'notify-transfer';
	/** The system the person is on, and the person's id there. */
	system: string;
	person: string;
	payload: Record<string, unknown>;
	createdAt: number;
}

/** One journal row as the engine reads it. */
export interface JournalRow {
	seq: number;
	op: Op;
	started: boolean;
}

interface RunRow {
	[k: string]: SqlStorageValue;
	seq: number;
	id: string;
	dry_run: number;
	started_by: string;
	status: string;
	phase: string;
	started_at: number;
	finished_at: number | null;
	counts: string;
	total: number;
	done: number;
	failed: number;
	skipped: number;
	staged: number;
	error: string | null;
	undo_of: string | null;
	undone_by: string | null;
	irreversible: string | null;
}

const RUN_COLUMNS =
	'seq, id, dry_run, started_by, status, phase, started_at, finished_at, counts, total, done, failed, skipped, staged, error, undo_of, undone_by, irreversible';

export const emptyCounts = (): PlanCounts => ({ total: 0, staged: 0, byType: {}, bySide: { a: 0, b: 0 } });

const iso = (ms: number) => new Date(ms).toISOString();

export interface NewRun {
	id: string;
	dryRun: boolean;
	startedBy: StartedBy;
	startedAt: number;
	phase: RunPhase;
	undoOf?: string;
}

export class LinkStore {
	readonly snapshots: SnapshotStore;
	readonly plan: PlanStore;

	constructor(
		private readonly storage: DurableObjectStorage,
		/** The link's id (set once its configuration is known): runs name it. */
		public linkId: string
	) {
		const transaction = <T>(fn: () => T): T => this.transaction(fn);
		this.snapshots = new SnapshotStore(storage.sql, transaction);
		this.plan = new PlanStore(
			storage.sql,
			transaction,
			(key) => this.getMeta(key),
			(key, value) => this.setMeta(key, value)
		);
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

	/** Creates the tables; called under blockConcurrencyWhile before anything else. */
	migrate(): void {
		for (const statement of [...SCHEMA, ...SNAPSHOT_SCHEMA, ...PLAN_SCHEMA]) this.sql.exec(statement);
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

	// ---- baseline -------------------------------------------------------------------------

	baselineEntries(): BaselineEntry[] {
		const out: BaselineEntry[] = [];
		for (const row of this.sql.exec<{ entry: string }>('SELECT entry FROM baseline')) out.push(JSON.parse(row.entry));
		return out;
	}

	baselineSize(): number {
		return this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM baseline').one().n;
	}

	/** The person pairs of the baseline, by id only (for the partition index). */
	*personPairs(): Generator<{ a: string; b: string }> {
		for (const row of this.sql.exec<{ a: string; b: string }>("SELECT a, b FROM baseline WHERE kind = 'person'"))
			yield row;
	}

	/** Which kinds the baseline says were synced (see the core's baselineHad). */
	baselineHad(): Record<'person' | 'group', boolean> {
		const had = { person: false, group: false };
		const rows = this.sql.exec<{ kind: 'person' | 'group' }>(
			"SELECT DISTINCT kind FROM baseline WHERE coalesce(json_extract(entry, '$.lifecycle.state'), 'active') = 'active'"
		);
		for (const row of rows) had[row.kind] = true;
		return had;
	}

	/** What the link owns (see the core's ownedCounts), counted in SQL rather than parsed entry by entry. */
	ownedCounts(): OwnedCounts {
		const row = this.sql
			.exec<{ people: number; groups: number; memberships: number }>(
				`SELECT
					coalesce(sum(kind = 'person' AND coalesce(json_extract(entry, '$.lifecycle.state'), 'active') = 'active'), 0) AS people,
					coalesce(sum(kind = 'group'), 0) AS groups,
					coalesce(sum(CASE WHEN kind = 'group' THEN coalesce(json_array_length(entry, '$.members'), 0) ELSE 0 END), 0) AS memberships
				FROM baseline`
			)
			.one();
		return { people: row.people, groups: row.groups, memberships: row.memberships };
	}

	/** Records the part of each person entry (`partOf` its id on side A). */
	assignBaselineParts(partOf: (a: string) => number): void {
		this.sql.exec('DELETE FROM baseline_parts');
		const rows = this.sql
			.exec<{ rid: number; a: string }>("SELECT rowid AS rid, a FROM baseline WHERE kind = 'person'")
			.toArray();
		for (let i = 0; i < rows.length; i += 2000) {
			this.transaction(() =>
				insertRows(
					this.sql,
					'baseline_parts',
					['rid', 'part'],
					rows.slice(i, i + 2000).map(({ rid, a }) => [rid, partOf(a)])
				)
			);
		}
	}

	/** A part's baseline: its people's entries, and every group's with only the part's members. */
	baselineOfPart(part: number, memberPart: (m: BaselineMember) => number): BaselineEntry[] {
		const out: BaselineEntry[] = [];
		for (const row of this.sql.exec<{ entry: string }>(
			'SELECT b.entry FROM baseline b JOIN baseline_parts p ON p.rid = b.rowid WHERE p.part = ?',
			part
		))
			out.push(JSON.parse(row.entry));
		for (const row of this.sql.exec<{ entry: string }>("SELECT entry FROM baseline WHERE kind = 'group'")) {
			const e = JSON.parse(row.entry) as BaselineEntry;
			if (e.members) e.members = e.members.filter((m) => memberPart(m) === part);
			out.push(e);
		}
		return out;
	}

	insertBaseline(entry: BaselineEntry): void {
		this.sql.exec(
			'INSERT INTO baseline (kind, a, b, entry) VALUES (?, ?, ?, ?)',
			entry.kind,
			entry.a,
			entry.b,
			JSON.stringify(entry)
		);
	}

	deleteBaseline(entry: Pick<BaselineEntry, 'kind' | 'a' | 'b'>): void {
		this.sql.exec('DELETE FROM baseline WHERE kind = ? AND a = ? AND b = ?', entry.kind, entry.a, entry.b);
	}

	journalBaseline(runId: string, action: 'del' | 'ins', entry: BaselineEntry): void {
		this.sql.exec(
			'INSERT INTO baseline_journal (run_id, seq, action, entry) VALUES (?, (SELECT coalesce(max(seq), 0) + 1 FROM baseline_journal WHERE run_id = ?), ?, ?)',
			runId,
			runId,
			action,
			JSON.stringify(entry)
		);
	}

	/** The baseline changes of a run, newest first (the order to revert them in). */
	*baselineChanges(runId: string): Generator<{ action: 'del' | 'ins'; entry: BaselineEntry }> {
		for (const row of this.sql.exec<{ action: string; entry: string }>(
			'SELECT action, entry FROM baseline_journal WHERE run_id = ? ORDER BY seq DESC',
			runId
		)) {
			yield { action: row.action as 'del' | 'ins', entry: JSON.parse(row.entry) };
		}
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

	// ---- runs -----------------------------------------------------------------------------

	insertRun(run: NewRun, counts: PlanCounts = emptyCounts()): void {
		this.sql.exec(
			'INSERT INTO runs (id, dry_run, started_by, status, phase, started_at, counts, total, undo_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
			run.id,
			run.dryRun ? 1 : 0,
			JSON.stringify(run.startedBy),
			'running',
			run.phase,
			run.startedAt,
			JSON.stringify(counts),
			counts.total,
			run.undoOf ?? null
		);
	}

	/** Stores a run's planned operations (and the baseline drafts of a real run) and moves it on. */
	planRun(
		runId: string,
		ops: readonly Op[],
		drafts: readonly DraftEntry[],
		counts: PlanCounts,
		phase: RunPhase,
		irreversible?: { key: string; reason: string }[]
	): void {
		this.transaction(() => {
			this.sql.exec('DELETE FROM journal WHERE run_id = ?', runId);
			this.sql.exec('DELETE FROM drafts WHERE run_id = ?', runId);
			ops.forEach((op, seq) =>
				this.sql.exec(
					'INSERT INTO journal (run_id, seq, key, op) VALUES (?, ?, ?, ?)',
					runId,
					seq,
					op.key,
					JSON.stringify(op)
				)
			);
			drafts.forEach((d, seq) =>
				this.sql.exec('INSERT INTO drafts (run_id, seq, draft) VALUES (?, ?, ?)', runId, seq, JSON.stringify(d))
			);
			this.sql.exec(
				'UPDATE runs SET counts = ?, total = ?, phase = ?, irreversible = ? WHERE id = ?',
				JSON.stringify(counts),
				ops.length,
				phase,
				irreversible ? JSON.stringify(irreversible) : null,
				runId
			);
		});
	}

	/** Stores the current plan's operations as a run's (and its drafts, for a real run) and moves it on. */
	planRunFromCurrent(runId: string, withDrafts: boolean, counts: PlanCounts, phase: RunPhase): void {
		this.transaction(() => {
			this.sql.exec('DELETE FROM journal WHERE run_id = ?', runId);
			this.sql.exec('DELETE FROM drafts WHERE run_id = ?', runId);
			this.sql.exec(
				'INSERT INTO journal (run_id, seq, key, op) SELECT ?, row_number() OVER (ORDER BY step, part, seq) - 1, key, op FROM plan_ops',
				runId
			);
			if (withDrafts) {
				this.sql.exec('INSERT INTO drafts (run_id, seq, draft) SELECT ?, seq, draft FROM plan_drafts', runId);
				// Entries the plan lets go end with the run, as commitBaseline leaves them out.
				let seq = this.sql.exec<{ n: number }>('SELECT coalesce(max(seq), 0) AS n FROM plan_drafts').one().n;
				const rows: SqlStorageValue[][] = [];
				for (const { entry } of this.sql.exec<{ entry: string }>('SELECT entry FROM plan_dropped ORDER BY seq')) {
					const e = JSON.parse(entry) as BaselineEntry;
					const draft: DraftEntry = {
						kind: e.kind,
						a: { id: e.a },
						b: { id: e.b },
						origin: e.origin,
						fields: e.fields,
						opKeys: [],
						previous: e,
						retire: true
					};
					rows.push([runId, ++seq, JSON.stringify(draft)]);
				}
				insertRows(this.sql, 'drafts', ['run_id', 'seq', 'draft'], rows);
			}
			const total = this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM journal WHERE run_id = ?', runId).one().n;
			this.sql.exec(
				'UPDATE runs SET counts = ?, total = ?, phase = ? WHERE id = ?',
				JSON.stringify(counts),
				total,
				phase,
				runId
			);
		});
	}

	setPhase(runId: string, phase: RunPhase): void {
		this.sql.exec('UPDATE runs SET phase = ? WHERE id = ?', phase, runId);
	}

	finishRun(runId: string, status: Exclude<RunStatus, 'running'>, at: number, error?: RunError): void {
		this.sql.exec(
			'UPDATE runs SET status = ?, phase = ?, finished_at = ?, error = ? WHERE id = ?',
			status,
			'finished',
			at,
			error ? JSON.stringify(error) : null,
			runId
		);
	}

	markUndone(runId: string, by: string): void {
		this.sql.exec('UPDATE runs SET undone_by = ? WHERE id = ?', by, runId);
	}

	runRow(runId: string): RunRow | undefined {
		return this.sql.exec<RunRow>(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = ?`, runId).toArray()[0];
	}

	run(runId: string): RunSummary | undefined {
		const row = this.runRow(runId);
		return row ? this.summary(row) : undefined;
	}

	phase(runId: string): RunPhase | undefined {
		return this.runRow(runId)?.phase as RunPhase | undefined;
	}

	runs(limit: number): RunSummary[] {
		return this.sql
			.exec<RunRow>(`SELECT ${RUN_COLUMNS} FROM runs ORDER BY seq DESC LIMIT ?`, limit)
			.toArray()
			.map((r) => this.summary(r));
	}

	/** The runs that were not dry runs, newest first (read lazily: callers stop at the first that counts). */
	*realRuns(): Generator<RunSummary> {
		for (const row of this.sql.exec<RunRow>(`SELECT ${RUN_COLUMNS} FROM runs WHERE dry_run = 0 ORDER BY seq DESC`))
			yield this.summary(row);
	}

	lastRun(): RunSummary | undefined {
		return this.runs(1)[0];
	}

	private summary(r: RunRow): RunSummary {
		const tally: RunTally = {
			total: r.total,
			done: r.done,
			failed: r.failed,
			skipped: r.skipped,
			staged: r.staged,
			pending: Math.max(0, r.total - r.done - r.failed - r.skipped - r.staged)
		};
		const out: RunSummary = {
			id: r.id,
			linkId: this.linkId,
			dryRun: r.dry_run === 1,
			startedBy: JSON.parse(r.started_by),
			status: r.status as RunStatus,
			startedAt: iso(r.started_at),
			counts: JSON.parse(r.counts),
			tally
		};
		if (r.finished_at !== null) {
			out.finishedAt = iso(r.finished_at);
			out.durationMs = r.finished_at - r.started_at;
		}
		if (r.error) out.error = JSON.parse(r.error);
		if (r.undo_of) out.undoOf = r.undo_of;
		if (r.undone_by) out.undoneBy = r.undone_by;
		if (r.irreversible) out.irreversible = JSON.parse(r.irreversible);
		return out;
	}

	// ---- the journal ----------------------------------------------------------------------

	/** Up to `limit` operations of a run that have no outcome yet, in run order. */
	pending(runId: string, limit: number): JournalRow[] {
		return this.sql
			.exec<{ seq: number; op: string; started: number }>(
				'SELECT seq, op, started FROM journal WHERE run_id = ? AND status IS NULL ORDER BY seq LIMIT ?',
				runId,
				limit
			)
			.toArray()
			.map((r) => ({ seq: r.seq, op: JSON.parse(r.op) as Op, started: r.started === 1 }));
	}

	/** The outcomes recorded for these operation keys. */
	outcomes(runId: string, keys: Iterable<string>): Map<string, OpOutcome> {
		const out = new Map<string, OpOutcome>();
		const list = [...new Set(keys)];
		// Bound the number of bindings per statement (SQLite allows 100 in Durable Objects).
		for (let i = 0; i < list.length; i += 90) {
			const batch = list.slice(i, i + 90);
			const rows = this.sql.exec<{ outcome: string }>(
				`SELECT outcome FROM journal WHERE run_id = ? AND outcome IS NOT NULL AND key IN (${batch.map(() => '?').join(',')})`,
				runId,
				...batch
			);
			for (const row of rows) {
				const o = JSON.parse(row.outcome) as OpOutcome;
				out.set(o.key, o);
			}
		}
		return out;
	}

	/** One operation of a run by key (for notices: the create that made a person). */
	op(runId: string, key: string): Op | undefined {
		const row = this.sql
			.exec<{ op: string }>('SELECT op FROM journal WHERE run_id = ? AND key = ?', runId, key)
			.toArray()[0];
		return row ? JSON.parse(row.op) : undefined;
	}

	/** Marks operations as started (about to be applied), in one transaction. */
	markStarted(runId: string, keys: readonly string[]): void {
		if (keys.length === 0) return;
		this.transaction(() => {
			for (const key of keys) this.sql.exec('UPDATE journal SET started = 1 WHERE run_id = ? AND key = ?', runId, key);
		});
	}

	/** Clears the started mark of operations that were marked ahead but never sent. */
	unmarkStarted(runId: string, keys: readonly string[]): void {
		if (keys.length === 0) return;
		this.transaction(() => {
			for (const key of keys)
				this.sql.exec('UPDATE journal SET started = 0 WHERE run_id = ? AND key = ? AND status IS NULL', runId, key);
		});
	}

	/** Records an outcome and counts it, atomically (with the notice it delivers, if any). */
	recordOutcome(runId: string, outcome: OpOutcome, notice?: Notice): void {
		const column = COUNTERS[outcome.status];
		this.transaction(() => {
			const changed = this.sql.exec(
				'UPDATE journal SET status = ?, outcome = ? WHERE run_id = ? AND key = ? AND status IS NULL',
				outcome.status,
				JSON.stringify(outcome),
				runId,
				outcome.key
			).rowsWritten;
			// An outcome is recorded once: a second one (a resumed slice racing an old one) is ignored.
			if (changed === 0) return;
			this.sql.exec(`UPDATE runs SET ${column} = ${column} + 1 WHERE id = ?`, runId);
			if (notice) {
				this.sql.exec(
					'INSERT OR IGNORE INTO notices (run_id, key, type, system, person, payload, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
					notice.runId,
					notice.key,
					notice.type,
					notice.system,
					notice.person,
					JSON.stringify(notice.payload),
					notice.createdAt
				);
			}
		});
	}

	/** A page of a run's operations with their outcomes, in run order. */
	journalPage(runId: string, offset: number, limit: number): { op: Op; outcome?: OpOutcome }[] {
		return this.sql
			.exec<{ op: string; outcome: string | null }>(
				'SELECT op, outcome FROM journal WHERE run_id = ? ORDER BY seq LIMIT ? OFFSET ?',
				runId,
				limit,
				offset
			)
			.toArray()
			.map((r) => (r.outcome ? { op: JSON.parse(r.op), outcome: JSON.parse(r.outcome) } : { op: JSON.parse(r.op) }));
	}

	/** The operations of a run that succeeded, with their outcomes (what undo reverses). */
	doneOps(runId: string): { ops: Op[]; outcomes: Map<string, OpOutcome> } {
		const ops: Op[] = [];
		const outcomes = new Map<string, OpOutcome>();
		for (const row of this.sql.exec<{ op: string; outcome: string }>(
			"SELECT op, outcome FROM journal WHERE run_id = ? AND status = 'done' ORDER BY seq",
			runId
		)) {
			const op = JSON.parse(row.op) as Op;
			ops.push(op);
			outcomes.set(op.key, JSON.parse(row.outcome));
		}
		return { ops, outcomes };
	}

	// ---- drafts ---------------------------------------------------------------------------

	drafts(runId: string, afterSeq: number, limit: number): { seq: number; draft: DraftEntry }[] {
		return this.sql
			.exec<{ seq: number; draft: string }>(
				'SELECT seq, draft FROM drafts WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?',
				runId,
				afterSeq,
				limit
			)
			.toArray()
			.map((r) => ({ seq: r.seq, draft: JSON.parse(r.draft) }));
	}

	dropDrafts(runId: string): void {
		this.sql.exec('DELETE FROM drafts WHERE run_id = ?', runId);
	}

	// ---- notices --------------------------------------------------------------------------

	notices(runId?: string): Notice[] {
		const rows = runId
			? this.sql.exec<Record<string, SqlStorageValue>>(
					'SELECT * FROM notices WHERE run_id = ? ORDER BY created_at, key',
					runId
				)
			: this.sql.exec<Record<string, SqlStorageValue>>('SELECT * FROM notices ORDER BY created_at, key');
		return rows.toArray().map((r) => ({
			runId: String(r.run_id),
			key: String(r.key),
			type: r.type as Notice['type'],
			system: String(r.system),
			person: String(r.person),
			payload: JSON.parse(String(r.payload)),
			createdAt: Number(r.created_at)
		}));
	}
}

const COUNTERS: Record<OutcomeStatus, 'done' | 'failed' | 'skipped' | 'staged'> = {
	done: 'done',
	failed: 'failed',
	skipped: 'skipped',
	staged: 'staged'
};
