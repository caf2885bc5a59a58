/**
 * The demo's messaging sandbox: Lakeside School District, staff and students across four
 * buildings, and message groups as the district's admins keep them (an all-staff group filled by
 * hand, one group per building left empty for a rule to fill). Its people map names where its
 * buildings and member types are kept, so a new user can set up a rule at once. Deterministic:
 * the same records on every first start.
 */
import type { Group, Membership, Person } from '$lib/core/model';
import type { PeopleMap } from '$lib/api/types';
import { USER_EXT } from './scim-resources';
import type { SandboxRecords } from './sandbox-do';
import { prng, type SeedSystem } from './seed';

export const DISTRICT: SeedSystem = { id: 'sandbox-district', name: 'Lakeside School District', region: 'eu' };

/** Where the district keeps buildings and member types: mapped, as an owner would map them. */
export const DISTRICT_PEOPLE_MAP: PeopleMap = {
	building: `${USER_EXT}:buildings`,
	memberType: 'userType',
	staff: ['staff'],
	student: ['student']
};

const BUILDINGS = ['Lakeside High', 'Northgate Middle', 'Riverside Elementary', 'Hillcrest Elementary'];
const GIVEN = ['Amara', 'Ben', 'Chloe', 'Dev', 'Elif', 'Finn', 'Grace', 'Hugo', 'Isla', 'Jonah', 'Kaia', 'Leo'];
const FAMILY = ['Okafor', 'Larsen', 'Nguyen', 'Patel', 'Moreau', 'Silva', 'Kowalski', 'Haddad', 'Berg', 'Tanaka'];

const STAFF_PER_BUILDING = 8;
const STUDENTS_PER_BUILDING = 30;

/** The district's people and groups. */
export function seedDistrict(): SandboxRecords {
	const random = prng(2026);
	const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)];
	const people: Person[] = [];
	let n = 0;
	const add = (memberType: 'staff' | 'student', buildings: string[]) => {
		n++;
		const given = pick(GIVEN);
		const family = pick(FAMILY);
		const id = `district-p-${String(n).padStart(3, '0')}`;
		people.push({
			id,
			externalId: `LSD${1000 + n}`,
			displayName: `${given} ${family}`,
			givenName: given,
			familyName: family,
			email: `${given}.${family}.${n}@lakeside.example`.toLowerCase(),
			memberType,
			buildings,
			active: true
		});
		return id;
	};
	const principals: string[] = [];
	BUILDINGS.forEach((building, b) => {
		for (let i = 0; i < STAFF_PER_BUILDING; i++) {
			// Some staff work in two buildings (a music teacher, a counsellor).
			const also = i === STAFF_PER_BUILDING - 1 ? [BUILDINGS[(b + 1) % BUILDINGS.length]] : [];
			const id = add('staff', [building, ...also].sort());
			if (i === 0) principals.push(id);
		}
		for (let i = 0; i < STUDENTS_PER_BUILDING; i++) add('student', [building]);
	});
	// A student who left: inactive, so no rule adds them.
	people[people.length - 1].active = false;

	const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-');
	// Ids in list order (the order a SCIM read returns them in): each building's student group, then
	// its staff group, then the district-wide groups.
	const groups: Group[] = [
		...BUILDINGS.flatMap((building, b): Group[] => [
			{
				id: `district-g-${b + 1}a-${slug(building)}-students`,
				externalId: `${slug(building)}-students`,
				name: `${building} students`,
				kind: 'message-group'
			},
			{
				id: `district-g-${b + 1}b-${slug(building)}-staff`,
				externalId: `${slug(building)}-staff`,
				name: `${building} staff`,
				kind: 'message-group'
			}
		]),
		{ id: 'district-g-8-all-staff', externalId: 'all-staff', name: 'All staff alerts', kind: 'message-group' },
		{ id: 'district-g-9-safety', externalId: 'safety-team', name: 'Safety team', kind: 'message-group' }
	];
	// Filled by hand before any rule: the principals manage the all-staff and safety groups.
	const memberships: Membership[] = [
		...principals.map((id): Membership => ({ groupId: 'district-g-8-all-staff', personId: id, role: 'manager' })),
		...principals.map((id): Membership => ({ groupId: 'district-g-9-safety', personId: id, role: 'manager' }))
	];
	return { people, groups, memberships };
}
