/**
 * A system's rules in its RulesDO's SQLite: each rule's configuration, the memberships it added and
 * still owns (its journal: one row per person, written as each operation succeeds), its runs with
 * every operation and outcome, and the queue of work the alarm does one job at a time.
 *
 * Tables are created with IF NOT EXISTS: a new column or table is added the same way, never by
 * editing an existing statement.
 */
import type { Op, OpOutcome, Role, RuleJournal, RunStatus, RunTally } from '$lib/core';
import type { RuleConfig, RuleRunDetails, RuleRunSummary, RuleTrigger } from '$lib/api/rules';
import type { RunError } from '$lib/api/types';

export interface StoredRule extends RuleConfig {
	id: string;
	systemId: string;
	groupName: string;
	enabled: boolean;
	createdAt: string;
	updatedAt: string;
}

/** Work for the alarm: one run prepared by a request, or an application of every enabled rule. */
export type Job =
	{ seq: number; kind: 'run'; runId: string } | { seq: number; kind: 'apply-all'; trigger: RuleTrigger };

export interface NewRuleRun {
	id: string;
	ruleId: string;
	dryRun: boolean;
	trigger: RuleTrigger;
	startedBy?: string;
	undoOf?: string;
}

type Row = Record<string, SqlStorageValue>;

const iso = () => new Date().toISOString();

export class RulesStore {
	constructor(
		private readonly sql: SqlStorage,
		readonly transaction: <T>(fn: () => T) => T
	) {}

	migrate(): void {
		this.sql.exec(`CREATE TABLE IF NOT EXISTS rules (
			id TEXT PRIMARY KEY, system_id TEXT NOT NULL, config TEXT NOT NULL, enabled INTEGER NOT NULL,
			group_name TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`);
		this.sql.exec(`CREATE TABLE IF NOT EXISTS owned (
			rule_id TEXT NOT NULL, group_id TEXT NOT NULL, person_id TEXT NOT NULL, role TEXT NOT NULL,
			PRIMARY KEY (rule_id, person_id))`);
		this.sql.exec(`CREATE TABLE IF NOT EXISTS runs (
			seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, rule_id TEXT NOT NULL,
			dry_run INTEGER NOT NULL, trigger TEXT NOT NULL, started_by TEXT, status TEXT NOT NULL,
			planned INTEGER NOT NULL DEFAULT 0, started_at TEXT NOT NULL, finished_at TEXT,
			total INTEGER NOT NULL DEFAULT 0, done INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,
			skipped INTEGER NOT NULL DEFAULT 0, add_n INTEGER NOT NULL DEFAULT 0, remove_n INTEGER NOT NULL DEFAULT 0,
			role_n INTEGER NOT NULL DEFAULT 0, error TEXT, undo_of TEXT, undone_by TEXT)`);
		this.sql.exec('CREATE INDEX IF NOT EXISTS runs_by_rule ON runs (rule_id, seq)');
		this.sql.exec(`CREATE TABLE IF NOT EXISTS run_ops (
			run_id TEXT NOT NULL, seq INTEGER NOT NULL, key TEXT NOT NULL, op TEXT NOT NULL,
			person_name TEXT, outcome TEXT, PRIMARY KEY (run_id, seq))`);
		this.sql.exec(`CREATE TABLE IF NOT EXISTS jobs (
			seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, run_id TEXT, trigger TEXT)`);
	}

	private rows(query: string, ...bindings: unknown[]): Row[] {
		return this.sql.exec<Row>(query, ...bindings).toArray();
	}

	// ---- rules --------------------------------------------------------------------------------

	rules(): StoredRule[] {
		return this.rows('SELECT * FROM rules ORDER BY created_at, id').map(ruleOf);
	}

	rule(id: string): StoredRule | undefined {
		const row = this.rows('SELECT * FROM rules WHERE id = ?', id)[0];
		return row ? ruleOf(row) : undefined;
	}

	putRule(rule: StoredRule): void {
		const { id, systemId, groupName, enabled, createdAt, updatedAt, ...config } = rule;
		this.sql.exec(
			`INSERT INTO rules (id, system_id, config, enabled, group_name, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
			 ON CONFLICT(id) DO UPDATE SET config = excluded.config, enabled = excluded.enabled,
			 group_name = excluded.group_name, updated_at = excluded.updated_at`,
			id,
			systemId,
			JSON.stringify(config),
			enabled ? 1 : 0,
			groupName,
			createdAt,
			updatedAt
		);
	}

	setEnabled(id: string, enabled: boolean): void {
		this.sql.exec('UPDATE rules SET enabled = ?, updated_at = ? WHERE id = ?', enabled ? 1 : 0, iso(), id);
	}

	deleteRule(id: string): void {
		this.transaction(() => {
			for (const run of this.rows('SELECT id FROM runs WHERE rule_id = ?', id))
				this.sql.exec('DELETE FROM run_ops WHERE run_id = ?', run.id);
			this.sql.exec('DELETE FROM runs WHERE rule_id = ?', id);
			this.sql.exec('DELETE FROM owned WHERE rule_id = ?', id);
			this.sql.exec('DELETE FROM rules WHERE id = ?', id);
		});
	}

	// ---- the journal: memberships each rule owns -----------------------------------------------

	journal(ruleId: string): RuleJournal {
		const added: Record<string, Role> = {};
		for (const row of this.rows('SELECT person_id, role FROM owned WHERE rule_id = ?', ruleId))
			added[String(row.person_id)] = row.role as Role;
		return { ruleId, added };
	}

	ownedCount(ruleId: string): number {
		return Number(this.rows('SELECT COUNT(*) AS n FROM owned WHERE rule_id = ?', ruleId)[0].n);
	}

	/** Every membership a rule of this system owns (what links leave alone). */
	allOwned(): { groupId: string; personId: string }[] {
		return this.rows('SELECT DISTINCT group_id, person_id FROM owned').map((r) => ({
			groupId: String(r.group_id),
			personId: String(r.person_id)
		}));
	}

	/** Replaces a rule's journal (after pruning what is gone from the group). */
	setJournal(ruleId: string, groupId: string, journal: RuleJournal): void {
		this.transaction(() => {
			this.sql.exec('DELETE FROM owned WHERE rule_id = ?', ruleId);
			for (const [personId, role] of Object.entries(journal.added))
				this.sql.exec(
					'INSERT INTO owned (rule_id, group_id, person_id, role) VALUES (?, ?, ?, ?)',
					ruleId,
					groupId,
					personId,
					role
				);
		});
	}

	// ---- runs ---------------------------------------------------------------------------------

	insertRun(run: NewRuleRun): void {
		this.sql.exec(
			'INSERT INTO runs (id, rule_id, dry_run, trigger, started_by, status, started_at, undo_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
			run.id,
			run.ruleId,
			run.dryRun ? 1 : 0,
			run.trigger,
			run.startedBy ?? null,
			'running',
			iso(),
			run.undoOf ?? null
		);
		if (run.undoOf) this.sql.exec('UPDATE runs SET undone_by = ? WHERE id = ?', run.id, run.undoOf);
	}

	/** Stores a run's plan: its operations (with the names of their people) and its counts. */
	planRun(runId: string, ops: readonly Op[], names: ReadonlyMap<string, string>): void {
		this.transaction(() => {
			ops.forEach((op, i) => {
				const personId = 'person' in op && 'id' in op.person ? op.person.id : undefined;
				this.sql.exec(
					'INSERT INTO run_ops (run_id, seq, key, op, person_name) VALUES (?, ?, ?, ?, ?)',
					runId,
					i,
					op.key,
					JSON.stringify(op),
					personId === undefined ? null : (names.get(personId) ?? null)
				);
			});
			const n = (t: Op['type']) => ops.filter((o) => o.type === t).length;
			this.sql.exec(
				'UPDATE runs SET planned = 1, total = ?, add_n = ?, remove_n = ?, role_n = ? WHERE id = ?',
				ops.length,
				n('add-membership'),
				n('remove-membership'),
				n('set-role'),
				runId
			);
		});
	}

	planned(runId: string): boolean {
		return Number(this.rows('SELECT planned FROM runs WHERE id = ?', runId)[0]?.planned ?? 0) === 1;
	}

	/** A run's operations and the outcomes recorded so far. */
	runOps(runId: string): { ops: Op[]; outcomes: Map<string, OpOutcome> } {
		const ops: Op[] = [];
		const outcomes = new Map<string, OpOutcome>();
		for (const row of this.rows('SELECT op, outcome FROM run_ops WHERE run_id = ? ORDER BY seq', runId)) {
			const op = JSON.parse(String(row.op)) as Op;
			ops.push(op);
			if (row.outcome !== null) outcomes.set(op.key, JSON.parse(String(row.outcome)));
		}
		return { ops, outcomes };
	}

	/**
	 * One operation's outcome, its run's counters and the rule's journal, in one transaction: the
	 * journal records only what succeeded, and exactly when it did.
	 */
	recordOutcome(runId: string, ruleId: string, groupId: string, op: Op, outcome: OpOutcome): void {
		this.transaction(() => {
			this.sql.exec(
				'UPDATE run_ops SET outcome = ? WHERE run_id = ? AND key = ?',
				JSON.stringify(outcome),
				runId,
				op.key
			);
			const column = outcome.status === 'done' ? 'done' : outcome.status === 'failed' ? 'failed' : 'skipped';
			this.sql.exec(`UPDATE runs SET ${column} = ${column} + 1 WHERE id = ?`, runId);
			if (outcome.status !== 'done' || !('person' in op) || !('id' in op.person)) return;
			if (op.type === 'add-membership' || op.type === 'set-role')
				this.sql.exec(
					'INSERT INTO owned (rule_id, group_id, person_id, role) VALUES (?, ?, ?, ?) ON CONFLICT(rule_id, person_id) DO UPDATE SET role = excluded.role, group_id = excluded.group_id',
					ruleId,
					groupId,
					op.person.id,
					op.role
				);
			else if (op.type === 'remove-membership')
				this.sql.exec('DELETE FROM owned WHERE rule_id = ? AND person_id = ?', ruleId, op.person.id);
		});
	}

	finishRun(runId: string, status: RunStatus, error?: RunError): void {
		this.sql.exec(
			'UPDATE runs SET status = ?, finished_at = ?, error = ? WHERE id = ?',
			status,
			iso(),
			error ? JSON.stringify(error) : null,
			runId
		);
		// An undo that changed nothing did not undo its run: that run can be undone again.
		if (status === 'failed')
			this.sql.exec(
				'UPDATE runs SET undone_by = NULL WHERE undone_by = ?1 AND (SELECT done FROM runs WHERE id = ?1) = 0',
				runId
			);
	}

	/** Forgets a run (an application that found nothing to do is not history). */
	dropRun(runId: string): void {
		this.sql.exec('DELETE FROM run_ops WHERE run_id = ?', runId);
		this.sql.exec('DELETE FROM runs WHERE id = ?', runId);
	}

	run(runId: string): RuleRunSummary | undefined {
		const row = this.rows('SELECT * FROM runs WHERE id = ?', runId)[0];
		return row ? runOf(row) : undefined;
	}

	runs(ruleId: string, limit: number): RuleRunSummary[] {
		return this.rows('SELECT * FROM runs WHERE rule_id = ? ORDER BY seq DESC LIMIT ?', ruleId, limit).map(runOf);
	}

	lastRun(ruleId: string): RuleRunSummary | undefined {
		return this.runs(ruleId, 1)[0];
	}

	runningOf(ruleId: string): string | undefined {
		const row = this.rows(
			"SELECT id FROM runs WHERE rule_id = ? AND status = 'running' ORDER BY seq LIMIT 1",
			ruleId
		)[0];
		return row ? String(row.id) : undefined;
	}

	details(runId: string, offset: number, limit: number): RuleRunDetails | undefined {
		const run = this.run(runId);
		if (!run) return undefined;
		const ops = this.rows(
			'SELECT op, outcome, person_name FROM run_ops WHERE run_id = ? ORDER BY seq LIMIT ? OFFSET ?',
			runId,
			limit,
			offset
		).map((row) => ({
			op: JSON.parse(String(row.op)) as Op,
			...(row.outcome !== null ? { outcome: JSON.parse(String(row.outcome)) as OpOutcome } : {}),
			...(row.person_name !== null ? { personName: String(row.person_name) } : {})
		}));
		return { ...run, ops, offset, limit };
	}

	// ---- jobs ---------------------------------------------------------------------------------

	enqueue(job: { kind: 'run'; runId: string } | { kind: 'apply-all'; trigger: RuleTrigger }): void {
		// One waiting application of every rule is enough: it reads the system when its turn comes.
		if (job.kind === 'apply-all' && this.rows("SELECT 1 FROM jobs WHERE kind = 'apply-all'").length > 0) return;
		this.sql.exec(
			'INSERT INTO jobs (kind, run_id, trigger) VALUES (?, ?, ?)',
			job.kind,
			job.kind === 'run' ? job.runId : null,
			job.kind === 'apply-all' ? job.trigger : null
		);
	}

	nextJob(): Job | undefined {
		const row = this.rows('SELECT * FROM jobs ORDER BY seq LIMIT 1')[0];
		if (!row) return undefined;
		return row.kind === 'run'
			? { seq: Number(row.seq), kind: 'run', runId: String(row.run_id) }
			: { seq: Number(row.seq), kind: 'apply-all', trigger: row.trigger as RuleTrigger };
	}

	doneJob(seq: number): void {
		this.sql.exec('DELETE FROM jobs WHERE seq = ?', seq);
	}

	wipe(): void {
		for (const table of ['rules', 'owned', 'runs', 'run_ops', 'jobs']) this.sql.exec(`DELETE FROM ${table}`);
	}
}

function ruleOf(row: Row): StoredRule {
	const config = JSON.parse(String(row.config)) as RuleConfig;
	return {
		...config,
		id: String(row.id),
		systemId: String(row.system_id),
		groupName: String(row.group_name),
		enabled: Number(row.enabled) === 1,
		createdAt: String(row.created_at),
		updatedAt: String(row.updated_at)
	};
}

function runOf(row: Row): RuleRunSummary {
	const total = Number(row.total);
	const done = Number(row.done);
	const failed = Number(row.failed);
	const skipped = Number(row.skipped);
	const tally: RunTally = {
		total,
		done,
		failed,
		skipped,
		staged: 0,
		pending: Math.max(0, total - done - failed - skipped)
	};
	const run: RuleRunSummary = {
		id: String(row.id),
		ruleId: String(row.rule_id),
		dryRun: Number(row.dry_run) === 1,
		trigger: row.trigger as RuleTrigger,
		status: row.status as RunStatus,
		startedAt: String(row.started_at),
		tally,
		counts: { add: Number(row.add_n), remove: Number(row.remove_n), role: Number(row.role_n) }
	};
	if (row.started_by !== null) run.startedBy = String(row.started_by);
	if (row.finished_at !== null) run.finishedAt = String(row.finished_at);
	if (row.error !== null) run.error = JSON.parse(String(row.error));
	if (row.undo_of !== null) run.undoOf = String(row.undo_of);
	if (row.undone_by !== null) run.undoneBy = String(row.undone_by);
	return run;
}
