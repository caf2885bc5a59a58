/** One side's records indexed by id, built once per reconciliation. */
import type { Group, Person, Role, Snapshot } from './model';

export interface SideIndex {
  people: Map<string, Person>;
  groups: Map<string, Group>;
  /** Group id to its members (person id to role). */
  members: Map<string, Map<string, Role>>;
  membershipCount: number;
  /** Person id to its groups; built on first use (removals and transfers need it). */
  byPerson?: Map<string, { groupId: string; role: Role }[]>;
}

export function indexSnapshot(snapshot: Snapshot): SideIndex {
  const people = new Map<string, Person>();
  for (const p of snapshot.people) people.set(p.id, p);
  const groups = new Map<string, Group>();
  for (const g of snapshot.groups) groups.set(g.id, g);
  const members = new Map<string, Map<string, Role>>();
  for (const m of snapshot.memberships) {
    let list = members.get(m.groupId);
    if (!list) members.set(m.groupId, (list = new Map()));
    list.set(m.personId, m.role);
  }
  return { people, groups, members, membershipCount: snapshot.memberships.length };
}

const NO_MEMBERS: ReadonlyMap<string, Role> = new Map();
export const membersOf = (index: SideIndex, groupId: string): ReadonlyMap<string, Role> => index.members.get(groupId) ?? NO_MEMBERS;

/** Groups a person belongs to on one side. */
export function groupsOfPerson(index: SideIndex, personId: string): { groupId: string; role: Role }[] {
  if (!index.byPerson) {
    index.byPerson = new Map();
    for (const [groupId, list] of index.members) {
      for (const [pid, role] of list) {
        const groups = index.byPerson.get(pid);
        if (groups) groups.push({ groupId, role });
        else index.byPerson.set(pid, [{ groupId, role }]);
      }
    }
  }
  return index.byPerson.get(personId) ?? [];
}
