/** The runner: one failure does not stop a run, dependants are skipped, and a cut run resumes exactly. */
import { describe, expect, test } from 'vitest';
import { Directory, reconcile, runPlan, tally, type Op, type OpOutcome, type TargetRef } from '../../src/lib/core';
import { baseline, group, member, NOW, person, twoWay } from '../support/factories';

function plan() {
	const a = new Directory('A', {
		people: [
			person('a1', 'Ann', { email: 'ann@x.org' }),
			person('a2', 'Bo', { email: 'bo@x.org' }),
			person('a3', 'Cy', { email: 'cy@x.org' })
		],
		groups: [group('ga', 'Ops')],
		memberships: [member('ga', 'a1'), member('ga', 'a2'), member('ga', 'a3')]
	});
	const b = new Directory('B', { people: [], groups: [], memberships: [] });
	const link = twoWay();
	return { a, b, r: reconcile({ link, a: a.snapshot(), b: b.snapshot(), baseline: baseline(link.id), now: NOW }) };
}

describe('runPlan', () => {
	test('a failed create fails alone; what needs it is skipped; the rest is done', async () => {
		const { a, b, r } = plan();
		const outcomes = new Map<string, OpOutcome>();
		const failing = (op: Op) => op.type === 'create-person' && op.record.displayName === 'Bo';
		await runPlan(r.plan.ops, outcomes, {
			apply: {
				a: async (op, res) => a.apply(op, res),
				b: async (op, res) => {
					if (failing(op)) throw new Error('409 uniqueness: userName bo@x.org');
					return b.apply(op, res);
				}
			}
		});
		expect(tally(r.plan.ops, outcomes)).toMatchObject({ total: 7, done: 5, failed: 1, skipped: 1, pending: 0 });
		expect([...outcomes.values()].find((o) => o.status === 'failed')?.error).toMatch(/uniqueness/);
		expect(b.members.get([...b.groups.keys()][0])?.size).toBe(2);
	});

	test('a run cut at every point resumes without applying anything twice', async () => {
		for (let cut = 0; cut <= 7; cut++) {
			const { a, b, r } = plan();
			const outcomes = new Map<string, OpOutcome>();
			const applied: string[] = [];
			const apply = async (dir: Directory, op: Op, res: (ref: TargetRef) => string) => {
				applied.push(op.key);
				return dir.apply(op, res);
			};
			let calls = 0;
			const deps = {
				apply: {
					a: (op: Op, res: (ref: TargetRef) => string) => apply(a, op, res),
					b: (op: Op, res: (ref: TargetRef) => string) => apply(b, op, res)
				}
			};
			const complete = await runPlan(r.plan.ops, outcomes, { ...deps, shouldYield: () => calls++ >= cut });
			expect(complete).toBe(cut >= 7);
			expect(await runPlan(r.plan.ops, outcomes, deps)).toBe(true);
			expect(applied).toHaveLength(7);
			expect(new Set(applied).size).toBe(7);
		}
	});

	test('staged operations are not applied', async () => {
		const outcomes = new Map<string, OpOutcome>();
		const op: Op = {
			key: 'k',
			type: 'remove-person',
			side: 'b',
			step: 5,
			staged: true,
			target: { id: 'x' },
			soft: true,
			before: person('x', 'X'),
			beforeMembers: []
		};
		await runPlan([op], outcomes, {
			apply: {
				a: async () => ({}),
				b: async () => {
					throw new Error('must not be called');
				}
			}
		});
		expect(outcomes.get('k')?.status).toBe('staged');
	});

	test('concurrency never lets a step start before the previous one ends', async () => {
		const { a, b, r } = plan();
		const order: number[] = [];
		const outcomes = new Map<string, OpOutcome>();
		const slow = (dir: Directory) => async (op: Op, res: (ref: TargetRef) => string) => {
			await new Promise((ok) => setTimeout(ok, op.step === 1 ? 5 : 0));
			order.push(op.step);
			return dir.apply(op, res);
		};
		await runPlan(r.plan.ops, outcomes, { apply: { a: slow(a), b: slow(b) }, concurrency: 4 });
		expect(order).toEqual([...order].sort());
		expect(tally(r.plan.ops, outcomes).done).toBe(7);
	});
});
