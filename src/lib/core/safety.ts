/**
 * Safety: an unreachable or empty side is an error, never "delete everything"; removals and
 * creations above the link's limits (count or percent, per side and kind) are staged until an owner
 * approves them.
 */
import { conflictId, type ReconcileContext } from './context';
import { fnv1a } from './digest';
import type {
	Baseline,
	BaselineEntry,
	Conflict,
	DeletionLimit,
	LinkConfig,
	RecordKind,
	Resolution,
	Side,
	Snapshot
} from './model';
import { SIDES } from './model';
import type { Op } from './ops';
import { refText, removalsBy } from './plan';

export const DEFAULT_LIMIT: DeletionLimit = { count: 500, percent: 20 };
/** Growth is more often real than loss (a new school year): creations may double what is owned. */
export const DEFAULT_CREATION_LIMIT: DeletionLimit = { count: 500, percent: 100 };

export class ReconcileError extends Error {
	constructor(
		readonly code: 'empty-source' | 'empty-side' | 'invalid-input',
		message: string
	) {
		super(message);
		this.name = 'ReconcileError';
	}
}

/** What a side holds, counted: enough to refuse an unusable side without its records. */
export interface SideCounts {
	system: string;
	people: number;
	groups: number;
	memberships: number;
}

export const countsOf = (s: Snapshot): SideCounts => ({
	system: s.system,
	people: s.people.length,
	groups: s.groups.length,
	memberships: s.memberships.length
});

/** Which kinds the baseline says were synced (and not only as removed or anonymized people). */
export function baselineHad(
	entries: readonly Pick<BaselineEntry, 'kind' | 'lifecycle'>[]
): Record<RecordKind, boolean> {
	const had = { person: false, group: false };
	// Indexed: run once over the whole baseline, an unoptimized for-of allocates per entry.
	for (let i = 0; i < entries.length; i++) {
		const e = entries[i];
		if (!e.lifecycle || e.lifecycle.state === 'active') had[e.kind] = true;
		if (had.person && had.group) break;
	}
	return had;
}

/**
 * Refuses snapshots that would read as mass removals or mass re-creations: an empty provisioning
 * source, or a side (either, in either mode) that has none of a kind the baseline says it had. An
 * empty target is an outage or a wrong URL far more often than a directory emptied on purpose, and
 * planning against it would re-create everything, then add every membership twice when it is back.
 */
export function assertCounts(
	link: LinkConfig,
	counts: Record<Side, SideCounts>,
	had: Record<RecordKind, boolean>
): void {
	const { a } = counts;
	if (link.mode === 'provision' && a.people === 0 && a.groups === 0) {
		throw new ReconcileError(
			'empty-source',
			`The source snapshot of system "${a.system}" is empty; nothing is removed from an empty source.`
		);
	}
	for (const side of SIDES) {
		const snap = counts[side];
		for (const kind of link.kinds) {
			const count = kind === 'person' ? snap.people : snap.groups;
			if (count === 0 && had[kind]) {
				throw new ReconcileError(
					'empty-side',
					`System "${snap.system}" returned no ${kind === 'person' ? 'people' : 'groups'} although ${kind === 'person' ? 'people' : 'groups'} were synced before; refusing to treat that as removals.`
				);
			}
		}
	}
}

export function assertUsable(link: LinkConfig, a: Snapshot, b: Snapshot, baseline: Baseline): void {
	assertCounts(link, { a: countsOf(a), b: countsOf(b) }, baselineHad(baseline.entries));
}

/** A kind of record on one side whose count fell by more than the link's percent limit. */
export interface Shrinkage {
	side: Side;
	system: string;
	kind: LimitKind;
	before: number;
	after: number;
}

const countOf = (c: Omit<SideCounts, 'system'>, kind: LimitKind): number =>
	kind === 'person' ? c.people : kind === 'group' ? c.groups : c.memberships;

/**
 * The pre-flight guard: kinds whose count on a side fell by more than the link's percent limit
 * (per kind, default 20 %) since the counts last accepted (the last real run's, or what an owner
 * confirmed). A directory that lost a fifth of its people overnight is far more likely a broken
 * export or a wrong filter than a fifth of the staff leaving, so the run stops before any write.
 */
export function shrinkage(
	link: Pick<LinkConfig, 'limits'>,
	accepted: Record<Side, Omit<SideCounts, 'system'>> | undefined,
	current: Record<Side, SideCounts>
): Shrinkage[] {
	if (!accepted) return [];
	const out: Shrinkage[] = [];
	for (const side of SIDES) {
		for (const kind of LIMIT_KINDS) {
			const before = countOf(accepted[side], kind);
			const after = countOf(current[side], kind);
			const limit = (link.limits[kind] ?? DEFAULT_LIMIT).percent;
			if (before > 0 && ((before - after) * 100) / before > limit)
				out.push({ side, system: current[side].system, kind, before, after });
		}
	}
	return out;
}

/** What the link owns, counted from its baseline: the base of the percent limits. */
export interface OwnedCounts {
	people: number;
	groups: number;
	memberships: number;
}

/**
 * Records the link owns: pairs sync created, adopted or matched (people not yet removed), and the
 * memberships sync wrote. Manual records on the target are not the link's, so they neither dilute
 * nor count toward a removal limit.
 */
export function ownedCounts(entries: readonly Pick<BaselineEntry, 'kind' | 'lifecycle' | 'members'>[]): OwnedCounts {
	const owned = { people: 0, groups: 0, memberships: 0 };
	for (let i = 0; i < entries.length; i++) {
		const e = entries[i];
		if (e.kind === 'group') {
			owned.groups++;
			owned.memberships += e.members?.length ?? 0;
		} else if (!e.lifecycle || e.lifecycle.state === 'active') owned.people++;
	}
	return owned;
}

const limitOf = (link: LinkConfig, kind: string): DeletionLimit =>
	link.limits[kind as 'person' | 'group' | 'membership'] ?? DEFAULT_LIMIT;

export const LIMIT_KINDS = ['person', 'group', 'membership'] as const;
export type LimitKind = (typeof LIMIT_KINDS)[number];

/**
 * The threshold conflict for one side's removals of one kind, when they exceed the link's limit.
 * `approved`: an owner approved exactly these removals (the id digests their keys), so they go.
 */
export function thresholdFor(
	link: LinkConfig,
	side: Side,
	kind: LimitKind,
	keys: readonly string[],
	total: number,
	approvals: ReadonlyMap<string, Resolution>
): { conflict: Conflict; approved: boolean } | undefined {
	const limit = limitOf(link, kind);
	const over = keys.length > limit.count || (total > 0 && (keys.length * 100) / total > limit.percent);
	if (!over) return undefined;
	const digest = fnv1a([...keys].sort().join(','));
	const id = `${conflictId('threshold', kind === 'membership' ? 'group' : kind, [{ side, id: kind }])}:${digest}`;
	return {
		approved: approvals.get(id)?.choice === 'approve-deletes',
		conflict: {
			id,
			kind: kind === 'membership' ? 'group' : kind,
			reason: 'threshold',
			records: [],
			staged: { count: keys.length, total, limit },
			removedSide: side
		}
	};
}

/** Owned records of a kind: the base of the percent limit. */
export function totalOf(counts: OwnedCounts, kind: LimitKind): number {
	if (kind === 'person') return counts.people;
	if (kind === 'group') return counts.groups;
	return counts.memberships;
}

export const CREATION_KINDS = ['person', 'group'] as const;
export type CreationKind = (typeof CREATION_KINDS)[number];

/** Creations of new records (an undo's re-creation of what it removed carries `restoreId`). */
export function creationKind(op: Op): CreationKind | undefined {
	if (op.type === 'create-person' && op.restoreId === undefined) return 'person';
	if (op.type === 'create-group' && op.restoreId === undefined) return 'group';
	return undefined;
}

/** The id of the threshold conflict for creations of a kind on a side (before its digest). */
export const creationThresholdPrefix = (side: Side, kind: CreationKind): string =>
	conflictId('threshold', kind, [{ side, id: `create-${kind}` }]);

/**
 * The threshold conflict for one side's creations of one kind, when they exceed the link's creation
 * limit. Nothing is limited while the link owns none of the kind (its first sync, which the owner
 * reviewed when setting the link up); after that, more than `count` creations, or more than
 * `percent` of what it owns, wait for an owner. `approved`: an owner approved exactly these.
 */
export function creationThresholdFor(
	link: Pick<LinkConfig, 'creationLimits'>,
	side: Side,
	kind: CreationKind,
	keys: readonly string[],
	total: number,
	approvals: ReadonlyMap<string, Resolution>
): { conflict: Conflict; approved: boolean } | undefined {
	const limit = link.creationLimits?.[kind] ?? DEFAULT_CREATION_LIMIT;
	if (total === 0) return undefined;
	const over = keys.length > limit.count || (keys.length * 100) / total > limit.percent;
	if (!over) return undefined;
	const id = `${creationThresholdPrefix(side, kind)}:${fnv1a([...keys].sort().join(','))}`;
	return {
		approved: approvals.get(id)?.choice === 'approve-creates',
		conflict: {
			id,
			kind,
			reason: 'threshold',
			records: [],
			staged: { count: keys.length, total, limit },
			createdSide: side
		}
	};
}

/** Creations per side and kind, for the creation limits. */
export function creationsBy(ops: readonly Op[]): Map<string, Op[]> {
	const out = new Map<string, Op[]>();
	for (const op of ops) {
		const kind = creationKind(op);
		if (!kind) continue;
		const k = `${op.side}:${kind}`;
		const list = out.get(k);
		if (list) list.push(op);
		else out.set(k, [op]);
	}
	return out;
}

/**
 * Stages removals and creations above the limits; an approval of exactly these lets them through.
 * What depends on a staged creation (its memberships, its invitation) waits with it: the runner
 * stages it too (see runner.ts).
 */
export function applyLimits(ctx: ReconcileContext): void {
	const counts = ownedCounts(ctx.baseline);
	/** Each side's and kind's operations over its limit are staged, unless an owner approved exactly them. */
	const stage = <K extends string>(
		bySideKind: Map<string, Op[]>,
		kinds: readonly K[],
		threshold: (side: Side, kind: K, keys: string[], total: number) => ReturnType<typeof thresholdFor>,
		noteViews: boolean
	) => {
		for (const side of SIDES) {
			for (const kind of kinds) {
				const ops = bySideKind.get(`${side}:${kind}`);
				if (!ops) continue;
				const t = threshold(
					side,
					kind,
					ops.map((op) => op.key),
					totalOf(counts, kind as LimitKind)
				);
				if (!t) continue;
				if (t.approved) {
					ctx.resolutions.applied.add(t.conflict.id);
					continue;
				}
				for (const op of ops) {
					op.staged = true;
					const view = noteViews ? ctx.viewByOp.get(op.key) : undefined;
					if (view) view.note = 'staged';
				}
				ctx.conflicts.push(t.conflict);
			}
		}
	};
	const approvals = ctx.resolutions.byConflict;
	stage(
		removalsBy(ctx.builder.ops),
		LIMIT_KINDS,
		(side, kind, keys, total) => thresholdFor(ctx.link, side, kind, keys, total, approvals),
		true
	);
	// A person's memberships wait with their staged removal: removing them now would carry out
	// part of a removal no owner approved.
	const removing = new Set<string>();
	for (const op of ctx.builder.ops)
		if (op.type === 'remove-person' && op.staged) removing.add(`${op.side}\u0000${refText(op.target)}`);
	if (removing.size > 0)
		for (const op of ctx.builder.ops)
			if (op.type === 'remove-membership' && removing.has(`${op.side}\u0000${refText(op.person)}`)) op.staged = true;
	stage(
		creationsBy(ctx.builder.ops),
		CREATION_KINDS,
		(side, kind, keys, total) => creationThresholdFor(ctx.link, side, kind, keys, total, approvals),
		false
	);
}
