/**
 * The link's SQLite schema as an append-only list of migrations: each runs once, in its own
 * transaction, in order, and is recorded with its number. A Durable Object created long ago and
 * one created now end with the same tables; a start with nothing new to apply runs nothing.
 *
 * These migrations are append-only: never edit, reorder or remove one that has shipped (Durable
 * Objects out there have run it); add a new one at the end. A new table, column or index of any
 * link store (baseline, run journal, snapshots, plan) is a new migration here.
 *
 * The version is kept in a table of its own, not in `PRAGMA user_version`: Durable Objects refuse
 * that pragma (SQLITE_AUTH).
 */

/** What a migration needs of a Durable Object's storage. */
export interface MigrationStorage {
	readonly sql: SqlStorage;
	transactionSync<T>(fn: () => T): T;
}

export interface Migration {
	/** Says what it does, for the log of a start that applied it. */
	name: string;
	/** SQL statements run in order, or a function for what statements cannot say. */
	up: readonly string[] | ((sql: SqlStorage) => void);
}

/** The migrations of a LinkDO. Append only (see above). */
export const LINK_MIGRATIONS: readonly Migration[] = [
	{
		// The tables as they were when migrations began. Objects created before then already have
		// them (made on every start with IF NOT EXISTS): this adds whatever they lack and no more.
		name: 'link tables',
		up: [
			// config (LinkConfig), versions, nextRunAt, activeRun, plan (summary of the current plan)
			`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
			`CREATE TABLE IF NOT EXISTS baseline (kind TEXT NOT NULL, a TEXT NOT NULL, b TEXT NOT NULL, entry TEXT NOT NULL)`,
			`CREATE INDEX IF NOT EXISTS baseline_pair ON baseline (kind, a, b)`,
			// Which part each person entry of the baseline went to in the latest reconciliation.
			`CREATE TABLE IF NOT EXISTS baseline_parts (rid INTEGER PRIMARY KEY, part INTEGER NOT NULL)`,
			`CREATE INDEX IF NOT EXISTS baseline_parts_part ON baseline_parts (part)`,
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
			)`,
			// The latest scan of each side (worker/link/snapshots.ts).
			`CREATE TABLE IF NOT EXISTS snap_people (side TEXT NOT NULL, id TEXT NOT NULL, part INTEGER NOT NULL DEFAULT 0, rec TEXT NOT NULL, PRIMARY KEY (side, id))`,
			`CREATE INDEX IF NOT EXISTS snap_people_part ON snap_people (side, part)`,
			`CREATE TABLE IF NOT EXISTS snap_groups (side TEXT NOT NULL, id TEXT NOT NULL, rec TEXT NOT NULL, PRIMARY KEY (side, id))`,
			`CREATE TABLE IF NOT EXISTS snap_members (side TEXT NOT NULL, group_id TEXT NOT NULL, person_id TEXT NOT NULL, role TEXT NOT NULL, PRIMARY KEY (side, group_id, person_id))`,
			`CREATE INDEX IF NOT EXISTS snap_members_person ON snap_members (side, person_id)`,
			// Scratch: each person's part, written in bulk and folded into snap_people in one statement.
			`CREATE TABLE IF NOT EXISTS snap_parts (side TEXT NOT NULL, id TEXT NOT NULL, part INTEGER NOT NULL, PRIMARY KEY (side, id))`,
			// The current plan in rows (worker/link/plan-store.ts).
			// `removal`: a person's removal view (`side\0id`), so staging can note it.
			`CREATE TABLE IF NOT EXISTS plan_views (seq INTEGER PRIMARY KEY, removal TEXT, view TEXT NOT NULL)`,
			`CREATE INDEX IF NOT EXISTS plan_views_removal ON plan_views (removal) WHERE removal IS NOT NULL`,
			`CREATE TABLE IF NOT EXISTS plan_conflicts (seq INTEGER PRIMARY KEY, conflict TEXT NOT NULL)`,
			// `part`: -1 for group operations (merged over the parts); `tag`: the group an op goes with.
			`CREATE TABLE IF NOT EXISTS plan_ops (seq INTEGER PRIMARY KEY, key TEXT NOT NULL, step INTEGER NOT NULL, part INTEGER NOT NULL, tag TEXT, staged INTEGER NOT NULL DEFAULT 0, op TEXT NOT NULL)`,
			`CREATE INDEX IF NOT EXISTS plan_ops_key ON plan_ops (key)`,
			`CREATE INDEX IF NOT EXISTS plan_ops_tag ON plan_ops (tag) WHERE tag IS NOT NULL`,
			`CREATE INDEX IF NOT EXISTS plan_ops_order ON plan_ops (step, part, seq)`,
			// Drafts: what the baseline becomes; prev_* name the entry each one replaces.
			`CREATE TABLE IF NOT EXISTS plan_drafts (seq INTEGER PRIMARY KEY, prev_kind TEXT, prev_a TEXT, prev_b TEXT, draft TEXT NOT NULL)`,
			`CREATE INDEX IF NOT EXISTS plan_drafts_prev ON plan_drafts (prev_kind, prev_a, prev_b)`,
			`CREATE TABLE IF NOT EXISTS plan_fragments (key TEXT NOT NULL, part INTEGER NOT NULL, draft TEXT NOT NULL, PRIMARY KEY (key, part))`,
			// The baseline entries the plan leaves as they are, and those it lets go (neither kept nor
			// replaced by a draft: a pair whose records are both gone, an anonymized person, an entry a
			// recreate replaces). A run's commit deletes the dropped ones, as the core's commitBaseline does.
			`CREATE TABLE IF NOT EXISTS plan_kept (seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, a TEXT NOT NULL, b TEXT NOT NULL, entry TEXT NOT NULL)`,
			`CREATE INDEX IF NOT EXISTS plan_kept_pair ON plan_kept (kind, a, b)`,
			`CREATE TABLE IF NOT EXISTS plan_dropped (seq INTEGER PRIMARY KEY, entry TEXT NOT NULL)`,
			// Staged removals of the current plan, per threshold conflict.
			`CREATE TABLE IF NOT EXISTS staged (conflict_id TEXT PRIMARY KEY, kind TEXT NOT NULL, side TEXT NOT NULL, count INTEGER NOT NULL, total INTEGER NOT NULL, lim TEXT NOT NULL)`,
			`CREATE TABLE IF NOT EXISTS staged_ops (conflict_id TEXT NOT NULL, seq INTEGER NOT NULL, op TEXT NOT NULL, PRIMARY KEY (conflict_id, seq))`
		]
	},
	{
		// Plans before parts were one JSON text in pieces (plan_chunks); the plan's kept entries
		// were plan_keep before plan_kept. Objects from those days still hold them.
		name: 'drop the plan tables of before parts',
		up: [`DROP TABLE IF EXISTS plan_chunks`, `DROP TABLE IF EXISTS plan_keep`]
	},
	{
		// An owner may stop a running run: who asked and when, read between operations.
		name: 'runs record a request to stop',
		up: [`ALTER TABLE runs ADD COLUMN stop_by TEXT`, `ALTER TABLE runs ADD COLUMN stop_at INTEGER`]
	},
	{
		// Closed incidents received by the webhook, one row per push (worker/link/incidents.ts).
		name: 'incident pushes',
		up: [
			`CREATE TABLE IF NOT EXISTS incident_pushes (
				key TEXT PRIMARY KEY, incident_id TEXT NOT NULL, title TEXT NOT NULL, kind TEXT NOT NULL,
				system TEXT NOT NULL, record TEXT NOT NULL, unmapped TEXT NOT NULL, state TEXT NOT NULL,
				attempts INTEGER NOT NULL, next_at INTEGER, last_error TEXT, target_id TEXT,
				received_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, journal TEXT NOT NULL)`,
			`CREATE INDEX IF NOT EXISTS incident_pushes_due ON incident_pushes (next_at)`
		]
	}
];

/** Where the applied migrations are recorded: one row each, numbered from 1. */
const VERSION_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`;

/** The number of the last migration applied to this storage (0 for none). */
export function schemaVersion(storage: MigrationStorage): number {
	storage.sql.exec(VERSION_TABLE);
	return storage.sql.exec<{ v: number }>('SELECT coalesce(max(version), 0) AS v FROM schema_migrations').one().v;
}

/**
 * Applies the migrations this storage has not run yet, each in one transaction with the row that
 * records it: a migration that throws leaves nothing of itself behind, and the ones after it wait
 * for the next start. Returns the names of those applied (none on a start with nothing new).
 */
export function migrate(
	storage: MigrationStorage,
	migrations: readonly Migration[] = LINK_MIGRATIONS,
	now = Date.now()
): string[] {
	const applied: string[] = [];
	for (let version = schemaVersion(storage) + 1; version <= migrations.length; version++) {
		const migration = migrations[version - 1];
		storage.transactionSync(() => {
			if (typeof migration.up === 'function') migration.up(storage.sql);
			else for (const statement of migration.up) storage.sql.exec(statement);
			storage.sql.exec(
				'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
				version,
				migration.name,
				now
			);
		});
		applied.push(migration.name);
	}
	return applied;
}
