/**
 * What a run, an undo or an approval will do, before anyone confirms it: counts per operation
 * type, the first operations (the edge adds their names), what cannot be taken back, and a digest
 * of exactly these operations (the edge refuses to apply another set than the one confirmed).
 */
import { fnv1a } from './digest';
import type { Op, OpType } from './ops';
import { countOps, type PlanCounts } from './plan';

/**
 * Why an operation cannot be reversed once done (undefined: an undo reverses it). Takes only what
 * decides it, so counts kept elsewhere (a stored plan's rows) can be described without the ops.
 */
export function irreversibleReason(op: { type: OpType; soft?: boolean }): string | undefined {
	switch (op.type) {
		case 'anonymize-person':
			return 'anonymization is irreversible by design';
		case 'invite':
		case 'notify-transfer':
			return 'a notice that was sent cannot be unsent';
		case 'remove-person':
			return op.soft ? undefined : 'deleted, not deactivated: an undo creates a new account with the same values';
		case 'remove-group':
			return 'deleted with its content: an undo re-creates the group and its memberships, not its content';
		default:
			return undefined;
	}
}

/** Operations that cannot be reversed, grouped by type and reason. */
export interface IrreversibleGroup {
	type: OpType;
	reason: string;
	count: number;
}

export interface OpsPreview {
	counts: PlanCounts;
	/** Operations that will run (not staged), the first `limit` of them, in run order. */
	ops: Op[];
	/** Operations that will run beyond those listed. */
	more: number;
	irreversible: IrreversibleGroup[];
	/** Digest of every operation's key: what an owner confirmed, to compare with what runs. */
	digest: string;
}

export const opsDigest = (ops: readonly Op[]): string => fnv1a(ops.map((op) => op.key).join(','));

/** Groups irreversible operations by type and reason, in the order they first appear. */
export function groupIrreversible(items: Iterable<{ type: OpType; reason: string }>): IrreversibleGroup[] {
	const groups = new Map<string, IrreversibleGroup>();
	for (const { type, reason } of items) {
		const key = `${type}\u0000${reason}`;
		const g = groups.get(key);
		if (g) g.count++;
		else groups.set(key, { type, reason, count: 1 });
	}
	return [...groups.values()];
}

/**
 * The preview of operations about to run. `irreversible` overrides what is said to be
 * irreversible (an undo: the undone run's operations it cannot reverse); by default it is the
 * operations themselves that cannot be reversed. Staged operations are counted, not listed.
 */
export function previewOps(
	ops: readonly Op[],
	options: { limit?: number; irreversible?: IrreversibleGroup[] } = {}
): OpsPreview {
	const limit = options.limit ?? 100;
	const running = ops.filter((op) => !op.staged);
	const irreversible =
		options.irreversible ??
		groupIrreversible(
			running.flatMap((op) => {
				const reason = irreversibleReason(op);
				return reason ? [{ type: op.type, reason }] : [];
			})
		);
	const listed = running.slice(0, limit);
	return {
		counts: countOps(ops),
		ops: listed,
		more: Math.max(0, running.length - limit),
		irreversible,
		digest: opsDigest(ops)
	};
}
