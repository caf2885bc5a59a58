/**
 * Resuming after a crash. An operation recorded as started but without an outcome may or may not
 * have reached the system. Updates, removals and adoptions are idempotent (the connectors treat
 * "already gone" as done), so they are simply applied again. A create applied twice would make a
 * duplicate, and a membership added twice can be stored twice by some servers: for those, the
 * target is read once and the operation counts as done when its effect is already there.
 */
import type { Group, OpOutcome, Person, Snapshot, TargetRef } from '$lib/core';
import type { Op } from '$lib/core';

/** Operation types whose effect is looked for in the target before they are applied again. */
export const CHECKED_TYPES: ReadonlySet<Op['type']> = new Set([
	'create-person',
	'create-group',
	'add-membership',
	'set-role'
]);

export const needsCheck = (op: Op): boolean => CHECKED_TYPES.has(op.type);

const same = (x: string | undefined, y: string | undefined) =>
	x !== undefined && y !== undefined && x.toLowerCase() === y.toLowerCase();

/** Whether a record of the target is already accounted for (see recoveredOutcome). */
export type Claimed = (id: string) => boolean;

/**
 * The person a create-person made, found by its shared identifier, else its email, else its name,
 * among the records nothing else accounts for.
 */
export function findCreatedPerson(
	record: Omit<Person, 'id'>,
	people: readonly Person[],
	claimed: Claimed = () => false
): Person | undefined {
	const free = (p: Person) => !claimed(p.id);
	if (record.externalId) return people.find((p) => p.externalId === record.externalId && free(p));
	if (record.email) return people.find((p) => same(p.email, record.email) && free(p));
	return people.find((p) => p.displayName === record.displayName && !p.externalId && free(p));
}

/** The group a create-group made, by its identifier, else by name and kind, among the unclaimed. */
export function findCreatedGroup(
	record: Omit<Group, 'id'>,
	groups: readonly Group[],
	claimed: Claimed = () => false
): Group | undefined {
	if (record.externalId) return groups.find((g) => g.externalId === record.externalId && !claimed(g.id));
	return groups.find((g) => g.name === record.name && g.kind === record.kind && !claimed(g.id));
}

/**
 * The outcome of a cut-off operation whose effect is already in `target`, or undefined when it
 * is not (apply it again). `resolve` may throw when a record it needs was not created: then the
 * operation is left to the runner, which skips it. `claimed`: records another create of the run
 * made, or the baseline pairs. Creates are marked started a batch ahead, so of two same-named
 * newcomers the second may be cut off before it was ever sent: it must not take the first's record.
 */
export function recoveredOutcome(
	op: Op,
	target: Snapshot,
	resolve: (ref: TargetRef) => string,
	claimed?: Claimed
): OpOutcome | undefined {
	switch (op.type) {
		case 'create-person': {
			const found = findCreatedPerson(op.record, target.people, claimed);
			return found ? { key: op.key, status: 'done', id: found.id } : undefined;
		}
		case 'create-group': {
			const found = findCreatedGroup(op.record, target.groups, claimed);
			return found ? { key: op.key, status: 'done', id: found.id } : undefined;
		}
		case 'add-membership':
		case 'set-role': {
			let groupId: string;
			let personId: string;
			try {
				groupId = resolve(op.group);
				personId = resolve(op.person);
			} catch {
				return undefined;
			}
			const m = target.memberships.find((x) => x.groupId === groupId && x.personId === personId);
			return m && m.role === op.role ? { key: op.key, status: 'done' } : undefined;
		}
		default:
			return undefined;
	}
}
