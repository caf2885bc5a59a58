/** Test helpers: apply a plan to two in-memory directories and commit the baseline. */
import {
	commitBaseline,
	runPlan,
	type Baseline,
	type Directory,
	type Op,
	type OpOutcome,
	type Plan
} from '../../src/lib/core';

/** `fails`: the operations a system refuses (503), leaving its directory as it was. */
export async function applyPlan(
	plan: Plan,
	a: Directory,
	b: Directory,
	fails: (op: Op) => boolean = () => false
): Promise<{ baseline: Baseline; outcomes: Map<string, OpOutcome> }> {
	const outcomes = new Map<string, OpOutcome>();
	const on = (d: Directory) => async (op: Op, resolve: Parameters<Directory['apply']>[1]) => {
		if (fails(op)) throw new Error('503 Service Unavailable');
		return d.apply(op, resolve);
	};
	await runPlan(plan.ops, outcomes, { apply: { a: on(a), b: on(b) } });
	return { baseline: commitBaseline(plan, outcomes), outcomes };
}
