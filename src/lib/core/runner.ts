/**
 * Applies a plan through a deps object, one outcome per operation. Resumable: operations already
 * done are skipped, so a run cut off at any point continues without applying anything twice.
 * One failed operation does not stop the run; what depends on it is skipped.
 */
import type { Side } from './model';
import type { Op, TargetRef } from './ops';
import { planBatches, type Batch, type BatchPolicy } from './batch';

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

/**
 * Writes the operations of one batch (see batch.ts) together. `resolve` throws for a record
 * created by an operation of the same batch: the applier refers to it within the request. The
 * answer has an outcome per operation it settled (its result, or the error that operation alone
 * met); an operation it leaves out is applied on its own afterwards. A throw fails every
 * operation of the batch with that error.
 */
export type BatchApplier = (
	ops: Op[],
	resolve: (ref: TargetRef) => string
) => Promise<Map<string, { id?: string } | Error>>;

export interface RunDeps {
	apply: Record<Side, Applier>;
	/** Appliers of batches, for the sides that take them. */
	applyBatch?: Partial<Record<Side, BatchApplier>>;
	/** How many operations may go together on each side (none: one at a time). */
	batching?: Partial<Record<Side, BatchPolicy>>;
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
	// Anything with an outcome is settled for this run; failures are retried by the next run's plan.
	const batches = planBatches(
		ops.filter((op) => !outcomes.has(op.key)),
		deps.applyBatch ? deps.batching : undefined
	);
	let i = 0;
	while (i < batches.length) {
		const step = batches[i].step;
		const inFlight = new Set<Promise<void>>();
		for (; i < batches.length && batches[i].step === step; i++) {
			const batch = batches[i];
			if (batch.ops.every((op) => outcomes.has(op.key))) continue;
			if (deps.shouldYield?.()) {
				await Promise.all(inFlight);
				return false;
			}
			const task = (
				batch.ops.length === 1
					? settle(batch.ops[0], outcomes, deps, resolve)
					: settleBatch(batch, outcomes, deps, resolve)
			).then(() => {
				inFlight.delete(task);
			});
			inFlight.add(task);
			if (inFlight.size >= limit) await Promise.race(inFlight);
		}
		await Promise.all(inFlight);
	}
	return true;
}

/**
 * One batch: what cannot run is skipped or staged as it would be alone, the rest goes to the
 * side's batch applier, and every operation gets its own outcome, in the batch's order (a
 * create's before the memberships that name its person).
 */
async function settleBatch(
	batch: Batch,
	outcomes: Map<string, OpOutcome>,
	deps: RunDeps,
	resolve: (ref: TargetRef) => string
): Promise<void> {
	const inBatch = new Set(batch.ops.map((op) => op.key));
	const ready: Op[] = [];
	for (const op of batch.ops) {
		if (outcomes.has(op.key)) continue;
		if (op.staged || stagedDependency(op, outcomes)) {
			await settle(op, outcomes, deps, resolve);
			continue;
		}
		try {
			for (const ref of refsOf(op)) if (!('createdBy' in ref && inBatch.has(ref.createdBy))) resolve(ref);
			ready.push(op);
		} catch (e) {
			await record({ key: op.key, status: 'skipped', error: message(e) }, op, outcomes, deps);
		}
	}
	const applier = deps.applyBatch?.[batch.ops[0].side];
	let results = new Map<string, { id?: string } | Error>();
	if (applier && ready.length > 1) {
		const inner = (ref: TargetRef) => {
			if ('createdBy' in ref && inBatch.has(ref.createdBy) && !outcomes.has(ref.createdBy))
				throw new DependencyError(`created in the same batch by ${ref.createdBy}`);
			return resolve(ref);
		};
		try {
			results = await applier(ready, inner);
		} catch (e) {
			results = new Map(ready.map((op) => [op.key, e instanceof Error ? e : new Error(String(e))]));
		}
	}
	for (const op of ready) {
		const result = results.get(op.key);
		if (result === undefined) await settle(op, outcomes, deps, resolve);
		else await record(outcomeOf(op, result), op, outcomes, deps);
	}
}

function outcomeOf(op: Op, result: { id?: string } | Error): OpOutcome {
	if (!(result instanceof Error)) return { key: op.key, status: 'done', ...(result.id ? { id: result.id } : {}) };
	const outcome: OpOutcome = {
		key: op.key,
		status: result instanceof DependencyError ? 'skipped' : 'failed',
		error: message(result)
	};
	const collision = op.type === 'create-person' ? collisionOf(result) : undefined;
	if (collision) outcome.collision = collision;
	return outcome;
}

async function record(outcome: OpOutcome, op: Op, outcomes: Map<string, OpOutcome>, deps: RunDeps): Promise<void> {
	outcomes.set(op.key, outcome);
	await deps.onOutcome?.(outcome, op);
}

/**
 * The staged creation an operation needs (its person or group), if any: what needs it waits with
 * it for the owner, staged too, rather than skipped as if it had failed.
 */
function stagedDependency(op: Op, outcomes: ReadonlyMap<string, OpOutcome>): string | undefined {
	for (const ref of refsOf(op))
		if ('createdBy' in ref && outcomes.get(ref.createdBy)?.status === 'staged') return ref.createdBy;
	return undefined;
}

async function settle(
	op: Op,
	outcomes: Map<string, OpOutcome>,
	deps: RunDeps,
	resolve: (ref: TargetRef) => string
): Promise<void> {
	let outcome: OpOutcome;
	const waitsFor = op.staged ? undefined : stagedDependency(op, outcomes);
	if (op.staged) {
		outcome = { key: op.key, status: 'staged' };
	} else if (waitsFor) {
		outcome = { key: op.key, status: 'staged', error: `waits with ${waitsFor}, staged behind a limit` };
	} else {
		try {
			for (const ref of refsOf(op)) resolve(ref);
			if (op.type === 'notify-transfer') {
				const waiting = op.after.find((key) => outcomes.get(key)?.status !== 'done');
				if (waiting) throw new DependencyError(`waits for ${waiting}: the move has not happened yet`);
			}
			outcome = outcomeOf(op, await deps.apply[op.side](op, resolve));
		} catch (e) {
			outcome = outcomeOf(op, e instanceof Error ? e : new Error(String(e)));
		}
	}
	await record(outcome, op, outcomes, deps);
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
