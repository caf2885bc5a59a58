/** Batching: which operations go to a system together, and the runner keeping one outcome each. */
import { describe, expect, test } from 'vitest';
import {
	Directory,
	planBatches,
	reconcile,
	runPlan,
	tally,
	type BatchApplier,
	type BatchPolicy,
	type Op,
	type OpOutcome,
	type Side
} from '../../src/lib/core';
import { baseline, group, member, NOW, person, provision } from '../support/factories';

const add = (key: string, g: string, p: string, extra: Partial<Op> = {}): Op =>
	({
		key,
		type: 'add-membership',
		side: 'b',
		step: 2,
		group: { id: g },
		person: { id: p },
		role: 'member',
		...extra
	}) as Op;
const remove = (key: string, g: string, p: string, before: 'member' | 'manager' = 'member'): Op =>
	({ key, type: 'remove-membership', side: 'b', step: 4, group: { id: g }, person: { id: p }, before }) as Op;
const create = (key: string, name: string, step = 1): Op =>
	({ key, type: 'create-person', side: 'b', step, record: { displayName: name, active: true } }) as Op;
const update = (key: string, id: string): Op =>
	({ key, type: 'update-person', side: 'b', step: 1, target: { id }, values: { phone: '1' }, before: {} }) as Op;
const addNew = (key: string, g: string, creator: string): Op =>
	({
		key,
		type: 'add-membership',
		side: 'b',
		step: 2,
		group: { id: g },
		person: { createdBy: creator },
		role: 'member'
	}) as Op;

const keys = (ops: Op[], policy?: BatchPolicy, other?: BatchPolicy) =>
	planBatches(ops, { ...(policy ? { b: policy } : {}), ...(other ? { a: other } : {}) }).map((b) =>
		b.ops.map((op) => op.key).join(' ')
	);

describe('planBatches', () => {
	const cases: { name: string; ops: Op[]; policy?: BatchPolicy; want: string[] }[] = [
		{
			name: 'no policy: every operation alone, in order',
			ops: [add('m1', 'g1', 'p1'), add('m2', 'g1', 'p2')],
			want: ['m1', 'm2']
		},
		{
			name: 'plain memberships of one group go together',
			ops: [add('m1', 'g1', 'p1'), add('m2', 'g2', 'p1'), add('m3', 'g1', 'p2'), add('m4', 'g2', 'p2')],
			policy: { members: 10 },
			want: ['m1 m3', 'm2 m4']
		},
		{
			name: 'up to the policy size, then a new batch',
			ops: [add('m1', 'g1', 'p1'), add('m2', 'g1', 'p2'), add('m3', 'g1', 'p3')],
			policy: { members: 2 },
			want: ['m1 m2', 'm3']
		},
		{
			name: 'a manager membership goes alone (its list is read and written back)',
			ops: [add('m1', 'g1', 'p1'), add('m2', 'g1', 'p2', { role: 'manager' }), add('m3', 'g1', 'p3')],
			policy: { members: 10 },
			want: ['m1 m3', 'm2']
		},
		{
			name: 'additions and removals never share a batch; a manager removal goes alone',
			ops: [
				add('m1', 'g1', 'p1'),
				remove('r1', 'g1', 'p2'),
				remove('r2', 'g1', 'p3', 'manager'),
				remove('r3', 'g1', 'p4')
			],
			policy: { members: 10 },
			want: ['m1', 'r1 r3', 'r2']
		},
		{
			name: 'staged operations go alone (the runner stages them)',
			ops: [add('m1', 'g1', 'p1'), add('m2', 'g1', 'p2', { staged: true }), add('m3', 'g1', 'p3')],
			policy: { members: 10 },
			want: ['m1 m3', 'm2']
		},
		{
			name: 'memberships of a group that is created in the plan batch by its creator',
			ops: [
				{ ...add('m1', '', 'p1'), group: { createdBy: 'cg' } } as Op,
				{ ...add('m2', '', 'p2'), group: { createdBy: 'cg' } } as Op,
				add('m3', 'cg', 'p3')
			],
			policy: { members: 10 },
			want: ['m1 m2', 'm3']
		},
		{
			name: 'without bulk, creates and updates go alone',
			ops: [create('c1', 'Ann'), update('u1', 'x')],
			policy: { members: 10 },
			want: ['c1', 'u1']
		},
		{
			name: 'bulk: creates and updates of a step together, up to the bulk size',
			ops: [create('c1', 'Ann'), update('u1', 'x'), create('c2', 'Bo')],
			policy: { members: 10, bulk: 2 },
			want: ['c1 u1', 'c2']
		},
		{
			name: 'bulk: a new person’s plain memberships ride with the create; others batch by group',
			ops: [
				create('c1', 'Ann'),
				create('c2', 'Bo'),
				addNew('m1', 'g1', 'c1'),
				add('m2', 'g1', 'p9'),
				addNew('m3', 'g2', 'c2')
			],
			policy: { members: 10, bulk: 10 },
			want: ['c1 c2 m1 m3', 'm2']
		},
		{
			name: 'bulk: a full bulk batch takes no more memberships',
			ops: [create('c1', 'Ann'), addNew('m1', 'g1', 'c1'), addNew('m2', 'g1', 'c1')],
			policy: { members: 10, bulk: 2 },
			want: ['c1 m1', 'm2']
		},
		{
			name: 'removals and manager memberships never go in a bulk batch',
			ops: [create('c1', 'Ann'), { ...addNew('m1', 'g1', 'c1'), role: 'manager' } as Op, remove('r1', 'g1', 'p1')],
			policy: { members: 10, bulk: 10 },
			want: ['c1', 'm1', 'r1']
		}
	];
	test.each(cases)('$name', ({ ops, policy, want }) => {
		expect(keys(ops, policy)).toEqual(want);
	});

	test('each side has its own policy', () => {
		const ops = [
			add('m1', 'g1', 'p1'),
			add('m2', 'g1', 'p2'),
			{ ...add('a1', 'g1', 'p1'), side: 'a' } as Op,
			{ ...add('a2', 'g1', 'p2'), side: 'a' } as Op
		];
		expect(keys(ops, { members: 10 })).toEqual(['m1 m2', 'a1', 'a2']);
	});

	test('batches run by step, whatever order the operations came in', () => {
		const ops = [remove('r1', 'g1', 'p1'), add('m1', 'g1', 'p1'), create('c1', 'Ann')];
		expect(planBatches(ops, { b: { members: 10 } }).map((b) => b.step)).toEqual([1, 2, 4]);
	});

	test('every operation lands in exactly one batch', () => {
		const ops: Op[] = [];
		for (let i = 0; i < 50; i++)
			ops.push(create(`c${i}`, `P${i}`), addNew(`n${i}`, `g${i % 3}`, `c${i}`), add(`m${i}`, `g${i % 4}`, `p${i}`));
		const batches = planBatches(ops, { b: { members: 7, bulk: 9 } });
		const all = batches.flatMap((b) => b.ops.map((op) => op.key));
		expect(all.sort()).toEqual(ops.map((op) => op.key).sort());
		for (const b of batches) expect(b.ops.length).toBeLessThanOrEqual(9);
	});
});

/** A provisioning plan: three new people in one new group, plus one existing member removed. */
function plan() {
	const a = new Directory('HR', {
		people: [person('a1', 'Ann'), person('a2', 'Bo'), person('a3', 'Cy')],
		groups: [group('ga', 'Ops')],
		memberships: [member('ga', 'a1'), member('ga', 'a2'), member('ga', 'a3')]
	});
	const b = new Directory('T', { people: [], groups: [], memberships: [] });
	const link = provision();
	return {
		b,
		ops: reconcile({ link, a: a.snapshot(), b: b.snapshot(), baseline: baseline(link.id), now: NOW }).plan.ops
	};
}

describe('runPlan with batches', () => {
	const batching: Partial<Record<Side, BatchPolicy>> = { b: { members: 10, bulk: 10 } };

	test('a batch applier settles each operation; the outcomes are what one-by-one gives', async () => {
		const { b, ops } = plan();
		const outcomes = new Map<string, OpOutcome>();
		const calls: string[][] = [];
		const applyBatch: BatchApplier = async (batch, resolve) => {
			calls.push(batch.map((op) => op.type));
			const created = new Map<string, string>();
			const res = (ref: Parameters<typeof resolve>[0]) =>
				'createdBy' in ref && created.has(ref.createdBy) ? created.get(ref.createdBy)! : resolve(ref);
			const out = new Map<string, { id?: string } | Error>();
			for (const op of batch) {
				const r = b.apply(op, res);
				if (r.id) created.set(op.key, r.id);
				out.set(op.key, r);
			}
			return out;
		};
		await runPlan(ops, outcomes, {
			apply: { a: async () => ({}), b: async (op, res) => b.apply(op, res) },
			applyBatch: { b: applyBatch },
			batching
		});
		expect(tally(ops, outcomes)).toMatchObject({ failed: 0, skipped: 0, pending: 0 });
		// The group alone (one create is no batch), then the people with their memberships in one request.
		expect(calls).toEqual([
			['create-person', 'create-person', 'create-person', 'add-membership', 'add-membership', 'add-membership']
		]);
		expect(b.members.get([...b.groups.keys()][0])?.size).toBe(3);
	});

	test('what the applier leaves out is applied alone; an error it names fails that operation only; its dependants are skipped', async () => {
		const { b, ops } = plan();
		const outcomes = new Map<string, OpOutcome>();
		const alone: string[] = [];
		const bo = ops.find((op) => op.type === 'create-person' && op.record.displayName === 'Bo')!;
		const applyBatch: BatchApplier = async (batch) => {
			const out = new Map<string, { id?: string } | Error>();
			// Bo's create fails; everything else is left to be applied alone.
			out.set(bo.key, Object.assign(new Error('409 uniqueness'), { code: 'conflict', existingId: 'u7' }));
			expect(batch.length).toBeGreaterThan(1);
			return out;
		};
		await runPlan(ops, outcomes, {
			apply: {
				a: async () => ({}),
				b: async (op, res) => {
					alone.push(op.type);
					return b.apply(op, res);
				}
			},
			applyBatch: { b: applyBatch },
			batching
		});
		expect(outcomes.get(bo.key)).toMatchObject({ status: 'failed', collision: { existingId: 'u7' } });
		// Bo's membership and invitation wait for the create that failed.
		expect(tally(ops, outcomes)).toMatchObject({ failed: 1, skipped: 2, pending: 0 });
		expect(alone.filter((t) => t !== 'invite').sort()).toEqual([
			'add-membership',
			'add-membership',
			'create-group',
			'create-person',
			'create-person'
		]);
	});

	test('a batch applier that throws fails every operation it was given, each with the error', async () => {
		const { ops } = plan();
		const outcomes = new Map<string, OpOutcome>();
		await runPlan(ops, outcomes, {
			apply: { a: async () => ({}), b: async () => ({ id: 'g1' }) },
			applyBatch: {
				b: async () => {
					throw new Error('system T: did not answer within 30 s');
				}
			},
			batching
		});
		const failed = [...outcomes.values()].filter((o) => o.status === 'failed');
		expect(failed).toHaveLength(6);
		for (const o of failed) expect(o.error).toMatch(/did not answer/);
	});

	test('a run cut between batches resumes without applying anything twice', async () => {
		for (let cut = 0; cut <= 3; cut++) {
			const { b, ops } = plan();
			const outcomes = new Map<string, OpOutcome>();
			const applied: string[] = [];
			const deps = {
				apply: {
					a: async () => ({}),
					b: async (op: Op, res: (r: import('../../src/lib/core').TargetRef) => string) => {
						applied.push(op.key);
						return b.apply(op, res);
					}
				},
				applyBatch: {
					b: (async (batch) => {
						applied.push(...batch.map((op) => op.key));
						return new Map(batch.map((op) => [op.key, {}]));
					}) as BatchApplier
				},
				batching: { b: { members: 10 } }
			};
			let calls = 0;
			await runPlan(ops, outcomes, { ...deps, shouldYield: () => calls++ >= cut });
			expect(await runPlan(ops, outcomes, deps)).toBe(true);
			expect(applied.sort()).toEqual(ops.map((op) => op.key).sort());
		}
	});
});
