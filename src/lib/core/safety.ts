/**
 * Safety: an unreachable or empty side is an error, never "delete everything"; removals above the
 * link's limits (count or percent, per side and kind) are staged until an owner approves them.
 */
import { conflictId, type ReconcileContext } from './context';
import { fnv1a } from './digest';
import type { Baseline, DeletionLimit, LinkConfig, Side, Snapshot } from './model';
import { SIDES } from './model';
import { removalsBy } from './plan';

export const DEFAULT_LIMIT: DeletionLimit = { count: 500, percent: 20 };

export class ReconcileError extends Error {
  constructor(
    readonly code: 'empty-source' | 'empty-side' | 'invalid-input',
    message: string
  ) {
    super(message);
    this.name = 'ReconcileError';
  }
}

/**
 * Refuses snapshots that would read as mass removals: an empty provisioning source, or a side that
 * has none of a kind the baseline says it had.
 */
export function assertUsable(link: LinkConfig, a: Snapshot, b: Snapshot, baseline: Baseline): void {
  if (link.mode === 'provision' && a.people.length === 0 && a.groups.length === 0) {
    throw new ReconcileError('empty-source', `The source snapshot of system "${a.system}" is empty; nothing is removed from an empty source.`);
  }
  const had = { person: { a: false, b: false }, group: { a: false, b: false } };
  for (const e of baseline.entries) {
    if (!e.lifecycle || e.lifecycle.state === 'active') had[e.kind].a = had[e.kind].b = true;
  }
  for (const [side, snap] of [['a', a], ['b', b]] as const) {
    if (link.mode === 'provision' && side === 'b') continue;
    for (const kind of link.kinds) {
      const count = kind === 'person' ? snap.people.length : snap.groups.length;
      if (count === 0 && had[kind][side]) {
        throw new ReconcileError('empty-side', `System "${snap.system}" returned no ${kind === 'person' ? 'people' : 'groups'} although ${kind === 'person' ? 'people' : 'groups'} were synced before; refusing to treat that as removals.`);
      }
    }
  }
}

const limitOf = (link: LinkConfig, kind: string): DeletionLimit =>
  link.limits[kind as 'person' | 'group' | 'membership'] ?? DEFAULT_LIMIT;

/** Existing records of a kind on a side: the base of the percent limit. */
function totalOf(ctx: ReconcileContext, side: Side, kind: string): number {
  const index = ctx.sides[side];
  if (kind === 'person') return index.people.size;
  if (kind === 'group') return index.groups.size;
  return index.membershipCount;
}

/** Stages removals above the limits; an approval of exactly these removals lets them through. */
export function applyLimits(ctx: ReconcileContext): void {
  const bySideKind = removalsBy(ctx.builder.ops);
  for (const side of SIDES) {
    for (const kind of ['person', 'group', 'membership'] as const) {
      const removals = bySideKind.get(`${side}:${kind}`);
      if (!removals) continue;
      const limit = limitOf(ctx.link, kind);
      const total = totalOf(ctx, side, kind);
      const over = removals.length > limit.count || (total > 0 && (removals.length * 100) / total > limit.percent);
      if (!over) continue;
      const digest = fnv1a(removals.map((op) => op.key).sort().join(','));
      const id = `${conflictId('threshold', kind === 'membership' ? 'group' : kind, [{ side, id: kind }])}:${digest}`;
      const approval = ctx.resolutions.byConflict.get(id);
      if (approval?.choice === 'approve-deletes') {
        ctx.resolutions.applied.add(id);
        continue;
      }
      for (const op of removals) {
        op.staged = true;
        const view = ctx.viewByOp.get(op.key);
        if (view) view.note = 'staged';
      }
      ctx.conflicts.push({
        id,
        kind: kind === 'membership' ? 'group' : kind,
        reason: 'threshold',
        records: [],
        staged: { count: removals.length, total, limit },
        removedSide: side
      });
    }
  }
}
