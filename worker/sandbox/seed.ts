/**
 * The built-in demo: two sandbox directories and an HR export, generated deterministically (a
 * fixed-seed PRNG, no clock), so every first start and every test sees the same records.
 *
 *   Operations Center (sandbox-ops, region eu)   an alerting platform: stations, functions,
 *                                                 message groups; custom field `rank`
 *   Team Manager      (sandbox-team, region eu)  a training platform: stations, functions,
 *                                                 courses; custom field `grade`
 *   HR export         (hr-export, region eu)     a CSV: communities, functions, buildings,
 *                                                 member type; the source for provisioning
 *
 * The two-way link they are made for (DEMO_LINK): Operations Center (a) ⇄ Team Manager (b),
 * people matched on email, groups on externalId, `rank` ⇄ `grade`.
 *
 * What the FIRST reconcile shows (no baseline yet):
 *   in-sync          most people and groups, identical on both sides
 *   update           people whose phone, family name, buildings or rank/grade differ; groups
 *                    renamed on one side (ST-03, ST-05); memberships that differ
 *   create           people only in Operations Center (→ Team Manager) and only in Team Manager
 *                    (→ Operations Center); groups on one side only (ST-08, MG-HAZMAT, MG-DIVE,
 *                    FN-MED, the courses)
 *   ambiguous-match  two Team Manager accounts with one email (a duplicate account), and two
 *                    Operations Center people sharing the duty officers' mailbox, which one
 *                    Team Manager person also uses
 *   name-collision   "Logistics": the same name on both sides with different identifiers
 *
 * "both-changed" and "changed-vs-removed" need a baseline: they can only appear once sync has
 * written a record and both sides moved since. So the demo has a second phase, DRIFT, applied
 * AFTER the first run (POST /api/sandbox/drift, or `applyDrift(env)`), which edits both sides:
 *   both-changed        ops-p-005 and team-p-005 get different phone numbers; ops-p-006 and
 *                       team-p-006 different display names
 *   changed-vs-removed  ops-p-010 deleted while team-p-010 changed; team-p-011 deleted while
 *                       ops-p-011 changed
 *   update              rank changed in Operations Center; phone changed in Team Manager; ST-04
 *                       renamed in Team Manager; a member added to MG-HAZMAT
 *   remove              five people deleted in Team Manager (team-p-020..024), unchanged in
 *                       Operations Center: removed (deactivated) there
 *   threshold           the same five removals, staged, when the link's person limit is below
 *                       five (e.g. `limits.person = { count: 3, percent: 20 }`)
 *   create              one new person on each side
 * Drift applied before any run shows these as plain updates and creates (no baseline to compare).
 */
import type { Group, GroupKind, Membership, Person, Role } from '$lib/core/model';
import { STEP, type Op } from '$lib/core/ops';
import type { CsvColumns } from '../connectors/csv';
import type { SandboxRecords } from './sandbox-do';

export interface SeedSystem {
	id: string;
	name: string;
	region: string;
}

export const OPS: SeedSystem & { customAttributes: string[] } = {
	id: 'sandbox-ops',
	name: 'Operations Center',
	region: 'eu',
	customAttributes: ['rank']
};
export const TEAM: SeedSystem & { customAttributes: string[] } = {
	id: 'sandbox-team',
	name: 'Team Manager',
	region: 'eu',
	customAttributes: ['grade']
};
export const HR: SeedSystem = { id: 'hr-export', name: 'HR export', region: 'eu' };

/** The two-way link the sandboxes are made for (POST /api/links body). */
export const DEMO_LINK = {
	name: 'Operations ⇄ Team',
	mode: 'two-way' as const,
	systems: { a: OPS.id, b: TEAM.id },
	match: { person: 'email' as const, group: 'externalId' as const },
	fieldMap: [{ a: 'rank', b: 'grade' }]
};

/** The provisioning link: the HR export is the source of truth for Team Manager. */
export const DEMO_PROVISION = {
	name: 'HR → Team',
	mode: 'provision' as const,
	systems: { a: HR.id, b: TEAM.id },
	match: { person: 'email' as const, group: 'externalId' as const },
	fieldMap: [{ a: 'grade', b: 'grade' }]
};

// ---- the population ---------------------------------------------------------------------------

/** mulberry32: a small PRNG; one fixed seed makes every generated value the same on every run. */
export function prng(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

const GIVEN = [
	'Kari',
	'Ola',
	'Ingrid',
	'Lars',
	'Sofie',
	'Jonas',
	'Emma',
	'Henrik',
	'Nora',
	'Magnus',
	'Leah',
	'Tobias',
	'Amira',
	'Eirik',
	'Maja',
	'Sander',
	'Ida',
	'Mathias',
	'Zofia',
	'Aksel',
	'Hanna',
	'Elias',
	'Sara',
	'Jakob',
	'Thea',
	'Noah',
	'Selma',
	'Filip',
	'Aisha',
	'Oskar',
	'Marte',
	'Ali',
	'Frida',
	'Kristian',
	'Vilde',
	'Mohammed',
	'Astrid',
	'Sebastian',
	'Linnea',
	'Daniel'
];
const FAMILY = [
	'Nordmann',
	'Hansen',
	'Johansen',
	'Olsen',
	'Larsen',
	'Andersen',
	'Pedersen',
	'Nilsen',
	'Kristiansen',
	'Jensen',
	'Karlsen',
	'Johnsen',
	'Pettersen',
	'Eriksen',
	'Berg',
	'Haugen',
	'Hagen',
	'Johannessen',
	'Andreassen',
	'Jacobsen',
	'Dahl',
	'Jørgensen',
	'Halvorsen',
	'Henriksen',
	'Lund',
	'Sørensen',
	'Jakobsen',
	'Moen',
	'Gundersen',
	'Iversen',
	'Strand',
	'Solberg',
	'Svendsen',
	'Eide',
	'Knutsen',
	'Martinsen',
	'Paulsen',
	'Bakken',
	'Kristoffersen',
	'Mathisen'
];

const STATIONS: [id: string, name: string][] = [
	['ST-01', 'Station 1 Asker'],
	['ST-02', 'Station 2 Slemmestad'],
	['ST-03', 'Station 3 Sandvika'],
	['ST-04', 'Station 4 Lommedalen'],
	['ST-05', 'Station 5 Bærum Verk'],
	['ST-06', 'Station 6 Fornebu'],
	['ST-07', 'Station 7 Hvalstad'],
	['ST-08', 'Station 8 Heggedal']
];
const BUILDINGS = ['B-HQ', 'B-NORTH', 'B-SOUTH', 'B-DEPOT', 'B-TRAINING'];
type Rank = 'Firefighter' | 'Crew Manager' | 'Watch Manager' | 'Station Manager';
const RANK_FUNCTION: Record<Rank, string> = {
	Firefighter: 'FN-FF',
	'Crew Manager': 'FN-CM',
	'Watch Manager': 'FN-WM',
	'Station Manager': 'FN-SM'
};
const FUNCTIONS: [id: string, name: string][] = [
	['FN-FF', 'Firefighter'],
	['FN-CM', 'Crew Manager'],
	['FN-WM', 'Watch Manager'],
	['FN-SM', 'Station Manager'],
	['FN-DRV', 'Driver']
];

interface Member {
	i: number;
	givenName: string;
	familyName: string;
	email: string;
	phone: string;
	employeeNumber: string;
	memberType: 'staff' | 'student';
	buildings: string[];
	rank: Rank;
	station: number;
	driver: boolean;
}

/** Everyone in the organisation, index 0..239. Who is in which system is decided below. */
const POPULATION_SIZE = 240;

function population(): Member[] {
	const random = prng(20261121);
	const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)];
	const taken = new Set<string>();
	const people: Member[] = [];
	for (let i = 0; i < POPULATION_SIZE; i++) {
		const givenName = pick(GIVEN);
		const familyName = pick(FAMILY);
		const local = `${givenName}.${familyName}`.toLowerCase().replace(/ø/g, 'o').replace(/æ/g, 'ae').replace(/å/g, 'a');
		let email = `${local}@example.org`;
		for (let n = 2; taken.has(email); n++) email = `${local}${n}@example.org`;
		taken.add(email);
		const student = random() < 0.15;
		const rankRoll = random();
		const rank = student
			? 'Firefighter'
			: rankRoll < 0.6
				? 'Firefighter'
				: rankRoll < 0.82
					? 'Crew Manager'
					: rankRoll < 0.94
						? 'Watch Manager'
						: 'Station Manager';
		const buildings = [...new Set([pick(BUILDINGS), ...(random() < 0.3 ? [pick(BUILDINGS)] : [])])].sort();
		people.push({
			i,
			givenName,
			familyName,
			email,
			phone: `+47 4${String(Math.floor(random() * 1e7)).padStart(7, '0')}`,
			employeeNumber: String(10000 + i),
			memberType: student ? 'student' : 'staff',
			buildings,
			rank,
			station: i % STATIONS.length,
			driver: random() < 0.2
		});
	}
	return people;
}

const pad = (i: number) => String(i).padStart(3, '0');
export const opsPersonId = (i: number) => `ops-p-${pad(i)}`;
export const teamPersonId = (i: number) => `team-p-${pad(i)}`;
/** The HR key: the identifier HR, and Operations Center as externalId, use for a person. */
export const hrKey = (i: number) => `E${10000 + i}`;

/** Who is where. */
const IN_OPS = (i: number) => i < 220;
const IN_TEAM = (i: number) => i < 180 || (i >= 220 && i < 235);
const IN_HR = (i: number) => i < 180 || (i >= 190 && i < 240);

/** Team Manager holds older values for these people: the first reconcile updates them. */
const STALE_IN_TEAM: Record<number, (p: Person) => void> = {
	3: (p) => (p.phone = '+47 40000003'),
	7: (p) => ((p.familyName = 'Hansen'), (p.displayName = `${p.givenName} Hansen`)),
	12: (p) => (p.buildings = ['B-DEPOT']),
	18: (p) => (p.custom = { grade: 'Firefighter' }),
	25: (p) => delete p.phone,
	31: (p) => (p.memberType = 'student'),
	44: (p) => (p.phone = '+47 40000044'),
	58: (p) => (p.buildings = ['B-HQ', 'B-TRAINING']),
	77: (p) => ((p.givenName = 'Kris'), (p.displayName = `Kris ${p.familyName}`)),
	102: (p) => (p.custom = { grade: 'Trainee' }),
	130: (p) => (p.phone = '+47 40000130'),
	166: (p) => delete p.employeeNumber
};
/** Operations Center people with a promotion Team Manager has not heard of. */
const PROMOTED_IN_OPS = new Set([18, 61, 151]);

/** The duty officers' shared mailbox: two Operations Center people, one email (ambiguous). */
const SHARED_MAILBOX = 'duty.officer@example.org';
const SHARED_MAILBOX_PEOPLE = [50, 51];
/** A duplicate account in Team Manager: same email as the real one (ambiguous). */
const DUPLICATED_IN_TEAM = 42;

function basePerson(m: Member, id: string, rankField: 'rank' | 'grade' | undefined, withExternalId: boolean): Person {
	const p: Person = {
		id,
		displayName: `${m.givenName} ${m.familyName}`,
		givenName: m.givenName,
		familyName: m.familyName,
		email: m.email,
		phone: m.phone,
		employeeNumber: m.employeeNumber,
		memberType: m.memberType,
		buildings: [...m.buildings],
		active: true
	};
	if (withExternalId) p.externalId = hrKey(m.i);
	if (rankField) p.custom = { [rankField]: m.rank };
	return p;
}

const member = (groupId: string, personId: string, role: Role = 'member'): Membership => ({ groupId, personId, role });
const group = (id: string, name: string, kind: GroupKind, externalId?: string): Group => ({
	id,
	name,
	kind,
	...(externalId ? { externalId } : {})
});

/** Operations Center: 220 people (HR keys as externalId), stations, functions, message groups. */
export function seedOps(): SandboxRecords {
	const everyone = population();
	const people: SandboxRecords['people'] = [];
	const memberships: Membership[] = [];
	const groups: Group[] = [
		...STATIONS.map(([ext, name]) => group(`ops-g-${ext.toLowerCase()}`, name, 'community', ext)),
		...FUNCTIONS.map(([ext, name]) => group(`ops-g-${ext.toLowerCase()}`, name, 'function', ext)),
		group('ops-g-mg-all', 'All personnel', 'message-group', 'MG-ALL'),
		group('ops-g-mg-duty', 'Duty officers', 'message-group', 'MG-DUTY'),
		group('ops-g-mg-hazmat', 'Hazmat team', 'message-group', 'MG-HAZMAT'),
		group('ops-g-mg-dive', 'Dive team', 'message-group', 'MG-DIVE'),
		group('ops-g-logistics', 'Logistics', 'message-group', 'OC-LOG')
	];
	for (const m of everyone.filter((x) => IN_OPS(x.i))) {
		const p = basePerson(m, opsPersonId(m.i), 'rank', true);
		if (PROMOTED_IN_OPS.has(m.i)) p.custom = { rank: 'Watch Manager' };
		let userName: string | undefined;
		if (SHARED_MAILBOX_PEOPLE.includes(m.i)) {
			p.email = SHARED_MAILBOX;
			userName = hrKey(m.i);
		}
		people.push(userName ? { ...p, userName } : p);
		const stationId = `ops-g-${STATIONS[m.station][0].toLowerCase()}`;
		memberships.push(member(stationId, p.id, m.rank === 'Station Manager' ? 'manager' : 'member'));
		memberships.push(member(`ops-g-${RANK_FUNCTION[p.custom!.rank as Member['rank']].toLowerCase()}`, p.id));
		if (m.driver) memberships.push(member('ops-g-fn-drv', p.id));
		memberships.push(member('ops-g-mg-all', p.id));
		if (m.i % 15 === 0 && m.i < 180)
			memberships.push(member('ops-g-mg-duty', p.id, m.i % 30 === 0 ? 'manager' : 'member'));
		if (m.i % 11 === 0) memberships.push(member('ops-g-mg-hazmat', p.id));
		if (m.i % 13 === 0) memberships.push(member('ops-g-mg-dive', p.id));
		if (m.i % 17 === 0) memberships.push(member('ops-g-logistics', p.id));
	}
	return { people, groups, memberships };
}

/** Team Manager: 195 people (no HR keys), stations (two named differently), functions, courses. */
export function seedTeam(): SandboxRecords {
	const everyone = population();
	const people: SandboxRecords['people'] = [];
	const memberships: Membership[] = [];
	const renamed: Record<string, string> = { 'ST-03': 'Station 3 Sandvika (old)', 'ST-05': 'Stn 5 Bærum Verk' };
	const groups: Group[] = [
		...STATIONS.filter(([ext]) => ext !== 'ST-08').map(([ext, name]) =>
			group(`team-g-${ext.toLowerCase()}`, renamed[ext] ?? name, 'community', ext)
		),
		...FUNCTIONS.map(([ext, name]) => group(`team-g-${ext.toLowerCase()}`, name, 'function', ext)),
		group('team-g-fn-med', 'First aid', 'function', 'FN-MED'),
		group('team-g-mg-all', 'All personnel', 'message-group', 'MG-ALL'),
		group('team-g-mg-duty', 'Duty officers', 'message-group', 'MG-DUTY'),
		group('team-g-logistics', 'Logistics', 'message-group', 'TM-LOG'),
		group('team-g-crs-ba', 'Course: Breathing apparatus', 'group', 'CRS-BA'),
		group('team-g-crs-haz', 'Course: Hazmat level 2', 'group', 'CRS-HAZ'),
		group('team-g-crs-fa', 'Course: First aid refresher', 'group', 'CRS-FA'),
		group('team-g-crs-drv', 'Course: Emergency driving', 'group', 'CRS-DRV')
	];
	for (const m of everyone.filter((x) => IN_TEAM(x.i))) {
		const p = basePerson(m, teamPersonId(m.i), 'grade', false);
		STALE_IN_TEAM[m.i]?.(p);
		// The first duty officer uses the shared mailbox here too: two candidates on one side.
		if (m.i === SHARED_MAILBOX_PEOPLE[0]) p.email = SHARED_MAILBOX;
		people.push(p);
		if (m.i >= 220) {
			// Trainees only Team Manager knows: courses, no station yet.
			memberships.push(member('team-g-crs-ba', p.id));
			memberships.push(member('team-g-crs-fa', p.id));
			continue;
		}
		const grade = (p.custom?.grade ?? m.rank) as Member['rank'];
		// ST-08 does not exist here yet: its people have no station in Team Manager.
		if (STATIONS[m.station][0] !== 'ST-08')
			memberships.push(
				member(
					`team-g-${STATIONS[m.station][0].toLowerCase()}`,
					p.id,
					m.rank === 'Station Manager' ? 'manager' : 'member'
				)
			);
		if (RANK_FUNCTION[grade]) memberships.push(member(`team-g-${RANK_FUNCTION[grade].toLowerCase()}`, p.id));
		// Team Manager missed two drivers: the first reconcile adds them.
		if (m.driver && m.i !== 9 && m.i !== 16) memberships.push(member('team-g-fn-drv', p.id));
		memberships.push(member('team-g-mg-all', p.id));
		// The duty officers are the same on both sides: an in-sync group.
		if (m.i % 15 === 0) memberships.push(member('team-g-mg-duty', p.id, m.i % 30 === 0 ? 'manager' : 'member'));
		if (m.i % 19 === 0) memberships.push(member('team-g-logistics', p.id));
		if (m.i % 4 === 0) memberships.push(member('team-g-crs-ba', p.id));
		if (m.i % 11 === 0) memberships.push(member('team-g-crs-haz', p.id));
		if (m.i % 6 === 0) memberships.push(member('team-g-fn-med', p.id));
		if (m.driver) memberships.push(member('team-g-crs-drv', p.id));
	}
	// The duplicate account: same email as team-p-042, another user name.
	const original = people.find((p) => p.id === teamPersonId(DUPLICATED_IN_TEAM))!;
	people.push({
		id: `${teamPersonId(DUPLICATED_IN_TEAM)}-old`,
		userName: `${original.givenName!.toLowerCase()}.old`,
		displayName: `${original.displayName} (old account)`,
		givenName: original.givenName,
		familyName: original.familyName,
		email: original.email,
		active: true
	});
	return { people, groups, memberships };
}

// ---- the HR export ------------------------------------------------------------------------------

/** The HR export's column map (PUT /api/systems/hr-export/csv `columns`). */
export const HR_COLUMNS: CsvColumns = {
	externalId: 'Employee ID',
	givenName: 'First name',
	familyName: 'Last name',
	email: 'Email',
	phone: 'Mobile',
	memberType: 'Member type',
	buildings: 'Buildings',
	communities: 'Communities',
	functions: 'Functions',
	custom: { grade: 'Grade' }
};

const csvCell = (value: string) => (/[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);

/**
 * The HR export: 230 people (most of Operations Center, some only here: new hires), each with a
 * community (station, as `Name [ID]`), functions, buildings, member type and grade.
 */
export function hrExport(): { csv: string; columns: CsvColumns } {
	const header = [
		'Employee ID',
		'First name',
		'Last name',
		'Email',
		'Mobile',
		'Member type',
		'Buildings',
		'Communities',
		'Functions',
		'Grade'
	];
	const lines = [header.join(',')];
	for (const m of population().filter((x) => IN_HR(x.i))) {
		const [stationId, stationName] = STATIONS[m.station];
		const functions = [
			`${FUNCTIONS.find(([id]) => id === RANK_FUNCTION[m.rank])![1]} [${RANK_FUNCTION[m.rank]}]`,
			...(m.driver ? ['Driver [FN-DRV]'] : [])
		];
		lines.push(
			[
				hrKey(m.i),
				m.givenName,
				m.familyName,
				m.email,
				m.phone,
				m.memberType,
				m.buildings.join(';'),
				`${stationName} [${stationId}]`,
				functions.join(';'),
				m.rank
			]
				.map(csvCell)
				.join(',')
		);
	}
	return { csv: `${lines.join('\n')}\n`, columns: HR_COLUMNS };
}

// ---- phase two: drift -------------------------------------------------------------------------

let driftKey = 0;
const key = () => `drift-${++driftKey}`;
const ref = (id: string) => ({ id });
const update = (id: string, values: Record<string, string | null>): Op => ({
	key: key(),
	side: 'a',
	step: STEP.people,
	type: 'update-person',
	target: ref(id),
	values,
	before: {}
});
const remove = (id: string): Op => ({
	key: key(),
	side: 'a',
	step: STEP.peopleRemovals,
	type: 'remove-person',
	target: ref(id),
	soft: false,
	before: { id, displayName: id, active: true },
	beforeMembers: []
});

/**
 * The second phase's edits to each sandbox, as core operations (applied by SandboxDO.applyOps).
 * Apply after the first run; see the module comment for what each one shows.
 */
export function drift(): { ops: Op[]; team: Op[] } {
	driftKey = 0;
	const ops: Op[] = [
		// both-changed (with Team Manager's edits below)
		update(opsPersonId(5), { phone: '+47 90000005' }),
		update(opsPersonId(6), { displayName: 'Captain Six' }),
		// changed-vs-removed: deleted here, changed there; changed here, deleted there
		remove(opsPersonId(10)),
		update(opsPersonId(11), { phone: '+47 90000011' }),
		// plain updates
		update(opsPersonId(14), { 'custom:rank': 'Crew Manager' }),
		{
			key: key(),
			side: 'a',
			step: STEP.memberships,
			type: 'add-membership',
			group: ref('ops-g-mg-hazmat'),
			person: ref(opsPersonId(30)),
			role: 'member'
		},
		// a new person
		{
			key: key(),
			side: 'a',
			step: STEP.people,
			type: 'create-person',
			restoreId: 'ops-p-new-1',
			record: {
				displayName: 'Nina Vik',
				givenName: 'Nina',
				familyName: 'Vik',
				email: 'nina.vik@example.org',
				externalId: 'E20001',
				memberType: 'staff',
				active: true,
				custom: { rank: 'Firefighter' }
			}
		}
	];
	const team: Op[] = [
		update(teamPersonId(5), { phone: '+47 91100005' }),
		update(teamPersonId(6), { displayName: 'Six (Team Manager)' }),
		update(teamPersonId(10), { familyName: 'Changed-in-Team' }),
		remove(teamPersonId(11)),
		update(teamPersonId(15), { phone: '+47 91100015' }),
		// five removals: removed on the other side, or staged above a low person limit
		...[20, 21, 22, 23, 24].map((i) => remove(teamPersonId(i))),
		{
			key: key(),
			side: 'b',
			step: STEP.groups,
			type: 'update-group',
			target: ref('team-g-st-04'),
			values: { name: 'Station 4 Lommedalen & Rykkinn' },
			before: {}
		},
		{
			key: key(),
			side: 'b',
			step: STEP.people,
			type: 'create-person',
			restoreId: 'team-p-new-1',
			record: {
				displayName: 'Omar Lie',
				givenName: 'Omar',
				familyName: 'Lie',
				email: 'omar.lie@example.org',
				memberType: 'student',
				active: true,
				custom: { grade: 'Trainee' }
			}
		}
	];
	return { ops, team };
}
