/**
 * Names for the records a run's operations refer to. Operations carry ids (a SCIM id, a CSV row
 * key) and references to records the same run creates; admins read names. The edge collects the
 * names of the records on a page of operations (GET /api/links/:id/runs/:runId answers them as
 * `names`), and the app words each operation with them (`describeOp`).
 */
import type { Op, Side, TargetRef } from '$lib/core';

/** Names by side and id, and the records a run creates by the key of their create operation. */
export interface RecordNames {
	people: Record<Side, Record<string, string>>;
	groups: Record<Side, Record<string, string>>;
	created: Record<string, string>;
}

/** Where the edge finds a name: the latest read of each side, and the run's own creates. */
export interface NameLookup {
	person(side: Side, id: string): string | undefined;
	group(side: Side, id: string): string | undefined;
	/** The name in the create operation of this run with that key. */
	created(key: string): string | undefined;
}

export const emptyNames = (): RecordNames => ({ people: { a: {}, b: {} }, groups: { a: {}, b: {} }, created: {} });

type Ref = { kind: 'person' | 'group'; side: Side; ref: TargetRef };

/** Every record an operation refers to, with its kind and side. */
function refsOf(op: Op): Ref[] {
	const side = op.side;
	switch (op.type) {
		case 'create-person':
		case 'create-group':
			return [];
		case 'update-group':
		case 'remove-group':
		case 'adopt-group':
			return [{ kind: 'group', side, ref: op.target }];
		case 'add-membership':
		case 'set-role':
		case 'remove-membership':
			return [
				{ kind: 'person', side, ref: op.person },
				{ kind: 'group', side, ref: op.group }
			];
		case 'invite':
		case 'notify-transfer':
			return [{ kind: 'person', side, ref: op.person }];
		default: {
			const target = (op as { target?: TargetRef }).target;
			return target ? [{ kind: 'person', side, ref: target }] : [];
		}
	}
}

/** The name an operation itself carries for its record (a create's record, a removal's before). */
function ownName(op: Op): string | undefined {
	switch (op.type) {
		case 'create-person':
			return op.record.displayName;
		case 'create-group':
			return op.record.name;
		case 'remove-person':
			return op.before.displayName || undefined;
		case 'remove-group':
			return op.before.name;
		default:
			return undefined;
	}
}

/** The names of every record a page of operations refers to. */
export function collectNames(ops: readonly Op[], lookup: NameLookup): RecordNames {
	const names = emptyNames();
	for (const op of ops) {
		const own = ownName(op);
		if (own && (op.type === 'create-person' || op.type === 'create-group')) names.created[op.key] = own;
		else if (own && op.type === 'remove-person' && 'id' in op.target) names.people[op.side][op.target.id] = own;
		else if (own && op.type === 'remove-group' && 'id' in op.target) names.groups[op.side][op.target.id] = own;
	}
	for (const op of ops) {
		for (const { kind, side, ref } of refsOf(op)) {
			if ('createdBy' in ref) {
				if (names.created[ref.createdBy] !== undefined) continue;
				const name = lookup.created(ref.createdBy);
				if (name !== undefined) names.created[ref.createdBy] = name;
				continue;
			}
			const table = kind === 'person' ? names.people[side] : names.groups[side];
			if (table[ref.id] !== undefined) continue;
			const name = kind === 'person' ? lookup.person(side, ref.id) : lookup.group(side, ref.id);
			if (name !== undefined) table[ref.id] = name;
		}
	}
	return names;
}

/** An operation in words: what it does, to whom, where. */
export interface OpWords {
	/** "Add to group", "Invite", … */
	action: string;
	/** "Eva Smit to Amsterdam in Team Manager" */
	text: string;
}

/**
 * An operation as an admin reads it, with names and the system's name. A record whose name is
 * unknown (gone from the latest read and not named by the run) is called by its kind and id.
 */
export function describeOp(op: Op, names: RecordNames, systems: Record<Side, string>): OpWords {
	const where = systems[op.side];
	const name = (kind: 'person' | 'group', ref: TargetRef): string => {
		if ('createdBy' in ref) return names.created[ref.createdBy] ?? `the new ${kind}`;
		const known = (kind === 'person' ? names.people : names.groups)[op.side][ref.id];
		return known ?? `${kind} ${ref.id}`;
	};
	const fields = (values: Record<string, unknown>) => Object.keys(values).join(', ');
	switch (op.type) {
		case 'create-person':
			return { action: 'Create', text: `${op.record.displayName} in ${where}` };
		case 'create-group':
			return { action: 'Create group', text: `${op.record.name} in ${where}` };
		case 'update-person':
			return { action: 'Update', text: `${name('person', op.target)} in ${where}: ${fields(op.values)}` };
		case 'update-group':
			return { action: 'Update group', text: `${name('group', op.target)} in ${where}: ${fields(op.values)}` };
		case 'adopt-person':
			return { action: 'Adopt', text: `${name('person', op.target)} in ${where}: sync manages it from now on` };
		case 'adopt-group':
			return { action: 'Adopt group', text: `${name('group', op.target)} in ${where}: sync manages it from now on` };
		case 'remove-person':
			return op.soft
				? { action: 'Deactivate', text: `${name('person', op.target)} in ${where} (restorable)` }
				: { action: 'Delete', text: `${name('person', op.target)} from ${where}` };
		case 'remove-group':
			return { action: 'Delete group', text: `${name('group', op.target)} from ${where}` };
		case 'restore-person':
			return { action: 'Restore', text: `${name('person', op.target)} in ${where}` };
		case 'anonymize-person':
			return { action: 'Anonymize', text: `${op.before.displayName} in ${where} (retention ended)` };
		case 'add-membership':
			return {
				action: 'Add to group',
				text: `${name('person', op.person)} to ${name('group', op.group)} in ${where}${op.role === 'manager' ? ' as manager' : ''}`
			};
		case 'set-role':
			return {
				action: 'Change role',
				text: `${name('person', op.person)} in ${name('group', op.group)} (${where}): ${op.before} → ${op.role}`
			};
		case 'remove-membership':
			return {
				action: 'Remove from group',
				text: `${name('person', op.person)} from ${name('group', op.group)} in ${where}`
			};
		case 'invite':
			return { action: 'Invite', text: `${name('person', op.person)} to ${where}` };
		case 'notify-transfer':
			return {
				action: 'Transfer notice',
				text: `${name('person', op.person)} in ${where}: ${op.from.join(', ') || 'no community'} → ${op.to.join(', ') || 'no community'}`
			};
		default: {
			// Operations about one person (access grants and whatever comes next): its type in words.
			const other = op as { type: string; target?: TargetRef };
			const action = other.type.replace(/-/g, ' ').replace(/^./, (c) => c.toUpperCase());
			return { action, text: other.target ? `${name('person', other.target)} in ${where}` : where };
		}
	}
}
