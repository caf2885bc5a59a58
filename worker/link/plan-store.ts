/**
 * The link's current plan in rows: written part by part as the core reconciles (PlanSink), fixed
 * up once the merge has seen every part (finish), and read back as a Reconciliation's JSON text,
 * piece by piece (text). Nothing here holds a whole plan in memory.
 */
import {
	conflictId,
	CREATION_KINDS,
	creationKind,
	creationThresholdPrefix,
	irreversibleReason,
	type IrreversibleGroup,
	type OpType,
	LIMIT_KINDS,
	isRemoval,
	personRemovalKey,
	assemblePlan,
	type EntryKey,
	type PlanRows,
	opKind,
	type BaselineEntry,
	type BaselineMember,
	type Conflict,
	type DraftEntry,
	type MergedParts,
	type Op,
	type PairView,
	type PlanCounts,
	type Reconciliation,
	type Side
} from '$lib/core';
import { bySeq, insertRows, jsonStream } from './rows';
import type { StagedDeletes } from './types';

// The plan's tables are made by the link's migrations (worker/link/migrations.ts): a new table,
// column or index is a new migration there.

const PLAN_TABLES = [
	'plan_views',
	'plan_conflicts',
	'plan_ops',
	'plan_drafts',
	'plan_fragments',
	'plan_kept',
	'plan_dropped',
	'staged',
	'staged_ops'
];

/** The current plan's summary: the LinkView needs only this. */
export interface PlanMeta {
	versions: { a: string; b: string };
	computedAt: number;
	requiresAction: number;
	staged: number;
	counts: PlanCounts;
	/** Threshold conflict ids of the plan: their decision (approve/reject) settles them at once. */
	thresholds: string[];
}

const PLAN_TAG = 'plan-tag';

/** The rest of a Reconciliation that is not in rows. */
type PlanHead = Pick<
	Reconciliation,
	'linkId' | 'versions' | 'stale' | 'applied' | 'counts' | 'requiresAction' | 'untouched' | 'fields'
>;

export class PlanStore implements PlanRows {
	constructor(
		private readonly sql: SqlStorage,
		private readonly transaction: <T>(fn: () => T) => T,
		private readonly getMeta: <T>(key: string) => T | undefined,
		private readonly setMeta: (key: string, value: unknown) => void
	) {}

	/** Changes whenever the plan's rows are replaced: a stream of the old plan then stops. */
	#generation = 0;

	/** Empties the plan tables for a new plan: until it is finished, the link has no plan. */
	begin(): void {
		this.#generation++;
		this.#clearBuffers();
		this.transaction(() => {
			for (const table of PLAN_TABLES) this.sql.exec(`DELETE FROM ${table}`);
			this.setMeta('plan', undefined);
			this.setMeta('plan-head', undefined);
			this.setMeta(PLAN_TAG, undefined);
		});
	}

	/**
	 * The current plan's entity tag: new with every plan (and the snapshots it was made from), so
	 * a caller holding the plan of that tag is answered 304. Given to a plan made before tags
	 * existed on first ask. Undefined while there is no plan.
	 */
	tag(): string | undefined {
		if (!this.getMeta('plan')) return undefined;
		let tag = this.getMeta<string>(PLAN_TAG);
		if (!tag) this.setMeta(PLAN_TAG, (tag = crypto.randomUUID()));
		return tag;
	}

	// ---- PartSink: rows as the parts produce them ----------------------------------------------

	// Rows wait here until flush (after each part): written a few dozen per statement.
	#views: SqlStorageValue[][] = [];
	#conflicts: SqlStorageValue[][] = [];
	#ops: SqlStorageValue[][] = [];
	#drafts: SqlStorageValue[][] = [];
	#fragments: SqlStorageValue[][] = [];
	#kept: SqlStorageValue[][] = [];

	view(v: PairView): void {
		this.#views.push([personRemovalKey(v) ?? null, JSON.stringify(v)]);
	}

	// ---- PlanRows: what the core's assemblePlan does to the rows once every part is in ----------

	dropTagged(tag: string): void {
		this.sql.exec('DELETE FROM plan_ops WHERE tag = ?', tag);
	}

	stage(key: string): void {
		for (const row of this.sql
			.exec<{ seq: number; op: string }>('SELECT seq, op FROM plan_ops WHERE key = ? AND staged = 0', key)
			.toArray())
			this.sql.exec(
				'UPDATE plan_ops SET staged = 1, op = ? WHERE seq = ?',
				JSON.stringify({ ...JSON.parse(row.op), staged: true }),
				row.seq
			);
	}

	noteStaged(removal: string): void {
		for (const row of this.sql
			.exec<{ seq: number; view: string }>('SELECT seq, view FROM plan_views WHERE removal = ?', removal)
			.toArray())
			this.sql.exec(
				'UPDATE plan_views SET view = ? WHERE seq = ?',
				JSON.stringify({ ...JSON.parse(row.view), note: 'staged' }),
				row.seq
			);
	}

	fragments(key: string): { part: number; draft: DraftEntry }[] {
		return this.sql
			.exec<{ part: number; draft: string }>('SELECT part, draft FROM plan_fragments WHERE key = ? ORDER BY part', key)
			.toArray()
			.map((r) => ({ part: r.part, draft: JSON.parse(r.draft) as DraftEntry }));
	}

	dropFragments(): void {
		this.flush();
		this.sql.exec('DELETE FROM plan_fragments');
	}

	baselineEntry(e: EntryKey): BaselineEntry | undefined {
		const row = this.sql
			.exec<{ entry: string }>('SELECT entry FROM baseline WHERE kind = ? AND a = ? AND b = ?', e.kind, e.a, e.b)
			.toArray()[0];
		return row ? JSON.parse(row.entry) : undefined;
	}

	conflict(c: Conflict): void {
		this.#conflicts.push([JSON.stringify(c)]);
	}

	op(op: Op, part: number, group?: string): void {
		this.#ops.push([op.key, op.step, part, group ?? null, op.staged ? 1 : 0, JSON.stringify(op)]);
	}

	draft(d: DraftEntry): void {
		const p = d.previous;
		this.#drafts.push([p?.kind ?? null, p?.a ?? null, p?.b ?? null, JSON.stringify(d)]);
		// Merged group drafts arrive all at once at the end: written as they come, not held.
		if (this.#drafts.length >= 500) this.flush();
	}

	groupDraft(key: string, part: number, d: DraftEntry): void {
		this.#fragments.push([key, part, JSON.stringify(d)]);
	}

	keep(e: BaselineEntry): void {
		this.#kept.push([e.kind, e.a, e.b, JSON.stringify(e)]);
	}

	/** Writes the rows the parts produced so far (call inside a transaction). */
	flush(): void {
		insertRows(this.sql, 'plan_views', ['removal', 'view'], this.#views);
		insertRows(this.sql, 'plan_conflicts', ['conflict'], this.#conflicts);
		insertRows(this.sql, 'plan_ops', ['key', 'step', 'part', 'tag', 'staged', 'op'], this.#ops);
		insertRows(this.sql, 'plan_drafts', ['prev_kind', 'prev_a', 'prev_b', 'draft'], this.#drafts);
		insertRows(this.sql, 'plan_fragments', ['key', 'part', 'draft'], this.#fragments);
		insertRows(this.sql, 'plan_kept', ['kind', 'a', 'b', 'entry'], this.#kept);
		this.#clearBuffers();
	}

	#clearBuffers(): void {
		this.#views = [];
		this.#conflicts = [];
		this.#ops = [];
		this.#drafts = [];
		this.#fragments = [];
		this.#kept = [];
	}

	// ---- once every part is in ----------------------------------------------------------------

	/**
	 * Applies the merge's decisions to the rows: drops the operations of group pairs in conflict,
	 * stages what the limits stage, merges each group pair's drafts, copies the entries the plan
	 * keeps, and stores the staged removals and the plan's summary.
	 */
	finish(merged: MergedParts, memberPart: (m: BaselineMember) => number, computedAt: number): PlanMeta {
		return this.transaction(() => {
			this.flush();
			assemblePlan(merged, this, memberPart);
			this.flush();
			// The journal, the outcomes and the baseline go by key: two operations under one key
			// would share one outcome, and one of them would never be made. Refused, loudly.
			const shared = this.sql
				.exec<{ key: string }>('SELECT key FROM plan_ops GROUP BY key HAVING COUNT(*) > 1 LIMIT 1')
				.toArray()[0];
			if (shared) throw new Error(`Two operations of the plan share the key "${shared.key}": the plan is refused.`);
			this.sql.exec(
				`INSERT INTO plan_dropped (entry) SELECT entry FROM baseline b
				 WHERE NOT EXISTS (SELECT 1 FROM plan_kept k WHERE k.kind = b.kind AND k.a = b.a AND k.b = b.b)
				 AND NOT EXISTS (SELECT 1 FROM plan_drafts d WHERE d.prev_kind = b.kind AND d.prev_a = b.a AND d.prev_b = b.b)`
			);
			const staged = this.storeStaged(merged.thresholds);
			const counts = this.counts();
			const head: PlanHead = {
				linkId: merged.linkId,
				versions: merged.versions,
				stale: merged.stale,
				applied: merged.applied,
				counts: merged.counts,
				requiresAction: merged.requiresAction,
				untouched: merged.untouched,
				fields: merged.fields
			};
			const meta: PlanMeta = {
				versions: merged.versions,
				computedAt,
				requiresAction: merged.requiresAction,
				staged,
				counts,
				thresholds: merged.thresholds.map((c) => c.id)
			};
			this.setMeta('plan-head', head);
			this.setMeta('plan', meta);
			this.setMeta(PLAN_TAG, crypto.randomUUID());
			this.setMeta('versions', merged.versions);
			return meta;
		});
	}

	/**
	 * The staged removals and creations per threshold conflict, in one pass over the staged
	 * operations, paged.
	 */
	private storeStaged(thresholds: readonly Conflict[]): number {
		const byRemoval = new Map<string, { id: string; seq: number }>();
		for (const c of thresholds) {
			const side = c.removedSide ?? c.createdSide;
			if (!c.staged || !side) continue;
			const kind = thresholdKind(c.id, side);
			if (!kind) continue;
			byRemoval.set(`${side}:${c.createdSide ? 'create' : 'remove'}:${kind}`, { id: c.id, seq: 0 });
			this.sql.exec(
				'INSERT INTO staged (conflict_id, kind, side, count, total, lim) VALUES (?, ?, ?, ?, ?, ?)',
				c.id,
				kind,
				side,
				c.staged.count,
				c.staged.total,
				JSON.stringify(c.staged.limit)
			);
		}
		if (byRemoval.size === 0) return 0;
		const page = bySeq(
			this.sql,
			'SELECT seq, op AS v FROM plan_ops WHERE staged = 1 AND seq > ? ORDER BY seq LIMIT 500'
		);
		for (let rows = page(); rows.length > 0; rows = page()) {
			const out: SqlStorageValue[][] = [];
			for (const text of rows) {
				const op = JSON.parse(text) as Op;
				const created = creationKind(op);
				const to = created
					? byRemoval.get(`${op.side}:create:${created}`)
					: isRemoval(op)
						? byRemoval.get(`${op.side}:remove:${opKind(op)}`)
						: undefined;
				if (to) out.push([to.id, to.seq++, text]);
			}
			insertRows(this.sql, 'staged_ops', ['conflict_id', 'seq', 'op'], out);
		}
		return this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM plan_ops WHERE staged = 1').one().n;
	}

	/** Operation counts of the current plan, from its rows. */
	private counts(): PlanCounts {
		const counts: PlanCounts = { total: 0, staged: 0, byType: {}, bySide: { a: 0, b: 0 } };
		for (const row of this.sql.exec<{ type: string; side: string; staged: number; n: number }>(
			"SELECT json_extract(op, '$.type') AS type, json_extract(op, '$.side') AS side, staged, count(*) AS n FROM plan_ops GROUP BY 1, 2, 3"
		)) {
			counts.total += row.n;
			if (row.staged) counts.staged += row.n;
			const type = row.type as Op['type'];
			counts.byType[type] = (counts.byType[type] ?? 0) + row.n;
			counts.bySide[row.side as 'a' | 'b'] += row.n;
		}
		return counts;
	}

	// ---- reading it back ----------------------------------------------------------------------

	meta(): PlanMeta | undefined {
		return this.getMeta<PlanMeta>('plan');
	}

	staged(): Omit<StagedDeletes, 'decision'>[] {
		return this.sql
			.exec<{ conflict_id: string; kind: string; side: string; count: number; total: number; lim: string }>(
				'SELECT conflict_id, kind, side, count, total, lim FROM staged ORDER BY conflict_id'
			)
			.toArray()
			.map((r) => {
				const action = thresholdAction(r.conflict_id, r.side as Side);
				return {
					conflictId: r.conflict_id,
					action,
					kind: r.kind as StagedDeletes['kind'],
					side: r.side as StagedDeletes['side'],
					count: r.count,
					total: r.total,
					limit: JSON.parse(r.lim),
					ops: this.sql
						.exec<{ op: string }>('SELECT op FROM staged_ops WHERE conflict_id = ? ORDER BY seq', r.conflict_id)
						.toArray()
						.map((o) => JSON.parse(o.op) as Op),
					...(action === 'create' ? { waiting: this.waitingOn(r.conflict_id) } : {})
				};
			});
	}

	/** Operations of the plan that need a staged creation, and so wait with it, by type. */
	private waitingOn(conflictId: string): Partial<Record<Op['type'], number>> {
		const out: Partial<Record<Op['type'], number>> = {};
		for (const row of this.sql.exec<{ type: string; n: number }>(
			`WITH k AS (SELECT json_extract(op, '$.key') AS key FROM staged_ops WHERE conflict_id = ?)
			 SELECT json_extract(op, '$.type') AS type, count(*) AS n FROM plan_ops
			 WHERE json_extract(op, '$.person.createdBy') IN (SELECT key FROM k)
			    OR json_extract(op, '$.group.createdBy') IN (SELECT key FROM k)
			 GROUP BY 1`,
			conflictId
		))
			out[row.type as Op['type']] = row.n;
		return out;
	}

	/** An operation of the current plan by its key. */
	opByKey(key: string): Op | undefined {
		const row = this.sql.exec<{ op: string }>('SELECT op FROM plan_ops WHERE key = ? LIMIT 1', key).toArray()[0];
		return row ? (JSON.parse(row.op) as Op) : undefined;
	}

	/**
	 * What a run of the current plan would do, from its rows: the first `limit` operations that
	 * would run (in run order), how many more, and those that cannot be reversed, grouped.
	 */
	preview(limit: number): { ops: Op[]; more: number; irreversible: IrreversibleGroup[] } {
		const ops = this.sql
			.exec<{ op: string }>('SELECT op FROM plan_ops WHERE staged = 0 ORDER BY step, part, seq LIMIT ?', limit)
			.toArray()
			.map((r) => JSON.parse(r.op) as Op);
		const running = this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM plan_ops WHERE staged = 0').one().n;
		const irreversible: IrreversibleGroup[] = [];
		for (const row of this.sql.exec<{ type: string; soft: number | null; n: number }>(
			`SELECT json_extract(op, '$.type') AS type, json_extract(op, '$.soft') AS soft, count(*) AS n FROM plan_ops
			 WHERE staged = 0 AND json_extract(op, '$.type') IN ('invite', 'notify-transfer', 'anonymize-person', 'remove-person', 'remove-group')
			 GROUP BY 1, 2 ORDER BY min(step), 1`
		)) {
			const type = row.type as OpType;
			const reason = irreversibleReason({ type, soft: Boolean(row.soft) });
			if (reason) irreversible.push({ type, reason, count: row.n });
		}
		return { ops, more: Math.max(0, running - ops.length), irreversible };
	}

	/** The current plan as a Reconciliation's JSON text, piece by piece (undefined before the first). */
	text(): ReadableStream<Uint8Array> | undefined {
		const head = this.getMeta<PlanHead>('plan-head');
		const meta = this.meta();
		if (!head || !meta) return undefined;
		const { sql } = this;
		const j = JSON.stringify;
		const generation = this.#generation;
		const current = () => {
			if (this.#generation !== generation) throw new Error('The plan was replaced while it was read: read it again.');
		};
		// Operations in run order are paged by their position (step, part, seq), not by seq alone.
		let cursor = [-1e9, -1e9, -1e9];
		const ops = () => {
			const page = sql
				.exec<{ step: number; part: number; seq: number; v: string }>(
					'SELECT step, part, seq, op AS v FROM plan_ops WHERE (step, part, seq) > (?, ?, ?) ORDER BY step, part, seq LIMIT 2000',
					...cursor
				)
				.toArray();
			if (page.length > 0) cursor = [page[page.length - 1].step, page[page.length - 1].part, page[page.length - 1].seq];
			return page.map((r) => r.v);
		};
		return jsonStream(
			[
				`{"linkId":${j(head.linkId)},"versions":${j(head.versions)},"pairs":[`,
				bySeq(sql, 'SELECT seq, view AS v FROM plan_views WHERE seq > ? ORDER BY seq LIMIT 2000'),
				`],"conflicts":[`,
				bySeq(sql, 'SELECT seq, conflict AS v FROM plan_conflicts WHERE seq > ? ORDER BY seq LIMIT 2000'),
				`],"stale":${j(head.stale)},"applied":${j(head.applied)},"plan":{"linkId":${j(head.linkId)},"versions":${j(head.versions)},"ops":[`,
				ops,
				`],"counts":${j(meta.counts)},"keep":[`,
				bySeq(sql, 'SELECT seq, entry AS v FROM plan_kept WHERE seq > ? ORDER BY seq LIMIT 2000'),
				`],"next":[`,
				bySeq(sql, 'SELECT seq, draft AS v FROM plan_drafts WHERE seq > ? ORDER BY seq LIMIT 2000'),
				`]},"counts":${j(head.counts)},"requiresAction":${head.requiresAction},"untouched":${j(head.untouched)},"fields":${j(head.fields)}}`
			],
			current
		);
	}
}

/**
 * Which kind of removals or creations a threshold conflict holds back (its id says it; see the
 * core's thresholdFor and creationThresholdFor).
 */
export function thresholdKind(id: string, side: Side): StagedDeletes['kind'] | undefined {
	return (
		CREATION_KINDS.find((k) => id.startsWith(`${creationThresholdPrefix(side, k)}:`)) ??
		LIMIT_KINDS.find((k) =>
			id.startsWith(`${conflictId('threshold', k === 'membership' ? 'group' : k, [{ side, id: k }])}:`)
		)
	);
}

/** Whether a threshold conflict holds back creations or removals. */
export const thresholdAction = (id: string, side: Side): StagedDeletes['action'] =>
	CREATION_KINDS.some((k) => id.startsWith(`${creationThresholdPrefix(side, k)}:`)) ? 'create' : 'remove';
