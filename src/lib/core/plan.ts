/**
 * The plan: ordered operations with stable idempotency keys, plus what the baseline becomes once
 * they succeed. Building it is pure; applying it is the runner's job.
 */
import { canonicalJson, digest64 } from './digest';
import type { BaselineEntry, BaselineMember, FieldValues, Lifecycle, Origin, RecordKind, Role, Side } from './model';
import { isRemoval, opKind, type Op, type OpType, type TargetRef } from './ops';

/** A baseline member whose ids may still be waiting for a create in this plan. */
export interface DraftMember {
	a: TargetRef;
	b: TargetRef;
	role: Role;
	/** The operation that makes it true; if it does not succeed, `previous` stays. */
	opKey?: string;
	previous?: BaselineMember;
	/** The operation removes the member: once it is done the member leaves the baseline. */
	removed?: true;
}

/** What a baseline entry becomes after the plan runs. */
export interface DraftEntry {
	kind: RecordKind;
	a: TargetRef;
	b: TargetRef;
	origin: Origin;
	fields: FieldValues;
	/** Baseline members this plan does not touch stay as they are. */
	members?: (DraftMember | BaselineMember)[];
	lifecycle?: Lifecycle;
	/** Operations on the pair's own fields and existence; if any fails, `previous` stays. */
	opKeys: string[];
	previous?: BaselineEntry;
	/**
	 * The create remakes, on this side, a synced record deleted there: by hand on a provisioning
	 * target, or on either side of a two-way link when a person chose to keep the changed record.
	 * `previous` is the pairing it replaces: it stays as it was while the create has not succeeded
	 * (the next run remakes the record again, rather than matching the person anew), and once it
	 * has, the new pair takes its place. A remade record on the access side starts without the
	 * access the deleted one had; the kept record keeps its own.
	 */
	recreates?: Side;
	/** The pair ends once its operations succeed (a group or person deleted for good). */
	retire?: boolean;
	/**
	 * Provisioning: the adoption of an existing target record. When the adoption succeeded but an
	 * update planned with it did not, the pair is still recorded as adopted, with the values it has
	 * (`fields`): otherwise the adoption would be proposed again every night, and the update never
	 * retried as what it is.
	 */
	adoption?: { opKey: string; fields: FieldValues };
	/** Provisioning: the invitation of this person; until it is done the entry says it is pending. */
	invite?: string;
	/**
	 * People: whether sync will have granted access once `opKey` is done (without one, at once).
	 * Kept apart from `opKeys`: a failed grant leaves the pair's fields written, and the other way round.
	 */
	access?: { granted: boolean; opKey?: string };
	/**
	 * People in provisioning: the transfer notice this plan sends, and the communities the person
	 * was last told of; the entry keeps them as `told` until the notice is sent. A draft without
	 * one keeps what its `previous` entry held, true until a notice goes out.
	 */
	told?: { notice: string; communities: string[] };
}

export interface PlanCounts {
	total: number;
	staged: number;
	byType: Partial<Record<OpType, number>>;
	bySide: Record<Side, number>;
}

export interface Plan {
	linkId: string;
	versions: { a: string; b: string };
	ops: Op[];
	counts: PlanCounts;
	/** Baseline entries the plan leaves as they are (the steady-state majority). */
	keep: BaselineEntry[];
	/** Entries the plan changes, as they are after a fully successful run (see commitBaseline). */
	next: DraftEntry[];
}

/** Operations without their key: the builder derives it from what the operation does. */
export type OpDraft = Op extends infer O ? (O extends Op ? Omit<O, 'key'> : never) : never;

export class PlanBuilder {
	readonly ops: Op[] = [];
	private readonly keys = new Set<string>();

	constructor(
		private readonly linkId: string,
		/**
		 * Keys of people created by earlier parts of the same reconciliation (see parts.ts): two
		 * newcomers with equal records in two parts still get two keys. Other operations name their
		 * target, so they cannot meet across parts.
		 */
		private readonly createdElsewhere?: Set<string>
	) {}

	/**
	 * Adds an operation. Its key is a digest of the link and everything the operation does, so
	 * planning the same change twice yields the same key and the runner never applies it twice.
	 * 64 bits: the parts of a large plan are built apart, and 300k memberships under 32-bit keys
	 * would share about ten keys between parts (one outcome for two writes, one never made).
	 */
	add(draft: OpDraft): string {
		let key = `${draft.type}:${draft.side}:${digest64(this.linkId + identityOf(draft))}`;
		const shared = draft.type === 'create-person' ? this.createdElsewhere : undefined;
		for (let n = 2; this.keys.has(key) || shared?.has(key); n++) key = `${key.split('#')[0]}#${n}`;
		this.keys.add(key);
		shared?.add(key);
		// The draft becomes the operation: callers hand over fresh literals, and a copy per operation
		// (a spread over a dozen operation shapes) was most of this call's cost. A draft added twice
		// is copied, so the first operation keeps its key.
		if ('key' in draft) this.ops.push({ ...(draft as object), key } as Op);
		else {
			(draft as Op).key = key;
			this.ops.push(draft as Op);
		}
		return key;
	}

	/** Operations in run order: by stage, then in the order they were planned. */
	ordered(): Op[] {
		return this.ops
			.map((op, i) => ({ op, i }))
			.sort((x, y) => x.op.step - y.op.step || x.i - y.i)
			.map((x) => x.op);
	}
}

/** A reference as text: the record's id, or `+<key>` of the create that makes it. */
export const refText = (ref: TargetRef): string => ('id' in ref ? ref.id : `+${ref.createdBy}`);

/**
 * What makes an operation the operation it is: its target and the values it writes. Before-values
 * are not part of it: the same change is the same change whatever was there before.
 */
function identityOf(op: OpDraft): string {
	switch (op.type) {
		case 'create-group':
			return canonicalJson(op.record) + (op.restoreId ?? '');
		case 'create-person':
			// Whom it is made from too: two newcomers with equal records get their own keys whatever
			// order they are planned in (parts plan them in another order than one reconcile does).
			return canonicalJson(op.record) + (op.restoreId ?? '') + (op.from === undefined ? '' : `<${op.from}`);
		case 'update-group':
		case 'update-person':
		case 'anonymize-person':
			return refText(op.target) + canonicalJson(op.values);
		case 'remove-person':
			return refText(op.target) + (op.soft ? ':soft' : ':hard');
		case 'remove-group':
		case 'adopt-person':
		case 'adopt-group':
		case 'restore-person':
		case 'grant-access':
		case 'revoke-access':
			return refText(op.target);
		case 'add-membership':
		case 'set-role':
			return `${refText(op.group)}/${refText(op.person)}/${op.role}`;
		case 'remove-membership':
			return `${refText(op.group)}/${refText(op.person)}`;
		case 'invite':
			return refText(op.person);
		case 'notify-transfer':
			return `${refText(op.person)}:${op.from.join(',')}>${op.to.join(',')}`;
	}
}

export function countOps(ops: readonly Op[]): PlanCounts {
	const counts: PlanCounts = { total: ops.length, staged: 0, byType: {}, bySide: { a: 0, b: 0 } };
	for (const op of ops) {
		counts.byType[op.type] = (counts.byType[op.type] ?? 0) + 1;
		counts.bySide[op.side]++;
		if (op.staged) counts.staged++;
	}
	return counts;
}

/** Removals per side and kind, for the safety limits. */
export function removalsBy(ops: readonly Op[]): Map<string, Op[]> {
	const out = new Map<string, Op[]>();
	for (const op of ops) {
		if (!isRemoval(op)) continue;
		const k = `${op.side}:${opKind(op)}`;
		const list = out.get(k);
		if (list) list.push(op);
		else out.set(k, [op]);
	}
	return out;
}
