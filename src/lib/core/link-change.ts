/**
 * What a change to a link's settings changes, before it is applied: the settings that differ,
 * and whether the plan must be made again to show its effect. Plain data in and out; the edge
 * adds the plans (before and after) and the next nightly run (worker/link/link-do.ts).
 */
import type { LinkConfig } from './model';

/** One setting that differs, named as LinkConfig names it (`schedule`, `limits`, `match`…). */
export interface LinkChange {
	field: string;
	before: unknown;
	after: unknown;
}

/** Settings that never reach a plan: the link's name and when it runs. */
const OUTSIDE_PLAN = new Set(['name', 'schedule']);
/** Settings with their own switch or that are the link itself (see link-policy.ts). */
const FIXED = new Set(['id', 'systems', 'enabled']);

const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);

/** The settings of `after` that differ from `before`, in LinkConfig's order. */
export function linkChanges(before: LinkConfig, after: LinkConfig): LinkChange[] {
	const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
	return keys
		.filter((field) => !FIXED.has(field))
		.filter((field) => !same(before[field as keyof LinkConfig], after[field as keyof LinkConfig]))
		.map((field) => ({
			field,
			before: before[field as keyof LinkConfig],
			after: after[field as keyof LinkConfig]
		}));
}

/**
 * True when the changes can change what a reconciliation proposes (matching, fields, limits,
 * authority, removals…): the plan is made again under them to show their effect. A new name or
 * schedule changes only the link's label and the next run's time.
 */
export const changesPlan = (changes: readonly LinkChange[]): boolean => changes.some((c) => !OUTSIDE_PLAN.has(c.field));
