/** Test helpers: apply a plan to two in-memory directories and commit the baseline. */
import { commitBaseline, runPlan, type Baseline, type Directory, type OpOutcome, type Plan } from '../../src/lib/core';

export async function applyPlan(
	plan: Plan,
	a: Directory,
	b: Directory
): Promise<{ baseline: Baseline; outcomes: Map<string, OpOutcome> }> {
	const outcomes = new Map<string, OpOutcome>();
	await runPlan(plan.ops, outcomes, {
		apply: { a: async (op, resolve) => a.apply(op, resolve), b: async (op, resolve) => b.apply(op, resolve) }
	});
	return { baseline: commitBaseline(plan, outcomes), outcomes };
}
