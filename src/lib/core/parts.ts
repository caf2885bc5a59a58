/**
 * Reconciling a link part by part (see partition.ts) and merging the parts into the answer one
 * reconcile over the whole directories gives: the edge reconciles 100k people within 128 MB this
 * way, a part's records in memory at a time, everything else streamed into storage.
 *
 * Each part holds its people, their memberships, the baseline entries of its people, every group
 * and every group's baseline entry with only the part's members. People-level results are whole
 * within their part and go straight to the sink. Group-level results are seen by every part and
 * are merged here (they are few: a few thousand groups):
 * - group operations (create, update, remove, adopt) repeat in every part: kept once, a removal
 *   with the members each part saw;
 * - a group pair conflicts when any part finds a conflict (a member changed on both sides): its
 *   operations in every part are dropped and its baseline entry stays, as reconcile does;
 * - a group pair's baseline draft is the drafts of the parts that changed it, plus the members of
 *   the parts that did not (mergeGroupDraft);
 * - the whole's checks (an empty side) and deletion limits run over all parts' counts.
 */
import { pairConflictId, type PairView, type RuleOwned } from './context';
import type { WritableFields } from './fields';
import { PartitionIndex } from './partition';
import type {
	BaselineEntry,
	Conflict,
	Group,
	LinkConfig,
	Membership,
	Person,
	RecordKind,
	Resolution,
	Side,
	Snapshot
} from './model';
import { SIDES } from './model';
import { isRemoval, opKind, type Op } from './ops';
import { refText, type DraftEntry } from './plan';
import { assemblePlan, MemoryPlanRows } from './plan-rows';
import { emptyCounts, reconcile, type Reconciliation } from './reconcile';
import { conflictKind, type StaleResolution } from './resolutions';
import {
	assertCounts,
	baselineHad,
	countsOf,
	CREATION_KINDS,
	creationKind,
	creationThresholdFor,
	LIMIT_KINDS,
	ownedCounts,
	thresholdFor,
	totalOf,
	type OwnedCounts
} from './safety';

/** One part's records (see the file comment for what a part holds). */
export interface PartInput {
	a: Snapshot;
	b: Snapshot;
	baseline: BaselineEntry[];
}

/** Where the merged answer goes as it is produced. */
export interface PartSink {
	view(v: PairView): void;
	conflict(c: Conflict): void;
	/**
	 * An operation of `part` (-1: group operations, merged over all parts). `group` tags operations
	 * that go if their group pair ends in conflict (see MergedParts.dropTags).
	 */
	op(op: Op, part: number, group?: string): void;
	/** A person's baseline draft. */
	draft(d: DraftEntry): void;
	/** One part's draft of a group pair, merged at the end with mergeGroupDraft. */
	groupDraft(key: string, part: number, d: DraftEntry): void;
	/** A person's baseline entry the plan leaves as it is (groups: see MergedParts.keptGroups). */
	keep(e: BaselineEntry): void;
}

/** What the merge decided once every part was seen; the sink's rows are fixed up with it. */
export interface MergedParts extends Pick<
	Reconciliation,
	'linkId' | 'versions' | 'stale' | 'applied' | 'counts' | 'requiresAction' | 'untouched' | 'fields'
> {
	/** Operations tagged with these groups are dropped: their group pair is in conflict. */
	dropTags: Set<string>;
	/** Keys of operations the deletion limits stage. */
	staged: Set<string>;
	/** People whose removal is staged (`side\0id`): their pair view is noted `staged`. */
	stagedPeople: Set<string>;
	/** Group pairs with a draft (their key, and the parts that drafted them). */
	groupDrafts: Map<string, Set<number>>;
	/** The deletion limits' conflicts (also given to the sink). */
	thresholds: Conflict[];
	/** Group pairs the plan leaves as they are: their whole baseline entry is kept. */
	keptGroups: { a: string; b: string }[];
}

/** A group pair's key: its refs on both sides. */
export const groupDraftKey = (d: Pick<DraftEntry, 'a' | 'b'>): string => `${refText(d.a)}|${refText(d.b)}`;

/** Replicated in every part: one group's own operations. */
const GROUP_LEVEL = new Set<Op['type']>(['create-group', 'update-group', 'remove-group', 'adopt-group']);

/** The group an operation belongs to, for dropping it with its group pair. */
function tagOf(op: Op): string | undefined {
	switch (op.type) {
		case 'add-membership':
		case 'set-role':
		case 'remove-membership':
			return `${op.side}\u0000${refText(op.group)}`;
		case 'update-group':
			return `${op.side}\u0000${refText(op.target)}`;
		default:
			return undefined;
	}
}

const viewKey = (v: PairView) => `${v.a ?? ''}|${v.b ?? ''}`;

function mergeView(into: PairView, v: PairView): void {
	if (into.situation === 'conflict') return;
	if (v.situation === 'conflict') {
		Object.assign(into, v);
		return;
	}
	if (v.situation === 'update' && into.situation === 'in-sync') into.situation = 'update';
	if (v.fields) into.fields = [...new Set([...(into.fields ?? []), ...v.fields])];
	if (v.to && v.to !== into.to) into.to = into.to ? 'both' : v.to;
}

export class PartMerger {
	readonly #groupViews = new Map<string, PairView>();
	readonly #groupConflicts = new Map<string, Conflict>();
	readonly #groupOps = new Map<string, Op>();
	readonly #removals: {
		key: string;
		side: Side;
		kind: 'person' | 'group' | 'membership';
		tag?: string;
		target?: string;
		/** A membership removal's person: it waits with that person's staged removal. */
		person?: string;
	}[] = [];
	/**
	 * A person's revocation of access by the keys of their pair's operations: finish looks up only
	 * removals it stages, so the revocation is staged with its removal (see planAccess).
	 */
	readonly #revocations = new Map<string, string>();
	/** People this reconciliation creates, for the creation limits (groups are in #groupOps). */
	readonly #creations: { key: string; side: Side }[] = [];
	readonly #groupDrafts = new Map<string, Set<number>>();
	/** Group pairs some part kept (a part that drafted one decides for all: see finish). */
	readonly #keptGroups = new Map<string, { a: string; b: string }>();
	readonly #stale = new Map<string, StaleResolution>();
	readonly #applied = new Set<string>();
	readonly #counts = emptyCounts();
	readonly #untouched = { person: 0, group: 0 };
	#fields: WritableFields = { written: [], omitted: [] };
	#personConflicts = 0;
	#versions = { a: '', b: '' };
	#parts = 0;

	constructor(
		private readonly link: LinkConfig,
		private readonly resolutions: readonly Resolution[],
		/** What the link owns over the whole baseline: the base of the percent limits. */
		private readonly owned: OwnedCounts,
		private readonly sink: PartSink
	) {}

	add(part: number, rec: Reconciliation): void {
		const { sink } = this;
		if (this.#parts++ === 0) {
			this.#versions = rec.versions;
			this.#untouched.group = rec.untouched.group;
			this.#fields = rec.fields;
		}
		this.#untouched.person += rec.untouched.person;
		for (const v of rec.pairs) {
			if (v.kind === 'person') {
				this.#counts.person[v.situation]++;
				sink.view(v);
				continue;
			}
			const key = viewKey(v);
			const seen = this.#groupViews.get(key);
			if (seen) mergeView(seen, v);
			else this.#groupViews.set(key, { ...v });
		}
		for (const c of rec.conflicts) {
			if (c.kind === 'person') {
				this.#personConflicts++;
				sink.conflict(c);
				continue;
			}
			const seen = this.#groupConflicts.get(c.id);
			if (!seen) this.#groupConflicts.set(c.id, { ...c, ...(c.fields ? { fields: [...c.fields] } : {}) });
			else if (c.fields) {
				const have = new Set(seen.fields?.map((f) => f.field));
				for (const f of c.fields) if (!have.has(f.field)) (seen.fields ??= []).push(f);
			}
		}
		for (const op of rec.plan.ops) {
			if (GROUP_LEVEL.has(op.type)) {
				const seen = this.#groupOps.get(op.key);
				if (!seen) this.#groupOps.set(op.key, op);
				else if (seen.type === 'remove-group' && op.type === 'remove-group')
					seen.beforeMembers = [...seen.beforeMembers, ...op.beforeMembers];
				continue;
			}
			const tag = tagOf(op);
			if (creationKind(op) === 'person') this.#creations.push({ key: op.key, side: op.side });
			if (isRemoval(op)) {
				const target = op.type === 'remove-person' ? refText(op.target) : undefined;
				const person = op.type === 'remove-membership' ? refText(op.person) : undefined;
				this.#removals.push({
					key: op.key,
					side: op.side,
					kind: opKind(op) as 'person' | 'membership',
					tag,
					target,
					person
				});
			}
			sink.op(op, part, tag);
		}
		for (const d of rec.plan.next) {
			if (d.kind === 'person') {
				const revoke = d.access?.opKey;
				if (revoke !== undefined && !d.opKeys.includes(revoke))
					for (const key of d.opKeys) this.#revocations.set(key, revoke);
				sink.draft(d);
				continue;
			}
			const key = groupDraftKey(d);
			let parts = this.#groupDrafts.get(key);
			if (!parts) this.#groupDrafts.set(key, (parts = new Set()));
			parts.add(part);
			sink.groupDraft(key, part, d);
		}
		for (const e of rec.plan.keep) {
			if (e.kind === 'person') sink.keep(e);
			else this.#keptGroups.set(groupDraftKey({ a: { id: e.a }, b: { id: e.b } }), { a: e.a, b: e.b });
		}
		for (const s of rec.stale) this.#stale.set(s.resolution.conflictId, s);
		for (const id of rec.applied) this.#applied.add(id);
	}

	finish(): MergedParts {
		const { sink, link } = this;
		// Group pairs any part found in conflict: nothing of theirs is written, their entry stays.
		const dropTags = new Set<string>();
		for (const c of this.#groupConflicts.values()) {
			if (c.reason !== 'both-changed') continue;
			const a = c.records.find((r) => r.side === 'a')!.id;
			const b = c.records.find((r) => r.side === 'b')!.id;
			dropTags.add(`a\u0000${a}`);
			dropTags.add(`b\u0000${b}`);
			this.#groupDrafts.delete(`${a}|${b}`);
			this.#applied.delete(pairConflictId('group', a, b));
			const view = this.#groupViews.get(`${a}|${b}`);
			if (view)
				Object.assign(view, {
					situation: 'conflict',
					conflictId: c.id,
					fields: c.fields?.map((f) => f.field),
					to: undefined,
					note: undefined
				});
		}

		// Deletion limits, over every part's removals and the whole directories' counts.
		const groupOps = [...this.#groupOps.values()].filter(
			(op) => !(op.type === 'update-group' && dropTags.has(tagOf(op)!))
		);
		const removals = this.#removals.filter((r) => !r.tag || !dropTags.has(r.tag));
		for (const op of groupOps)
			if (op.type === 'remove-group') removals.push({ key: op.key, side: op.side, kind: 'group' });
		const approvals = new Map(
			this.resolutions.filter((r) => r.choice === 'approve-deletes').map((r) => [r.conflictId, r])
		);
		const staged = new Set<string>();
		const stagedPeople = new Set<string>();
		const stagedGroups = new Set<string>();
		const thresholds: Conflict[] = [];
		for (const side of SIDES) {
			for (const kind of LIMIT_KINDS) {
				const list = removals.filter((r) => r.side === side && r.kind === kind);
				if (list.length === 0) continue;
				const t = thresholdFor(
					link,
					side,
					kind,
					list.map((r) => r.key),
					totalOf(this.owned, kind),
					approvals
				);
				if (!t) continue;
				if (t.approved) {
					this.#applied.add(t.conflict.id);
					continue;
				}
				thresholds.push(t.conflict);
				for (const r of list) {
					staged.add(r.key);
					const revoke = this.#revocations.get(r.key);
					if (revoke !== undefined) staged.add(revoke);
					if (r.target) stagedPeople.add(`${side}\u0000${r.target}`);
					if (r.kind !== 'person' && r.tag) stagedGroups.add(r.tag);
				}
			}
		}
		// A person's memberships wait with their staged removal (as applyLimits does in one reconcile).
		for (const r of removals)
			if (r.person !== undefined && !staged.has(r.key) && stagedPeople.has(`${r.side}\u0000${r.person}`))
				staged.add(r.key);
		// Creation limits, likewise over every part (people) and the merged group operations.
		const creationApprovals = new Map(
			this.resolutions.filter((r) => r.choice === 'approve-creates').map((r) => [r.conflictId, r])
		);
		const creations = [
			...this.#creations.map((c) => ({ ...c, kind: 'person' as const })),
			...groupOps
				.filter((op) => creationKind(op) === 'group')
				.map((op) => ({ key: op.key, side: op.side, kind: 'group' as const }))
		];
		for (const side of SIDES) {
			for (const kind of CREATION_KINDS) {
				const list = creations.filter((c) => c.side === side && c.kind === kind);
				if (list.length === 0) continue;
				const t = creationThresholdFor(
					link,
					side,
					kind,
					list.map((c) => c.key),
					totalOf(this.owned, kind),
					creationApprovals
				);
				if (!t) continue;
				if (t.approved) {
					this.#applied.add(t.conflict.id);
					continue;
				}
				thresholds.push(t.conflict);
				for (const c of list) staged.add(c.key);
			}
		}
		for (const op of groupOps) {
			if (staged.has(op.key) && creationKind(op)) {
				op.staged = true;
				sink.op(op, -1, tagOf(op));
				continue;
			}
			if (staged.has(op.key)) {
				op.staged = true;
				stagedGroups.add(`${op.side}\u0000${refText((op as Extract<Op, { type: 'remove-group' }>).target)}`);
			}
			sink.op(op, -1, tagOf(op));
		}

		for (const v of this.#groupViews.values()) {
			const on =
				v.a !== undefined && v.b === undefined ? 'a' : v.b !== undefined && v.a === undefined ? 'b' : undefined;
			if (v.situation === 'remove' && on && stagedGroups.has(`${on}\u0000${v[on]}`)) v.note = 'staged';
			this.#counts.group[v.situation]++;
			sink.view(v);
		}
		const groupConflicts = [...this.#groupConflicts.values(), ...thresholds];
		for (const c of groupConflicts) sink.conflict(c);
		return {
			linkId: link.id,
			versions: this.#versions,
			dropTags,
			staged,
			stagedPeople,
			groupDrafts: this.#groupDrafts,
			thresholds,
			keptGroups: [...this.#keptGroups].filter(([key]) => !this.#groupDrafts.has(key)).map(([, pair]) => pair),
			stale: [...this.#stale.values()],
			applied: [...this.#applied],
			counts: this.#counts,
			requiresAction: this.#personConflicts + groupConflicts.length,
			untouched: this.#untouched,
			fields: this.#fields
		};
	}
}

/** The part a resolution is checked in: a person's goes with its records, a group's to every part. */
function resolutionPart(r: Resolution, index: PartitionIndex, count: number): number | 'all' {
	const kind: RecordKind | undefined = conflictKind(r.conflictId);
	if (kind !== 'person') return 'all';
	const first = r.against.find((x) => x.kind === 'person');
	if (first) return index.partOf(first.side, first.id, count);
	if (r.link) return index.partOf('a', r.link.a, count);
	return 0;
}

/** The resolutions each part is reconciled with. */
export function resolutionsByPart(
	resolutions: readonly Resolution[],
	index: PartitionIndex,
	count: number
): Resolution[][] {
	const byPart: Resolution[][] = Array.from({ length: count }, () => []);
	for (const r of resolutions) {
		const part = resolutionPart(r, index, count);
		if (part === 'all') for (const list of byPart) list.push(r);
		else byPart[part].push(r);
	}
	return byPart;
}

/** The partition of a link's people, over what reconciliation will look at. */
export function indexPeople(
	link: LinkConfig,
	a: Iterable<Person>,
	b: Iterable<Person>,
	baseline: Iterable<BaselineEntry>,
	resolutions: readonly Resolution[]
): PartitionIndex {
	const index = new PartitionIndex(link);
	for (const p of a) index.person('a', p);
	for (const p of b) index.person('b', p);
	for (const e of baseline) index.entry(e);
	for (const r of resolutions) if (r.link) index.pair(r.link.a, r.link.b);
	return index;
}

/** One part's records, cut from whole snapshots and baseline (the edge cuts them from SQLite). */
export function cutPart(
	index: PartitionIndex,
	count: number,
	part: number,
	whole: { a: Snapshot; b: Snapshot; baseline: readonly BaselineEntry[] }
): PartInput {
	const side = (s: Snapshot, on: Side): Snapshot => {
		const people = s.people.filter((p) => index.partOf(on, p.id, count) === part);
		const ids = new Set(people.map((p) => p.id));
		const memberships: Membership[] = s.memberships.filter((m) => ids.has(m.personId));
		const groups: Group[] = s.groups;
		return { ...s, people, groups, memberships };
	};
	const baseline: BaselineEntry[] = [];
	for (const e of whole.baseline) {
		if (e.kind === 'person') {
			if (index.partOf('a', e.a, count) === part) baseline.push(e);
		} else
			baseline.push({
				...e,
				...(e.members ? { members: e.members.filter((m) => index.memberPart(m, count) === part) } : {})
			});
	}
	return { a: side(whole.a, 'a'), b: side(whole.b, 'b'), baseline };
}

export interface PartsInput {
	link: LinkConfig;
	a: Snapshot;
	b: Snapshot;
	baseline: { linkId: string; entries: BaselineEntry[] };
	resolutions?: readonly Resolution[];
	now: number;
	ruleOwned?: RuleOwned;
}

/**
 * reconcile, part by part: the same answer (up to order) from `count` smaller reconciliations.
 * The edge does the same with its SQLite PlanRows; the merge and the assembly are these same
 * functions, only the rows' store differs.
 */
export function reconcileInParts(input: PartsInput, count: number): Reconciliation {
	const { link, a, b, now } = input;
	const resolutions = input.resolutions ?? [];
	const entries = input.baseline.entries;
	const counts = { a: countsOf(a), b: countsOf(b) };
	assertCounts(link, counts, baselineHad(entries));
	const index = indexPeople(link, a.people, b.people, entries, resolutions);
	const rows = new MemoryPlanRows(entries);
	const merger = new PartMerger(link, resolutions, ownedCounts(entries), rows);
	const createdElsewhere = new Set<string>();
	const byPart = resolutionsByPart(resolutions, index, count);
	for (let part = 0; part < count; part++) {
		const cut = cutPart(index, count, part, { a, b, baseline: entries });
		merger.add(
			part,
			reconcile({
				link,
				a: cut.a,
				b: cut.b,
				baseline: { linkId: link.id, entries: cut.baseline },
				resolutions: byPart[part],
				now,
				part: { createdElsewhere },
				ruleOwned: input.ruleOwned
			})
		);
	}
	const merged = merger.finish();
	assemblePlan(merged, rows, (m) => index.memberPart(m, count));
	return rows.reconciliation(merged);
}
