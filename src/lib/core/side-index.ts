/** One side's records indexed by id, built once per reconciliation. */
import type { Group, Person, Role, Snapshot } from './model';

export interface SideIndex {
	people: Map<string, Person>;
	groups: Map<string, Group>;
	/** Group id to its members (person id to role). */
	members: Map<string, Map<string, Role>>;
	membershipCount: number;
	/** Person id to its groups, for the people indexGroupsOf was asked about. */
	byPerson?: Map<string, { groupId: string; role: Role }[]>;
}

export function indexSnapshot(snapshot: Snapshot): SideIndex {
	const people = new Map<string, Person>();
	for (const p of snapshot.people) people.set(p.id, p);
	const groups = new Map<string, Group>();
	for (const g of snapshot.groups) groups.set(g.id, g);
	const members = new Map<string, Map<string, Role>>();
	// Systems list memberships group by group (SCIM Group.members): skip the lookup while the group repeats.
	let lastGroup: string | undefined;
	let list: Map<string, Role> | undefined;
	for (const m of snapshot.memberships) {
		if (m.groupId !== lastGroup) {
			lastGroup = m.groupId;
			list = members.get(m.groupId);
			if (!list) members.set(m.groupId, (list = new Map()));
		}
		list!.set(m.personId, m.role);
	}
	return { people, groups, members, membershipCount: snapshot.memberships.length };
}

const NO_MEMBERS: ReadonlyMap<string, Role> = new Map();
export const membersOf = (index: SideIndex, groupId: string): ReadonlyMap<string, Role> =>
	index.members.get(groupId) ?? NO_MEMBERS;

/**
 * Indexes the groups of just these people (those about to be removed need their memberships
 * journaled); indexing everyone would cost a record per membership for nothing.
 */
export function indexGroupsOf(index: SideIndex, personIds: ReadonlySet<string>): void {
	const byPerson = (index.byPerson ??= new Map());
	if (personIds.size === 0) return;
	index.members.forEach((list, groupId) => {
		list.forEach((role, pid) => {
			if (!personIds.has(pid)) return;
			const groups = byPerson.get(pid);
			if (groups) groups.push({ groupId, role });
			else byPerson.set(pid, [{ groupId, role }]);
		});
	});
}

/** Groups a person belongs to on one side (after indexGroupsOf for that person). */
export function groupsOfPerson(index: SideIndex, personId: string): { groupId: string; role: Role }[] {
	if (!index.byPerson) throw new Error('groupsOfPerson before indexGroupsOf');
	return index.byPerson.get(personId) ?? [];
}
