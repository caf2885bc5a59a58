/**
 * Memberships, diffed per group pair as sets with roles, then each group pair settled: its name
 * and its members decide together whether it is in sync, updated, or in conflict.
 */
import { createdRef, refId, type GroupPairWork, type PersonLink, type ReconcileContext } from './context';
import { mergeMember, type FieldConflict } from './diff';
import type { BaselineMember, Role, Side } from './model';
import { otherSide } from './model';
import { STAGE, type TargetRef } from './ops';
import { carryEntry, type DraftMember, type OpDraft } from './plan';
import { chosenSide } from './resolutions';
import { membersOf } from './side-index';

interface MemberWork {
  ops: { draft: OpDraft; member?: DraftMember }[];
  /** Members whose baseline changes (null: dropped). */
  changes: Map<string, DraftMember | null>;
  conflicts: FieldConflict[];
}

const baseIndex = (members: readonly BaselineMember[] | undefined): Map<string, BaselineMember> => {
  const out = new Map<string, BaselineMember>();
  for (const m of members ?? []) out.set(`${m[0]}|${m[1]}`, m);
  return out;
};

function writeMember(
  work: MemberWork,
  side: Side,
  group: TargetRef,
  person: TargetRef | undefined,
  now: Role | undefined,
  want: Role | undefined
): OpDraft | undefined {
  if (!person || now === want) return undefined;
  const draft: OpDraft =
    want === undefined
      ? { type: 'remove-membership', side, stage: STAGE.membershipRemovals, group, person, before: now! }
      : now === undefined
        ? { type: 'add-membership', side, stage: STAGE.memberships, group, person, role: want }
        : { type: 'set-role', side, stage: STAGE.memberships, group, person, role: want, before: now };
  return draft;
}

/** Two-way: three-way merge of each member against the baseline. */
function diffTwoWay(ctx: ReconcileContext, pair: GroupPairWork): MemberWork {
  const work: MemberWork = { ops: [], changes: new Map(), conflicts: [] };
  const aMembers = membersOf(ctx.sides.a, pair.a.id);
  const bMembers = membersOf(ctx.sides.b, pair.b.id);
  const base = baseIndex(pair.entry?.members);
  const seen = new Set<string>();
  const authority = ctx.link.authority.fields.members ?? ctx.link.authority.default;
  const groupRef = { a: { id: pair.a.id }, b: { id: pair.b.id } };

  const consider = (link: PersonLink, ra: Role | undefined, rb: Role | undefined) => {
    seen.add(link.key);
    const previous = base.get(link.key);
    if (link.deferred) return;
    const field = `member:${link.key}`;
    const m = mergeMember(ra, rb, previous?.[2], authority, chosenSide(pair.resolution, field));
    if (m.kind === 'conflict') {
      work.conflicts.push({ field, base: previous?.[2] ?? null, a: ra ?? null, b: rb ?? null });
      return;
    }
    if (m.kind === 'same') {
      if (m.value === previous?.[2]) return;
      work.changes.set(link.key, m.value && link.a && link.b ? { a: link.a, b: link.b, role: m.value, previous } : null);
      return;
    }
    const to = otherSide(m.from);
    const draft = writeMember(work, to, groupRef[to], link[to], to === 'a' ? ra : rb, m.value);
    if (!draft) {
      // The person is not writable there (removed on that side): the baseline keeps what it had.
      return;
    }
    const member = m.value && link.a && link.b ? { a: link.a, b: link.b, role: m.value, previous } : undefined;
    work.ops.push({ draft, member });
    work.changes.set(link.key, member ?? null);
  };

  for (const [pa, ra] of aMembers) {
    const link = ctx.personLinks.a.get(pa);
    if (!link) continue;
    const pb = refId(link.b);
    consider(link, ra, pb === undefined ? undefined : bMembers.get(pb));
  }
  for (const [pb, rb] of bMembers) {
    const link = ctx.personLinks.b.get(pb);
    if (!link || seen.has(link.key)) continue;
    const pa = refId(link.a);
    consider(link, pa === undefined ? undefined : aMembers.get(pa), rb);
  }
  if (base.size > seen.size) {
    for (const [key, m] of base) {
      if (seen.has(key)) continue;
      const link = ctx.personLinks.a.get(m[0]) ?? ctx.personLinks.b.get(m[1]);
      if (link?.deferred) continue;
      // Gone from both sides since the baseline: nothing to write, the baseline forgets it.
      work.changes.set(key, null);
    }
  }
  return work;
}

/** Provisioning: the source's members, written to the target; only sync's own memberships are removed. */
function diffProvision(ctx: ReconcileContext, source: string, target: TargetRef, owned: readonly BaselineMember[] | undefined, community?: string): MemberWork {
  const work: MemberWork = { ops: [], changes: new Map(), conflicts: [] };
  const sourceMembers = membersOf(ctx.sides.a, source);
  const targetId = refId(target);
  const targetMembers = targetId === undefined ? new Map<string, Role>() : membersOf(ctx.sides.b, targetId);
  const base = baseIndex(owned);
  const seen = new Set<string>();
  for (const [pa, role] of sourceMembers) {
    const link = ctx.personLinks.a.get(pa);
    if (!link?.b) continue;
    seen.add(link.key);
    if (community) ctx.communityMove(pa, 'to', community);
    if (link.deferred) continue;
    const previous = base.get(link.key);
    const pb = refId(link.b);
    const now = pb === undefined ? undefined : targetMembers.get(pb);
    if (now === role) {
      if (previous && previous[2] !== role) work.changes.set(link.key, { a: link.a!, b: link.b, role, previous });
      continue;
    }
    // A manual membership with another role is the target's own business.
    if (now !== undefined && !previous) continue;
    const draft = writeMember(work, 'b', target, link.b, now, role)!;
    const member = { a: link.a!, b: link.b, role, previous };
    work.ops.push({ draft, member });
    work.changes.set(link.key, member);
  }
  for (const [key, m] of base) {
    if (seen.has(key)) continue;
    if (community) ctx.communityMove(m[0], 'from', community);
    const link = ctx.personLinks.b.get(m[1]);
    if (link?.deferred) continue;
    const now = targetId === undefined ? undefined : targetMembers.get(m[1]);
    if (now === undefined) {
      work.changes.set(key, null);
      continue;
    }
    work.ops.push({ draft: writeMember(work, 'b', target, { id: m[1] }, now, undefined)! });
    work.changes.set(key, null);
  }
  return work;
}

function emit(ctx: ReconcileContext, work: MemberWork): string[] {
  const keys: string[] = [];
  for (const op of work.ops) {
    const key = ctx.builder.add(op.draft);
    if (op.member) op.member.opKey = key;
    keys.push(key);
  }
  return keys;
}

function mergedMembers(base: readonly BaselineMember[] | undefined, changes: Map<string, DraftMember | null>): DraftMember[] {
  const out: DraftMember[] = [];
  for (const m of base ?? []) {
    const key = `${m[0]}|${m[1]}`;
    if (changes.has(key)) continue;
    out.push({ a: { id: m[0] }, b: { id: m[1] }, role: m[2], previous: m });
  }
  for (const change of changes.values()) if (change) out.push(change);
  return out;
}

function settlePair(ctx: ReconcileContext, pair: GroupPairWork, syncMembers: boolean): void {
  const { a, b, entry } = pair;
  const work: MemberWork = !syncMembers
    ? { ops: [], changes: new Map(), conflicts: [] }
    : ctx.provision
      ? diffProvision(ctx, a.id, { id: b.id }, entry?.members, a.kind === 'community' ? a.name : undefined)
      : diffTwoWay(ctx, pair);
  const conflicts = [...pair.fieldConflicts, ...work.conflicts];
  if (conflicts.length > 0) {
    ctx.conflict('group', 'both-changed', [ctx.ref('a', 'group', a), ctx.ref('b', 'group', b)], { fields: conflicts });
    ctx.view({ kind: 'group', a: a.id, b: b.id, situation: 'conflict', fields: conflicts.map((c) => c.field), conflictId: pair.conflictId });
    if (entry) ctx.drafts.push(carryEntry(entry));
    return;
  }
  if (pair.resolution) ctx.resolutions.applied.add(pair.conflictId);
  const opKeys = [...pair.opKeys, ...pair.fieldOps.map((op) => ctx.builder.add(op))];
  const memberKeys = emit(ctx, work);
  const toSides = new Set<Side>([...pair.fieldOps.map((o) => o.side), ...work.ops.map((o) => o.draft.side)]);
  const changed = [...pair.changed, ...(work.ops.length > 0 ? ['members'] : [])];
  ctx.view({
    kind: 'group',
    a: a.id,
    b: b.id,
    situation: opKeys.length + memberKeys.length > 0 ? 'update' : 'in-sync',
    fields: changed.length > 0 ? changed : undefined,
    to: toSides.size === 2 ? 'both' : toSides.size === 1 ? [...toSides][0] : undefined,
    note: pair.resolution ? 'resolved' : pair.note
  });
  if (entry && opKeys.length === 0 && work.changes.size === 0 && !pair.merged) {
    ctx.drafts.push(carryEntry(entry));
    return;
  }
  ctx.drafts.push({
    kind: 'group',
    a: { id: a.id },
    b: { id: b.id },
    origin: entry?.origin ?? (ctx.provision ? 'adopted' : 'matched'),
    fields: pair.merged ?? entry?.fields ?? {},
    members: mergedMembers(entry?.members, work.changes),
    opKeys,
    previous: entry
  });
}

/** Fills a group this plan creates with the members its source group has. */
function fillCreated(ctx: ReconcileContext, from: Side, sourceId: string, key: string, members: DraftMember[]): void {
  const to = otherSide(from);
  for (const [personId, role] of membersOf(ctx.sides[from], sourceId)) {
    const link = ctx.personLinks[from].get(personId);
    if (!link || link.deferred || !link[to] || !link.a || !link.b) continue;
    const opKey = ctx.builder.add({ type: 'add-membership', side: to, stage: STAGE.memberships, group: createdRef(key), person: link[to]!, role });
    members.push({ a: link.a, b: link.b, role, opKey });
  }
}

/** Transfer notices: a synced person whose communities changed (not a newcomer) is told. */
function planTransfers(ctx: ReconcileContext): void {
  for (const [personId, move] of ctx.communityMoves) {
    if (move.from.size === 0) continue;
    const link = ctx.personLinks.a.get(personId);
    if (!link?.b || !ctx.sides.a.people.has(personId)) continue;
    const from = [...move.from].filter((c) => !move.to.has(c)).sort();
    const to = [...move.to].filter((c) => !move.from.has(c)).sort();
    if (from.length === 0 && to.length === 0) continue;
    ctx.builder.add({ type: 'notify-transfer', side: 'b', stage: STAGE.notices, person: link.b, from, to });
  }
}

export function settleGroups(ctx: ReconcileContext): void {
  const syncMembers = ctx.link.kinds.includes('person') && ctx.link.kinds.includes('group');
  for (const pair of ctx.groupPairs) settlePair(ctx, pair, syncMembers);
  if (!syncMembers) return;
  for (const created of ctx.createdGroups) {
    const members: DraftMember[] = [];
    if (ctx.provision) {
      const work = diffProvision(ctx, created.source.id, createdRef(created.key), undefined, created.source.kind === 'community' ? created.source.name : undefined);
      emit(ctx, work);
      members.push(...mergedMembers(undefined, work.changes));
    } else {
      fillCreated(ctx, created.from, created.source.id, created.key, members);
    }
    created.draft.members = members;
  }
  if (ctx.provision) planTransfers(ctx);
}
