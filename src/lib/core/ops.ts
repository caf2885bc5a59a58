/**
 * Operations: what a plan asks one system to do. Connectors execute them; the journal keeps each
 * with its before-values so a run can be undone.
 */
import type { FieldValues, Group, Person, RecordKind, Role, Side } from './model';

export const OP_TYPES = [
	'create-group',
	'update-group',
	'remove-group',
	'create-person',
	'update-person',
	'adopt-person',
	'adopt-group',
	'remove-person',
	'restore-person',
	'anonymize-person',
	'add-membership',
	'set-role',
	'remove-membership',
	'invite',
	'notify-transfer',
	'grant-access',
	'revoke-access'
] as const;
export type OpType = (typeof OP_TYPES)[number];

/**
 * A record on the side an operation writes to: an id that exists, or the record that an earlier
 * operation of the same plan creates (its key), resolved when the plan is applied.
 */
export type TargetRef = { id: string } | { createdBy: string };

/** Fields common to every operation. */
interface OpBase {
	/** Idempotency key: the same intended change always has the same key. */
	key: string;
	side: Side;
	/** Ordering step: groups, people, memberships, notices, then removals. */
	step: number;
	/** Removals above the link's limit wait for an owner and are not applied. */
	staged?: boolean;
}

export type Op =
	| (OpBase & { type: 'create-group'; record: Omit<Group, 'id'>; restoreId?: string })
	| (OpBase & { type: 'update-group'; target: TargetRef; values: FieldValues; before: FieldValues })
	| (OpBase & {
			type: 'remove-group';
			target: TargetRef;
			before: Group;
			/** Memberships deleted with it (the preview counts a group's content). */
			beforeMembers: { personId: string; role: Role }[];
	  })
	| (OpBase & {
			type: 'create-person';
			record: Omit<Person, 'id'>;
			/** Undo of a deletion: the id it had, for systems that let a client choose ids. */
			restoreId?: string;
			/** The id of the person it is made from, on the other side (what a collision names). */
			from?: string;
	  })
	| (OpBase & { type: 'update-person'; target: TargetRef; values: FieldValues; before: FieldValues })
	| (OpBase & { type: 'adopt-person' | 'adopt-group'; target: TargetRef })
	| (OpBase & {
			type: 'remove-person';
			target: TargetRef;
			/** Soft removal deactivates (restorable); hard removal deletes. */
			soft: boolean;
			before: Person;
			beforeMembers: { groupId: string; role: Role }[];
	  })
	| (OpBase & { type: 'restore-person'; target: TargetRef })
	| (OpBase & { type: 'anonymize-person'; target: TargetRef; values: FieldValues; before: Person })
	| (OpBase & { type: 'add-membership'; group: TargetRef; person: TargetRef; role: Role })
	| (OpBase & { type: 'set-role'; group: TargetRef; person: TargetRef; role: Role; before: Role })
	| (OpBase & { type: 'remove-membership'; group: TargetRef; person: TargetRef; before: Role })
	| (OpBase & { type: 'invite'; person: TargetRef })
	/** Access to the system for a synced person (see access.ts); each is the other's undo. */
	| (OpBase & { type: 'grant-access' | 'revoke-access'; target: TargetRef })
	| (OpBase & {
			type: 'notify-transfer';
			person: TargetRef;
			from: string[];
			to: string[];
			/**
			 * The membership operations that make the move. The notice goes only once every one of
			 * them is done: a move whose removal is staged or failed has not happened yet.
			 */
			after: string[];
	  });

export type OpOf<T extends OpType> = Extract<Op, { type: T }>;

/** Which record kind an operation concerns (memberships count under their own limit). */
export function opKind(op: Op): RecordKind | 'membership' | 'notice' {
	switch (op.type) {
		case 'create-group':
		case 'update-group':
		case 'remove-group':
		case 'adopt-group':
			return 'group';
		case 'add-membership':
		case 'set-role':
		case 'remove-membership':
			return 'membership';
		case 'invite':
		case 'notify-transfer':
			return 'notice';
		default:
			return 'person';
	}
}

/** Steps, in the order operations run: records exist before the memberships that need them. */
export const STEP = {
	groups: 0,
	people: 1,
	memberships: 2,
	notices: 3,
	membershipRemovals: 4,
	peopleRemovals: 5,
	groupRemovals: 6,
	/** Transfer notices wait for the membership changes, removals included, that make the move. */
	transfers: 7
} as const;

export const isAccessOp = (op: Op): op is OpOf<'grant-access' | 'revoke-access'> =>
	op.type === 'grant-access' || op.type === 'revoke-access';

export const isRemoval = (op: Op): boolean =>
	op.type === 'remove-group' || op.type === 'remove-person' || op.type === 'remove-membership';
