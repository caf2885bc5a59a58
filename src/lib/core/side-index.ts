/** One side's records indexed by id, built once per reconciliation. */
import type { Group, Membership, Person, Role, Snapshot } from './model';

export interface SideIndex {
	people: Map<string, Person>;
	groups: Map<string, Group>;
	/** Group id to its members (person id to role): built on first use, see indexMembers. */
	members?: Map<string, Map<string, Role>>;
	memberships: readonly Membership[];
	/** Person id to its groups, for the people indexMembers was asked about. */
	byPerson?: Map<string, { groupId: string; role: Role }[]>;
}

export function indexSnapshot(snapshot: Snapshot): SideIndex {
	// Indexed loops, here and below: these run once per reconciliation over every record, mostly
	// before the optimizer steps in, and an unoptimized for-of allocates a result per element.
	const people = new Map<string, Person>();
	for (let i = 0; i < snapshot.people.length; i++) people.set(snapshot.people[i].id, snapshot.people[i]);
	const groups = new Map<string, Group>();
	for (let i = 0; i < snapshot.groups.length; i++) groups.set(snapshot.groups[i].id, snapshot.groups[i]);
	return { people, groups, memberships: snapshot.memberships };
}

const NO_PEOPLE: ReadonlySet<string> = new Set();

/**
 * Indexes the memberships by group and, for these people, by person too (those about to be removed
 * need their memberships journaled). One pass does both: a second walk over every membership, for
 * a few hundred people, cost more than the rest of their removal. Asked again, only the people
 * not indexed yet cost a walk.
 */
export function indexMembers(
	index: SideIndex,
	personIds: ReadonlySet<string> = NO_PEOPLE
): Map<string, Map<string, Role>> {
	const byPerson = (index.byPerson ??= new Map());
	const wanted = [...personIds].filter((id) => !byPerson.has(id));
	const watch = wanted.length === personIds.size ? personIds : new Set(wanted);
	if (index.members) {
		if (watch.size > 0) scanGroupsOf(index.members, watch, byPerson);
		return index.members;
	}
	const members = (index.members = new Map<string, Map<string, Role>>());
	const groupsOf = new Map<string, string[]>();
	/** Each group's place in the list, where it first appears: a person's groups are listed in that order. */
	const place = new Map<string, number>();
	// Systems list memberships group by group (SCIM Group.members): skip the lookup while the group repeats.
	let lastGroup: string | undefined;
	let list: Map<string, Role> | undefined;
	const listed = index.memberships;
	for (let i = 0; i < listed.length; i++) {
		const m = listed[i];
		if (m.groupId !== lastGroup) {
			lastGroup = m.groupId;
			list = members.get(m.groupId);
			if (!list) {
				members.set(m.groupId, (list = new Map()));
				if (watch.size > 0) place.set(m.groupId, place.size);
			}
		}
		list!.set(m.personId, m.role);
		if (watch.size === 0 || !watch.has(m.personId)) continue;
		const groups = groupsOf.get(m.personId);
		if (!groups) groupsOf.set(m.personId, [m.groupId]);
		else if (!groups.includes(m.groupId)) groups.push(m.groupId);
	}
	// Roles once every membership is in: a membership listed twice holds its last role, as above.
	// Groups in the order they first appear in the list (as a walk over `members` finds them), not
	// in the order of the person's own memberships: the same answer however the list is ordered.
	groupsOf.forEach((groups, personId) =>
		byPerson.set(
			personId,
			groups
				.sort((x, y) => place.get(x)! - place.get(y)!)
				.map((groupId) => ({ groupId, role: members.get(groupId)!.get(personId)! }))
		)
	);
	return members;
}

function scanGroupsOf(
	members: Map<string, Map<string, Role>>,
	personIds: ReadonlySet<string>,
	byPerson: NonNullable<SideIndex['byPerson']>
): void {
	members.forEach((list, groupId) => {
		list.forEach((role, pid) => {
			if (!personIds.has(pid)) return;
			const groups = byPerson.get(pid);
			if (groups) groups.push({ groupId, role });
			else byPerson.set(pid, [{ groupId, role }]);
		});
	});
}

const NO_MEMBERS: ReadonlyMap<string, Role> = new Map();
export const membersOf = (index: SideIndex, groupId: string): ReadonlyMap<string, Role> =>
	(index.members ?? indexMembers(index)).get(groupId) ?? NO_MEMBERS;

/** Groups a person belongs to on one side (after indexMembers for that person). */
export function groupsOfPerson(index: SideIndex, personId: string): { groupId: string; role: Role }[] {
	if (!index.byPerson) throw new Error('groupsOfPerson before indexMembers');
	return index.byPerson.get(personId) ?? [];
}
