/**
 * Invariants, over generated directories:
 * - converge: reconcile, apply the plan to both sides, reconcile again: nothing is proposed;
 * - symmetry: swapping A and B (and the authority) gives the mirrored answer;
 * - undo: undoing a run's operations restores the directories it started from.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import {
  Directory,
  makeLink,
  planUndo,
  reconcile,
  ReconcileError,
  runPlan,
  type Baseline,
  type BaselineEntry,
  type LinkConfig,
  type Op,
  type OpOutcome,
  type Reconciliation,
  type Snapshot
} from '../../src/lib/core';
import { applyPlan } from '../support/apply';
import { NOW } from '../support/factories';

const OPEN = { count: 1_000_000, percent: 100 };
const limits = { person: OPEN, group: OPEN, membership: OPEN };

const NAMES = ['Ann', 'Bo', 'Cy', 'Di', 'Ed'];
const arbPersonFields = fc.record(
  {
    displayName: fc.constantFrom(...NAMES),
    email: fc.constantFrom('ann@x.org', 'bo@x.org', 'cy@x.org', 'di@x.org', 'ed@x.org', 'fay@x.org'),
    phone: fc.constantFrom('+31 1', '+31 2'),
    memberType: fc.constantFrom('staff' as const, 'student' as const),
    buildings: fc.subarray(['N', 'S'], { minLength: 1 }),
    externalId: fc.constantFrom('E1', 'E2', 'E3', 'E4')
  },
  { requiredKeys: ['displayName'] }
);

const arbSide = (prefix: string) =>
  fc
    .record({
      people: fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 5 }), arbPersonFields), { selector: (t) => t[0], maxLength: 6 }),
      groups: fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.constantFrom('Ops', 'Fire', 'Medics'), fc.option(fc.constantFrom('G1', 'G2', 'G3'), { nil: undefined })), { selector: (t) => t[0], maxLength: 3 }),
      memberships: fc.array(fc.tuple(fc.nat(), fc.nat(), fc.constantFrom('member' as const, 'manager' as const)), { maxLength: 10 })
    })
    .map(({ people, groups, memberships }) => {
      const ps = people.map(([i, f]) => ({ id: `${prefix}p${i}`, active: true, ...f }));
      const gs = groups.map(([i, name, externalId]) => ({ id: `${prefix}g${i}`, name, kind: 'group' as const, ...(externalId ? { externalId } : {}) }));
      const ms = new Map<string, { groupId: string; personId: string; role: 'member' | 'manager' }>();
      if (ps.length > 0 && gs.length > 0) {
        for (const [gi, pi, role] of memberships) {
          const m = { groupId: gs[gi % gs.length].id, personId: ps[pi % ps.length].id, role };
          ms.set(`${m.groupId}|${m.personId}`, m);
        }
      }
      return { people: ps, groups: gs, memberships: [...ms.values()] };
    });

/** Edits people make between two runs. */
const arbEdits = fc.array(
  fc.record({ side: fc.constantFrom('a' as const, 'b' as const), what: fc.constantFrom('rename', 'remove', 'email', 'member', 'unmember', 'add'), n: fc.nat(), name: fc.constantFrom(...NAMES) }),
  { maxLength: 6 }
);

function edit(dirs: Record<'a' | 'b', Directory>, edits: { side: 'a' | 'b'; what: string; n: number; name: string }[]) {
  edits.forEach((e, i) => {
    const dir = dirs[e.side];
    const people = [...dir.people.keys()].sort();
    const groups = [...dir.groups.keys()].sort();
    const pid = people[e.n % Math.max(1, people.length)];
    const gid = groups[e.n % Math.max(1, groups.length)];
    switch (e.what) {
      case 'rename':
        if (pid) dir.people.set(pid, { ...dir.people.get(pid)!, displayName: `${e.name} ${i}` });
        break;
      case 'email':
        if (pid) dir.people.set(pid, { ...dir.people.get(pid)!, email: `${e.name.toLowerCase()}${i}@y.org` });
        break;
      case 'remove':
        if (pid) dir.apply({ key: 'x', type: 'remove-person', side: e.side, stage: 5, target: { id: pid }, soft: false, before: dir.people.get(pid)!, beforeMembers: [] });
        break;
      case 'member':
        if (pid && gid) dir.apply({ key: 'x', type: 'add-membership', side: e.side, stage: 2, group: { id: gid }, person: { id: pid }, role: 'manager' });
        break;
      case 'unmember':
        if (pid && gid) dir.members.get(gid)?.delete(pid);
        break;
      case 'add':
        dir.people.set(`${e.side}new${i}`, { id: `${e.side}new${i}`, displayName: e.name, email: `${e.name.toLowerCase()}@x.org`, active: true });
        break;
    }
  });
}

const LINKS: LinkConfig[] = [
  makeLink({ id: 'T', name: 'two-way', mode: 'two-way', systems: { a: 'A', b: 'B' }, limits }),
  makeLink({ id: 'N', name: 'two-way by name', mode: 'two-way', systems: { a: 'A', b: 'B' }, limits, match: { person: 'externalId', group: 'name' }, removeMode: 'delete' }),
  makeLink({ id: 'P', name: 'provision', mode: 'provision', systems: { a: 'A', b: 'B' }, limits })
];

/** Reconciles, or undefined when the core refuses the input (an emptied side): that is not a plan. */
function tryReconcile(link: LinkConfig, a: Snapshot, b: Snapshot, baseline: Baseline): Reconciliation | undefined {
  try {
    return reconcile({ link, a, b, baseline, now: NOW });
  } catch (e) {
    if (e instanceof ReconcileError) return undefined;
    throw e;
  }
}

const content = (s: Snapshot) => ({ people: s.people, groups: s.groups, memberships: s.memberships });

describe('properties', () => {
  test.prop([fc.constantFrom(...LINKS), arbSide('a'), arbSide('b'), arbEdits], { numRuns: 300 })(
    'converge: a plan applied, then reconciled again, proposes nothing',
    async (link, a0, b0, edits) => {
      const dirs = { a: new Directory('A', a0), b: new Directory('B', b0) };
      let baseline: Baseline = { linkId: link.id, entries: [] };
      for (let round = 0; round < 2; round++) {
        const r = tryReconcile(link, dirs.a.snapshot(), dirs.b.snapshot(), baseline);
        if (!r) return;
        const { baseline: next, outcomes } = await applyPlan(r.plan, dirs.a, dirs.b);
        expect([...outcomes.values()].filter((o) => o.status !== 'done')).toEqual([]);
        baseline = next;
        const again = tryReconcile(link, dirs.a.snapshot(), dirs.b.snapshot(), baseline);
        // The plan may legitimately leave a side with nobody (its last person removed while a
        // conflict keeps another pair): the core then refuses to read that emptiness as removals.
        if (!again) {
          expect([dirs.a.people.size, dirs.b.people.size]).toContain(0);
          return;
        }
        expect(again.plan.ops.map((o) => o.type)).toEqual([]);
        if (round === 0) edit(dirs, edits);
      }
    }
  );

  const mirrorEntry = (e: BaselineEntry): BaselineEntry => ({
    ...e,
    a: e.b,
    b: e.a,
    members: e.members?.map(([x, y, r]) => [y, x, r]),
    lifecycle: e.lifecycle && { ...e.lifecycle, on: e.lifecycle.on === 'a' ? 'b' : 'a' }
  });
  const describeOp = (op: Op, mirror: boolean) => {
    const side = mirror ? (op.side === 'a' ? 'b' : 'a') : op.side;
    const { key: _k, side: _s, ...rest } = op;
    return `${side}:${JSON.stringify(rest, (k, v) => (k === 'createdBy' ? 'new' : v))}`;
  };

  test.prop([arbSide('a'), arbSide('b'), arbEdits], { numRuns: 200 })('symmetry: swapping A and B mirrors the answer', async (a0, b0, edits) => {
    const link = LINKS[0];
    const dirs = { a: new Directory('A', a0), b: new Directory('B', b0) };
    const first = tryReconcile(link, dirs.a.snapshot(), dirs.b.snapshot(), { linkId: 'T', entries: [] });
    if (!first) return;
    const { baseline } = await applyPlan(first.plan, dirs.a, dirs.b);
    edit(dirs, edits);
    const ab = tryReconcile(link, dirs.a.snapshot(), dirs.b.snapshot(), baseline);
    const ba = tryReconcile({ ...link, authority: { default: 'b', fields: {} } }, dirs.b.snapshot(), dirs.a.snapshot(), { linkId: 'T', entries: baseline.entries.map(mirrorEntry) });
    if (!ab || !ba) {
      expect(Boolean(ab)).toBe(Boolean(ba));
      return;
    }
    expect(ab.counts).toEqual(ba.counts);
    expect(ab.conflicts.map((c) => c.reason).sort()).toEqual(ba.conflicts.map((c) => c.reason).sort());
    expect(ab.plan.ops.map((o) => describeOp(o, false)).sort()).toEqual(ba.plan.ops.map((o) => describeOp(o, true)).sort());
  });

  test.prop([fc.constantFrom(...LINKS), arbSide('a'), arbSide('b'), arbEdits], { numRuns: 200 })('undo: undoing a run restores the directories it started from', async (link, a0, b0, edits) => {
    const dirs = { a: new Directory('A', a0), b: new Directory('B', b0) };
    const first = tryReconcile(link, dirs.a.snapshot(), dirs.b.snapshot(), { linkId: link.id, entries: [] });
    if (!first) return;
    const { baseline } = await applyPlan(first.plan, dirs.a, dirs.b);
    edit(dirs, edits);
    const before = { a: content(dirs.a.snapshot()), b: content(dirs.b.snapshot()) };
    const r = tryReconcile(link, dirs.a.snapshot(), dirs.b.snapshot(), baseline);
    if (!r) return;
    const outcomes = new Map<string, OpOutcome>();
    await runPlan(r.plan.ops, outcomes, { apply: { a: async (op, res) => dirs.a.apply(op, res), b: async (op, res) => dirs.b.apply(op, res) } });
    const undo = planUndo(link.id, r.plan.ops, outcomes);
    // Notices cannot be unsent; nothing else in these plans is irreversible (no anonymization yet).
    expect(undo.irreversible.every((i) => /notice/.test(i.reason))).toBe(true);
    const undone = new Map<string, OpOutcome>();
    await runPlan(undo.ops, undone, { apply: { a: async (op, res) => dirs.a.apply(op, res), b: async (op, res) => dirs.b.apply(op, res) } });
    expect([...undone.values()].filter((o) => o.status !== 'done')).toEqual([]);
    expect({ a: content(dirs.a.snapshot()), b: content(dirs.b.snapshot()) }).toEqual(before);
  });
});
