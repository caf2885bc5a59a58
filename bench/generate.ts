/**
 * Seeded synthetic directories for the benchmarks: two systems that were in sync (with the
 * baseline that says so), then drifted by a few percent on each side.
 */
import type { Baseline, BaselineEntry, BaselineMember, Group, Membership, Person, Snapshot } from '../src/lib/core';
import { DEFAULT_PERSON_FIELDS, getPersonField } from '../src/lib/core';
import { prng as rng } from '../worker/sandbox/seed';

/** The sandbox seed's mulberry32: small, fast, seeded. */
export { rng };

const GIVEN = [
	'Ann',
	'Bram',
	'Chloé',
	'Daan',
	'Eva',
	'Finn',
	'Greta',
	'Hugo',
	'Iris',
	'Jens',
	'Katja',
	'Lars',
	'Mila',
	'Noah',
	'Olga',
	'Piet'
];
const FAMILY = [
	'de Vries',
	'Jansen',
	'Bakker',
	'Visser',
	'Smit',
	'Meijer',
	'Mulder',
	'Bos',
	'Vos',
	'Peters',
	'Hendriks',
	'Dekker'
];
const BUILDINGS = ['North', 'South', 'East', 'West', 'Depot', 'HQ'];

export interface Drifted {
	a: Snapshot;
	b: Snapshot;
	baseline: Baseline;
}

export interface SizeSpec {
	people: number;
	groups: number;
	membershipsPerPerson: number;
	/** Fraction of records changed on each side. */
	drift: number;
	seed: number;
}

function makePerson(i: number, r: () => number, side: 'a' | 'b'): Person {
	const given = GIVEN[i % GIVEN.length];
	const family = FAMILY[(i * 7) % FAMILY.length];
	return {
		id: `${side}p${i}`,
		externalId: `E${i}`,
		displayName: `${given} ${family}`,
		givenName: given,
		familyName: family,
		email: `${given.toLowerCase()}.${i}@example.org`,
		phone: `+31 6 ${String(10_000_000 + i)}`,
		employeeNumber: `N${100000 + i}`,
		memberType: r() < 0.7 ? 'staff' : 'student',
		buildings: [BUILDINGS[i % BUILDINGS.length]],
		active: true
	};
}

/** Two directories in sync plus their baseline, then `drift` of each side changed independently. */
export function drifted(spec: SizeSpec): Drifted {
	const r = rng(spec.seed);
	const peopleA: Person[] = [];
	const peopleB: Person[] = [];
	const entries: BaselineEntry[] = [];
	for (let i = 0; i < spec.people; i++) {
		const pa = makePerson(i, r, 'a');
		const pb = { ...pa, id: `bp${i}` };
		peopleA.push(pa);
		peopleB.push(pb);
		const fields: Record<string, string | null> = {};
		for (const f of DEFAULT_PERSON_FIELDS) fields[f] = getPersonField(pa, f);
		entries.push({ kind: 'person', a: pa.id, b: pb.id, origin: 'matched', fields });
	}
	const groupsA: Group[] = [];
	const groupsB: Group[] = [];
	for (let g = 0; g < spec.groups; g++) {
		groupsA.push({ id: `ag${g}`, externalId: `G${g}`, name: `Team ${g}`, kind: 'group' });
		groupsB.push({ id: `bg${g}`, externalId: `G${g}`, name: `Team ${g}`, kind: 'group' });
	}
	const membersA: Membership[] = [];
	const membersB: Membership[] = [];
	const groupMembers: BaselineMember[][] = groupsA.map(() => []);
	for (let i = 0; i < spec.people; i++) {
		const chosen = new Set<number>();
		while (chosen.size < spec.membershipsPerPerson) chosen.add(Math.floor(r() * spec.groups));
		for (const g of chosen) {
			const role = r() < 0.1 ? 'manager' : 'member';
			membersA.push({ groupId: `ag${g}`, personId: `ap${i}`, role });
			membersB.push({ groupId: `bg${g}`, personId: `bp${i}`, role });
			groupMembers[g].push([`ap${i}`, `bp${i}`, role]);
		}
	}
	for (let g = 0; g < spec.groups; g++)
		entries.push({
			kind: 'group',
			a: `ag${g}`,
			b: `bg${g}`,
			origin: 'matched',
			fields: { name: `Team ${g}` },
			members: groupMembers[g]
		});

	// Drift: on each side, `drift` of the people get a field changed, half as many leave, as many join,
	// and the same share of memberships move.
	const changes = Math.round(spec.people * spec.drift);
	for (const [side, people, members] of [
		['a', peopleA, membersA],
		['b', peopleB, membersB]
	] as const) {
		for (let k = 0; k < changes; k++) {
			const i = Math.floor(r() * people.length);
			const p = people[i];
			people[i] =
				r() < 0.5
					? { ...p, phone: `+31 6 ${Math.floor(r() * 1e8)}` }
					: { ...p, displayName: `${p.displayName} (${side})` };
		}
		for (let k = 0; k < changes / 2; k++) people.splice(Math.floor(r() * people.length), 1);
		for (let k = 0; k < changes; k++)
			people.push({
				...makePerson(spec.people + k, r, side),
				id: `${side}new${k}`,
				externalId: `${side.toUpperCase()}N${k}`,
				email: `new.${side}.${k}@example.org`
			});
		for (let k = 0; k < changes; k++) {
			const m = members[Math.floor(r() * members.length)];
			m.role = m.role === 'member' ? 'manager' : 'member';
		}
	}
	// Listed group by group, as systems return them (SCIM lists a group's members with the group).
	const live = (people: Person[], ms: Membership[]) => {
		const ids = new Set(people.map((p) => p.id));
		const byGroup = (m: Membership) => Number(m.groupId.slice(2));
		return ms.filter((m) => ids.has(m.personId)).sort((x, y) => byGroup(x) - byGroup(y));
	};
	const snapshot = (system: string, people: Person[], groups: Group[], memberships: Membership[]): Snapshot => ({
		system,
		takenAt: new Date(0).toISOString(),
		version: `${system}-${spec.seed}`,
		people,
		groups,
		memberships
	});
	return {
		a: snapshot('A', peopleA, groupsA, live(peopleA, membersA)),
		b: snapshot('B', peopleB, groupsB, live(peopleB, membersB)),
		baseline: { linkId: 'bench', entries }
	};
}
