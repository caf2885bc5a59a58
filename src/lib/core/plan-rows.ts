/**
 * A plan reconciled in parts (parts.ts) is assembled once every part is in: the operations of group
 * pairs in conflict dropped, what the limits stage marked, each group pair's draft merged from its
 * parts, the group entries the plan keeps copied from the baseline. That assembly is written once,
 * here, over one storage interface (PlanRows) with two stores: MemoryPlanRows for the tests and the
 * browser, and the edge's SQLite rows (worker/link/plan-store.ts), which hold a 100k-person plan
 * without holding it in memory.
 */
import { emptyCounts, type Reconciliation } from './reconcile';
import type { PairView } from './context';
import type { BaselineEntry, BaselineMember, Conflict } from './model';
import type { Op } from './ops';
import { countOps, type DraftEntry } from './plan';
import type { MergedParts, PartSink } from './parts';

/**
 * A group pair's draft from the parts that drafted it: their members, plus the baseline members of
 * the parts that left the pair as it was; the baseline entry it replaces is the whole one.
 */
export function mergeGroupDraft(
	fragments: readonly { part: number; draft: DraftEntry }[],
	whole: BaselineEntry | undefined,
	memberPart: (m: BaselineMember) => number
): DraftEntry {
	const parts = new Set(fragments.map((f) => f.part));
	const members: NonNullable<DraftEntry['members']> = [];
	for (const m of whole?.members ?? []) if (!parts.has(memberPart(m))) members.push(m);
	for (const f of fragments) for (const m of f.draft.members ?? []) members.push(m);
	const opKeys = [...new Set(fragments.flatMap((f) => f.draft.opKeys))];
	const { previous: _previous, ...first } = fragments[0].draft;
	return { ...first, members, opKeys, ...(whole ? { previous: whole } : {}) };
}

/** A person's removal view, named as MergedParts.stagedPeople names a staged removal (`side\0id`). */
export function personRemovalKey(v: PairView): string | undefined {
	if (v.kind !== 'person' || v.situation !== 'remove' || (v.to !== 'a' && v.to !== 'b')) return undefined;
	return `${v.to}\u0000${v[v.to]}`;
}

/** A baseline entry's identity. */
export type EntryKey = Pick<BaselineEntry, 'kind' | 'a' | 'b'>;

/** Where a plan's rows are kept while it is assembled: what the parts wrote, and the fix-ups. */
export interface PlanRows extends PartSink {
	/** Drops every operation tagged with `tag` (its group pair ends in conflict). */
	dropTagged(tag: string): void;
	/** Marks the operation `key` as staged behind a limit. */
	stage(key: string): void;
	/** Notes the person removal view `removal` (personRemovalKey) as staged. */
	noteStaged(removal: string): void;
	/** One group pair's drafts from its parts, in part order. */
	fragments(key: string): { part: number; draft: DraftEntry }[];
	/** The fragments are merged: they can go. */
	dropFragments(): void;
	/** An entry of the whole baseline (the parts only saw their own members of it). */
	baselineEntry(key: EntryKey): BaselineEntry | undefined;
}

/** Applies the merge's decisions to the rows the parts wrote (see the file comment). */
export function assemblePlan(merged: MergedParts, rows: PlanRows, memberPart: (m: BaselineMember) => number): void {
	for (const tag of merged.dropTags) rows.dropTagged(tag);
	for (const key of merged.staged) rows.stage(key);
	for (const removal of merged.stagedPeople) rows.noteStaged(removal);
	for (const key of merged.groupDrafts.keys()) {
		const fragments = rows.fragments(key);
		if (fragments.length === 0) continue;
		const previous = fragments[0].draft.previous;
		rows.draft(mergeGroupDraft(fragments, previous ? rows.baselineEntry(previous) : undefined, memberPart));
	}
	rows.dropFragments();
	for (const { a, b } of merged.keptGroups) {
		const entry = rows.baselineEntry({ kind: 'group', a, b });
		if (entry) rows.keep(entry);
	}
}

const entryKey = (e: EntryKey) => `${e.kind}|${e.a}|${e.b}`;

/** PlanRows in memory, read back as the Reconciliation one reconcile gives. */
export class MemoryPlanRows implements PlanRows {
	readonly #views: PairView[] = [];
	readonly #conflicts: Conflict[] = [];
	/** In the order the edge runs them: by step, then part (group operations, -1, first), then as written. */
	#ops: { op: Op; part: number; tag?: string; seq: number }[] = [];
	readonly #drafts: DraftEntry[] = [];
	readonly #fragments = new Map<string, { part: number; draft: DraftEntry }[]>();
	readonly #kept: BaselineEntry[] = [];
	readonly #baseline: Map<string, BaselineEntry>;

	constructor(baseline: readonly BaselineEntry[]) {
		this.#baseline = new Map(baseline.map((e) => [entryKey(e), e]));
	}

	view(v: PairView): void {
		this.#views.push(v);
	}
	conflict(c: Conflict): void {
		this.#conflicts.push(c);
	}
	op(op: Op, part: number, tag?: string): void {
		this.#ops.push({ op, part, tag, seq: this.#ops.length });
	}
	draft(d: DraftEntry): void {
		this.#drafts.push(d);
	}
	groupDraft(key: string, part: number, d: DraftEntry): void {
		const list = this.#fragments.get(key);
		if (list) list.push({ part, draft: d });
		else this.#fragments.set(key, [{ part, draft: d }]);
	}
	keep(entry: BaselineEntry): void {
		this.#kept.push(entry);
	}

	dropTagged(tag: string): void {
		this.#ops = this.#ops.filter((o) => o.tag !== tag);
	}
	stage(key: string): void {
		for (const o of this.#ops) if (o.op.key === key && !o.op.staged) o.op = { ...o.op, staged: true };
	}
	noteStaged(removal: string): void {
		this.#views.forEach((v, i) => {
			if (personRemovalKey(v) === removal) this.#views[i] = { ...v, note: 'staged' };
		});
	}
	fragments(key: string): { part: number; draft: DraftEntry }[] {
		return [...(this.#fragments.get(key) ?? [])].sort((x, y) => x.part - y.part);
	}
	dropFragments(): void {
		this.#fragments.clear();
	}
	baselineEntry(key: EntryKey): BaselineEntry | undefined {
		return this.#baseline.get(entryKey(key));
	}

	/** The assembled plan, with the parts' merged summary. */
	reconciliation(merged: MergedParts): Reconciliation {
		const ops = [...this.#ops]
			.sort((x, y) => x.op.step - y.op.step || x.part - y.part || x.seq - y.seq)
			.map((o) => o.op);
		return {
			linkId: merged.linkId,
			versions: merged.versions,
			pairs: this.#views,
			conflicts: this.#conflicts,
			stale: merged.stale,
			applied: merged.applied,
			plan: {
				linkId: merged.linkId,
				versions: merged.versions,
				ops,
				counts: countOps(ops),
				keep: this.#kept,
				next: this.#drafts
			},
			counts: merged.counts ?? emptyCounts(),
			requiresAction: merged.requiresAction,
			untouched: merged.untouched,
			fields: merged.fields
		};
	}
}
