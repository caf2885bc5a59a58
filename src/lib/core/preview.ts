/**
 * What a run, an undo or an approval will do, before anyone confirms it: counts per operation
 * type, the first operations named, what cannot be taken back, and a digest of exactly these
 * operations (the edge refuses to apply another set than the one confirmed).
 */
import { fnv1a } from './digest';
import type { Side } from './model';
import type { Op, OpType, TargetRef } from './ops';
import { countOps, type PlanCounts } from './plan';

/** Why an operation cannot be reversed once done (undefined: an undo reverses it). */
export function irreversibleReason(op: Op): string | undefined {
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

/** Names of the records operations refer to by id, per side (people and groups share one map). */
export type Names = Record<Side, Record<string, string>>;

export interface OpsPreview {
	counts: PlanCounts;
	/** Operations that will run (not staged), the first `limit` of them, in run order. */
	ops: Op[];
	/** Operations that will run beyond those listed. */
	more: number;
	irreversible: IrreversibleGroup[];
	/** Digest of every operation's key: what an owner confirmed, to compare with what runs. */
	digest: string;
	names: Names;
	/** Names of the records the listed operations need created first, by the creating key. */
	created: Record<string, string>;
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
	options: { limit?: number; irreversible?: IrreversibleGroup[]; names?: Names } = {}
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
	const wanted = new Set(listed.flatMap((op) => refs(op).flatMap((r) => ('createdBy' in r ? [r.createdBy] : []))));
	const created: Record<string, string> = {};
	for (const [key, name] of createdNames(ops)) if (wanted.has(key)) created[key] = name;
	return {
		counts: countOps(ops),
		ops: listed,
		more: Math.max(0, running.length - limit),
		irreversible,
		digest: opsDigest(ops),
		names: options.names ?? { a: {}, b: {} },
		created
	};
}

/** The ids (per side) the operations refer to, to look their names up. */
export function referencedIds(ops: readonly Op[]): Record<Side, Set<string>> {
	const ids = { a: new Set<string>(), b: new Set<string>() };
	for (const op of ops) for (const ref of refs(op)) if ('id' in ref) ids[op.side].add(ref.id);
	return ids;
}

function refs(op: Op): TargetRef[] {
	const out: TargetRef[] = [];
	if ('target' in op) out.push(op.target);
	if ('group' in op) out.push(op.group);
	if ('person' in op) out.push(op.person);
	return out;
}

/**
 * The records an operation concerns, by name: "Ada Berg", "Ada Berg in North Station". A record
 * the operations create is named from its creation; an id with no known name stays the id.
 */
export function opSubject(op: Op, names: Names, created: Readonly<Record<string, string>>): string {
	const name = (ref: TargetRef): string =>
		'id' in ref ? (names[op.side][ref.id] ?? ref.id) : (created[ref.createdBy] ?? 'a new record');
	switch (op.type) {
		case 'create-person':
			return op.record.displayName;
		case 'create-group':
			return op.record.name;
		case 'remove-person':
			return op.before.displayName || name(op.target);
		case 'remove-group':
			return op.before.name || name(op.target);
		case 'anonymize-person':
			return op.before.displayName || name(op.target);
		case 'add-membership':
		case 'set-role':
		case 'remove-membership':
			return `${name(op.person)} in ${name(op.group)}`;
		case 'invite':
		case 'notify-transfer':
			return name(op.person);
		default:
			return name(op.target);
	}
}

/** Names of what the operations create, by the creating operation's key. */
export function createdNames(ops: readonly Op[]): Map<string, string> {
	const out = new Map<string, string>();
	for (const op of ops) {
		if (op.type === 'create-person') out.set(op.key, op.record.displayName);
		else if (op.type === 'create-group') out.set(op.key, op.record.name);
	}
	return out;
}
