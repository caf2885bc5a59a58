/**
 * A link's runs in SQLite: one row per run with its counters, every operation of every run with its
 * outcome (the journal, which progress, resume and undo read), the baseline drafts a run commits at
 * its end, and the outbox of notices its operations deliver. Everything that grows with a run is in
 * rows and read a page at a time.
 */
import type { BaselineEntry, DraftEntry, Op, OpOutcome, OutcomeStatus, PlanCounts, RunTally } from '$lib/core';
import { STEP } from '$lib/core';
import { insertRows } from './rows';
import type { RunError, RunPhase, RunStatus, RunSummary, StartedBy } from './types';

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
	stop_by: string | null;
	stop_at: number | null;
}

const RUN_COLUMNS =
	'seq, id, dry_run, started_by, status, phase, started_at, finished_at, counts, total, done, failed, skipped, staged, error, undo_of, undone_by, irreversible, stop_by, stop_at';

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

export class RunJournal {
	constructor(
		private readonly sql: SqlStorage,
		private readonly transaction: <T>(fn: () => T) => T,
		/** The link's id (set once its configuration is known): run summaries name it. */
		public linkId: string
	) {}

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
				// Memberships by group within their steps, so a slice's memberships of one group go as one batch.
				`INSERT INTO journal (run_id, seq, key, op) SELECT ?, row_number() OVER (ORDER BY step, CASE WHEN step IN (${STEP.memberships}, ${STEP.membershipRemovals}) THEN json_extract(op, '$.group') END, part, seq) - 1, key, op FROM plan_ops`,
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

	/** Records that `by` asked the run to stop; the engine stops at its next operation boundary. */
	requestStop(runId: string, by: string, at: number): void {
		this.sql.exec('UPDATE runs SET stop_by = ?, stop_at = ? WHERE id = ? AND stop_by IS NULL', by, at, runId);
	}

	/** True once someone asked the run to stop (asked between operations: one indexed read). */
	stopRequested(runId: string): boolean {
		return (
			this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM runs WHERE id = ? AND stop_by IS NOT NULL', runId).one()
				.n > 0
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
		if (r.stop_by !== null && r.stop_at !== null) out.stopRequested = { by: r.stop_by, at: iso(r.stop_at) };
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

	/** Every operation of a run with its outcome (none yet: not applied), page by page. */
	*entries(runId: string): Generator<{ op: Op; outcome?: OpOutcome }> {
		for (let offset = 0; ; offset += 500) {
			const page = this.journalPage(runId, offset, 500);
			yield* page;
			if (page.length < 500) return;
		}
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
