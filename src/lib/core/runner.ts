/**
 * Applies a plan through a deps object, one outcome per operation. Resumable: operations already
 * done are skipped, so a run cut off at any point continues without applying anything twice.
 * One failed operation does not stop the run; what depends on it is skipped.
 */
import type { Side } from './model';
import type { Op, TargetRef } from './ops';

export const OUTCOME_STATUSES = ['done', 'failed', 'skipped', 'staged'] as const;
export type OutcomeStatus = (typeof OUTCOME_STATUSES)[number];

export interface OpOutcome {
	key: string;
	status: OutcomeStatus;
	/** The id a create produced. */
	id?: string;
	error?: string;
	/** A create refused because another record holds a unique value (see Collision). */
	collision?: { existingId?: string; field?: string };
}

/**
 * The collision a create's error reports: connectors throw errors with `code: 'conflict'` and,
 * when they found it, the record that holds the value (`existingId`). Read by shape, since the
 * core knows no connector.
 */
function collisionOf(e: unknown): OpOutcome['collision'] {
	if (typeof e !== 'object' || e === null || (e as { code?: unknown }).code !== 'conflict') return undefined;
	const { existingId, field } = e as { existingId?: unknown; field?: unknown };
	return {
		...(typeof existingId === 'string' ? { existingId } : {}),
		...(typeof field === 'string' ? { field } : {})
	};
}

/** Writes one operation to one system; create operations return the new record's id. */
export type Applier = (op: Op, resolve: (ref: TargetRef) => string) => Promise<{ id?: string }>;

export interface RunDeps {
	apply: Record<Side, Applier>;
	/** Operations in flight at once within a step (steps never overlap). */
	concurrency?: number;
	/** Called after each outcome (persist it before the next write for crash safety). */
	onOutcome?: (outcome: OpOutcome, op: Op) => void | Promise<void>;
	/** Asked between operations; true ends this slice (the caller continues later). */
	shouldYield?: () => boolean;
}

export class DependencyError extends Error {}

/** Every TargetRef an operation reads. */
export function refsOf(op: Op): TargetRef[] {
	const refs: TargetRef[] = [];
	if ('target' in op) refs.push(op.target);
	if ('group' in op) refs.push(op.group);
	if ('person' in op) refs.push(op.person);
	return refs;
}

/** Keys of the operations whose outcome an operation needs before it can run. */
export function dependenciesOf(op: Op): string[] {
	const keys: string[] = [];
	for (const ref of refsOf(op)) if ('createdBy' in ref) keys.push(ref.createdBy);
	if (op.type === 'notify-transfer') keys.push(...op.after);
	return keys;
}

export function resolver(outcomes: ReadonlyMap<string, OpOutcome>): (ref: TargetRef) => string {
	return (ref) => {
		if ('id' in ref) return ref.id;
		const created = outcomes.get(ref.createdBy);
		if (created?.status === 'done' && created.id) return created.id;
		throw new DependencyError(`depends on ${ref.createdBy}, which did not succeed`);
	};
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Runs the operations not yet done. Returns true when every operation has an outcome, false when
 * `shouldYield` cut the slice short.
 */
export async function runPlan(ops: readonly Op[], outcomes: Map<string, OpOutcome>, deps: RunDeps): Promise<boolean> {
	const resolve = resolver(outcomes);
	const limit = Math.max(1, deps.concurrency ?? 1);
	let i = 0;
	while (i < ops.length) {
		const step = ops[i].step;
		const inFlight = new Set<Promise<void>>();
		for (; i < ops.length && ops[i].step === step; i++) {
			const op = ops[i];
			// Anything with an outcome is settled for this run; failures are retried by the next run's plan.
			if (outcomes.has(op.key)) continue;
			if (deps.shouldYield?.()) {
				await Promise.all(inFlight);
				return false;
			}
			const task = settle(op, outcomes, deps, resolve).then(() => {
				inFlight.delete(task);
			});
			inFlight.add(task);
			if (inFlight.size >= limit) await Promise.race(inFlight);
		}
		await Promise.all(inFlight);
	}
	return true;
}

async function settle(
	op: Op,
	outcomes: Map<string, OpOutcome>,
	deps: RunDeps,
	resolve: (ref: TargetRef) => string
): Promise<void> {
	let outcome: OpOutcome;
	if (op.staged) {
		outcome = { key: op.key, status: 'staged' };
	} else {
		try {
			for (const ref of refsOf(op)) resolve(ref);
			if (op.type === 'notify-transfer') {
				const waiting = op.after.find((key) => outcomes.get(key)?.status !== 'done');
				if (waiting) throw new DependencyError(`waits for ${waiting}: the move has not happened yet`);
			}
			const result = await deps.apply[op.side](op, resolve);
			outcome = { key: op.key, status: 'done', ...(result.id ? { id: result.id } : {}) };
		} catch (e) {
			outcome = { key: op.key, status: e instanceof DependencyError ? 'skipped' : 'failed', error: message(e) };
			const collision = op.type === 'create-person' ? collisionOf(e) : undefined;
			if (collision) outcome.collision = collision;
		}
	}
	outcomes.set(op.key, outcome);
	await deps.onOutcome?.(outcome, op);
}

export interface RunTally {
	total: number;
	done: number;
	failed: number;
	skipped: number;
	staged: number;
	pending: number;
}

export function tally(ops: readonly Op[], outcomes: ReadonlyMap<string, OpOutcome>): RunTally {
	const t: RunTally = { total: ops.length, done: 0, failed: 0, skipped: 0, staged: 0, pending: 0 };
	for (const op of ops) {
		const o = outcomes.get(op.key);
		if (!o) t.pending++;
		else t[o.status]++;
	}
	return t;
}
