/**
 * Which operations may go to a system together, decided here so every connector batches alike and
 * the runner keeps one outcome per operation (the journal and undo never see a batch).
 *
 * - Members: plain memberships of one group in one step, all added or all removed, go as one
 *   request (SCIM: one PATCH carrying many members, RFC 7644 §3.5.2). A manager's membership or a
 *   role change is not batched: the manager list is read, changed and written back on its own.
 * - Bulk: creates and updates of people and groups of one step go as one request (SCIM /Bulk).
 *   A bulk batch that creates people also takes their plain memberships of later steps, so a new
 *   person's groups are written in the same request (SCIM: `bulkId` references). Those run
 *   earlier than their step, which is safe: a membership needs only its group (an earlier step)
 *   and its person (created in the same batch).
 *
 * A policy of 1 (or none) sends each operation alone, as before batching existed.
 */
import type { Op, TargetRef } from './ops';
import type { Side } from './model';

/** How many operations may go together to one system. */
export interface BatchPolicy {
	/** Memberships of one group per request (1: one at a time). */
	members: number;
	/** Operations per bulk request (1 or absent: the system takes no bulk). */
	bulk?: number;
}

export const NO_BATCHING: BatchPolicy = { members: 1 };

/** Operations that go together; `step` is when they run (the earliest step among them). */
export interface Batch {
	step: number;
	ops: Op[];
}

const refText = (ref: TargetRef): string => ('id' in ref ? `=${ref.id}` : `+${ref.createdBy}`);

/** A plain membership (no manager role involved), batched with others of its group. */
export function isPlainMembership(op: Op): op is Extract<Op, { type: 'add-membership' | 'remove-membership' }> {
	return (
		(op.type === 'add-membership' && op.role === 'member') ||
		(op.type === 'remove-membership' && op.before === 'member')
	);
}

const BULK_TYPES: ReadonlySet<Op['type']> = new Set(['create-person', 'update-person', 'create-group', 'update-group']);

/** An operation a bulk request carries. */
export const isBulkable = (op: Op): boolean => BULK_TYPES.has(op.type);

/** The batch an operation may join (undefined: it goes alone). */
function batchKey(op: Op, policy: BatchPolicy): string | undefined {
	if (op.staged) return undefined;
	if (isPlainMembership(op) && policy.members > 1) return `m|${op.side}|${op.step}|${op.type}|${refText(op.group)}`;
	if (isBulkable(op) && (policy.bulk ?? 1) > 1) return `b|${op.side}|${op.step}`;
	return undefined;
}

/**
 * The batches of a list of operations, in run order: by step, then in the order their first
 * operation had. Each batch holds at most its policy's size; every operation is in exactly one
 * batch, most of them alone when the system takes no batches.
 */
export function planBatches(ops: readonly Op[], policies: Partial<Record<Side, BatchPolicy>> = {}): Batch[] {
	const batches: Batch[] = [];
	const open = new Map<string, Batch>();
	/** Bulk batches by the create-person key they hold: where that person's memberships may go. */
	const creatorBatch = new Map<string, { batch: Batch; limit: number }>();

	for (const op of ops) {
		const policy = policies[op.side] ?? NO_BATCHING;
		const bulk = policy.bulk ?? 1;
		// A new person's plain membership rides with the bulk request that creates the person.
		if (op.type === 'add-membership' && op.role === 'member' && !op.staged && 'createdBy' in op.person) {
			const home = creatorBatch.get(op.person.createdBy);
			if (home && home.batch.ops.length < home.limit && home.batch.ops[0].side === op.side) {
				home.batch.ops.push(op);
				continue;
			}
		}
		const key = batchKey(op, policy);
		if (key === undefined) {
			batches.push({ step: op.step, ops: [op] });
			continue;
		}
		const limit = key.startsWith('b|') ? bulk : policy.members;
		let batch = open.get(key);
		if (!batch || batch.ops.length >= limit) {
			batch = { step: op.step, ops: [] };
			open.set(key, batch);
			batches.push(batch);
		}
		batch.ops.push(op);
		if (op.type === 'create-person' && key.startsWith('b|')) creatorBatch.set(op.key, { batch, limit });
	}
	// Stable: batches of one step keep the order of their first operation.
	return batches
		.map((b, i) => ({ b, i }))
		.sort((x, y) => x.b.step - y.b.step || x.i - y.i)
		.map((x) => x.b);
}
