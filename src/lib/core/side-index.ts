/** One side's records indexed by id, built once per reconciliation. */
import type { Group, Membership, Person, Role, Snapshot } from './model';

/** Where one group's memberships stand in the side's list: positions [start, end). */
export interface Stretch {
	start: number;
	end: number;
	/** The group's place among the groups listed (0: listed first). */
	place: number;
	/** Its members were read in place (see readInStep in memberships.ts). */
	readInStep?: boolean;
}

export interface SideIndex {
	people: Map<string, Person>;
	groups: Map<string, Group>;
	memberships: readonly Membership[];
	/**
	 * Each group's memberships as one stretch of the list, found on first use (see stretchOf); null
	 * when some group's memberships are listed apart from each other.
	 */
	stretches?: Map<string, Stretch> | null;
	/** Group id to its members (person id to role), each group's built when first asked (see membersOf). */
	members?: Map<string, Map<string, Role>>;
	/** `members` holds every group (the list holds some group's memberships apart). */
	membersComplete?: boolean;
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

/**
 * The stretch of the list holding a group's memberships (empty for a group with none), or
 * undefined when the side lists some group's memberships apart. Systems list memberships group
 * by group (SCIM Group.members), so one walk that only notes where each group starts is all a
 * reconciliation needs for most groups: their members can then be read in place (see readInStep
 * in memberships.ts), with no index of every membership.
 */
export function stretchOf(index: SideIndex, groupId: string): Stretch | undefined {
	const stretches = stretchesOf(index);
	// A group with no memberships: an empty stretch of its own (a read in place marks it).
	return stretches === null ? undefined : (stretches.get(groupId) ?? { start: 0, end: 0, place: -1 });
}

/** Every group's stretch, in the order the groups are listed; null when some group's memberships are apart. */
export function stretchesOf(index: SideIndex): Map<string, Stretch> | null {
	if (index.stretches === undefined) index.stretches = findStretches(index.memberships);
	return index.stretches;
}

function findStretches(listed: readonly Membership[]): Map<string, Stretch> | null {
	const stretches = new Map<string, Stretch>();
	let last: string | undefined;
	let stretch: Stretch | undefined;
	for (let i = 0; i < listed.length; i++) {
		const groupId = listed[i].groupId;
		if (groupId !== last) {
			if (stretches.has(groupId)) return null;
			last = groupId;
			stretches.set(groupId, (stretch = { start: i, end: i, place: stretches.size }));
		}
		stretch!.end = i + 1;
	}
	return stretches;
}

const NO_PEOPLE: ReadonlySet<string> = new Set();

/**
 * Indexes the memberships of these people by person (those about to be removed need their
 * memberships journaled): one walk over the list, however many are asked at once; asked again,
 * only the people not indexed yet cost a walk.
 */
export function indexMembers(index: SideIndex, personIds: ReadonlySet<string> = NO_PEOPLE): void {
	const byPerson = (index.byPerson ??= new Map());
	const wanted = [...personIds].filter((id) => !byPerson.has(id));
	if (wanted.length === 0) return;
	const watch = wanted.length === personIds.size ? personIds : new Set(wanted);
	/** Each watched person's groups, holding the role listed last (a membership listed twice holds its last role). */
	const found = new Map<string, Map<string, Role>>();
	const note = (m: Membership) => {
		const groups = found.get(m.personId);
		if (groups) groups.set(m.groupId, m.role);
		else found.set(m.personId, new Map([[m.groupId, m.role]]));
	};
	const listed = index.memberships;
	const stretches = stretchesOf(index);
	/** Where the list holds a group's memberships apart: each group's place, where it first appears. */
	let place: Map<string, number> | undefined;
	if (stretches) {
		// Group by group, in the order the groups are listed: each person's groups come in that order.
		for (const { start, end } of stretches.values())
			for (let i = start; i < end; i++) if (watch.has(listed[i].personId)) note(listed[i]);
	} else {
		place = new Map();
		for (let i = 0; i < listed.length; i++) {
			const m = listed[i];
			if (!place.has(m.groupId)) place.set(m.groupId, place.size);
			if (watch.has(m.personId)) note(m);
		}
	}
	// Groups in the order they first appear in the list, not in the order of the person's own
	// memberships: the same answer however the list is ordered.
	found.forEach((groups, personId) => {
		const list = [...groups];
		if (place) list.sort((x, y) => place.get(x[0])! - place.get(y[0])!);
		byPerson.set(
			personId,
			list.map(([groupId, role]) => ({ groupId, role }))
		);
	});
}

/** A group's members on one side (person id to role), indexed when first asked. */
export function membersOf(index: SideIndex, groupId: string): ReadonlyMap<string, Role> {
	const members = (index.members ??= new Map());
	let list = members.get(groupId);
	if (list) return list;
	const stretch = stretchOf(index, groupId);
	if (!stretch) return (index.membersComplete ? members : indexAll(index)).get(groupId) ?? NO_MEMBERS;
	list = new Map<string, Role>();
	const listed = index.memberships;
	for (let i = stretch.start; i < stretch.end; i++) list.set(listed[i].personId, listed[i].role);
	members.set(groupId, list);
	return list;
}

const NO_MEMBERS: ReadonlyMap<string, Role> = new Map();

/** Every group's members at once: for a list that holds some group's memberships apart. */
function indexAll(index: SideIndex): Map<string, Map<string, Role>> {
	const members = new Map<string, Map<string, Role>>();
	const listed = index.memberships;
	for (let i = 0; i < listed.length; i++) {
		const m = listed[i];
		let list = members.get(m.groupId);
		if (!list) members.set(m.groupId, (list = new Map()));
		list.set(m.personId, m.role);
	}
	index.members = members;
	index.membersComplete = true;
	return members;
}

/** Groups a person belongs to on one side (after indexMembers for that person). */
export function groupsOfPerson(index: SideIndex, personId: string): { groupId: string; role: Role }[] {
	if (!index.byPerson) throw new Error('groupsOfPerson before indexMembers');
	return index.byPerson.get(personId) ?? [];
}
