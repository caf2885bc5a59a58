/**
 * Snapshots enter the core here: validated record by record, references checked, values
 * normalized (NFC, trimmed, emails lower-cased), and versioned. A snapshot with any bad record is
 * refused whole, with every problem named, so nothing is ever applied from half a directory.
 */
import type { Group, Membership, Person, Snapshot } from './model';
import { VersionAccumulator } from './version';
import {
	GroupSchema,
	MembershipSchema,
	PersonSchema,
	ValidationError,
	validateRecords,
	type InputIssue
} from './schema';

const clean = (s: string) => s.normalize('NFC').trim();

function normalizePerson(p: Person): Person {
	const out: Person = { id: p.id, displayName: clean(p.displayName), active: p.active };
	if (p.externalId) out.externalId = clean(p.externalId);
	for (const f of ['givenName', 'familyName', 'phone', 'employeeNumber'] as const) {
		const value = p[f] === undefined ? '' : clean(p[f]!);
		if (value) out[f] = value;
	}
	if (p.email) out.email = clean(p.email).toLowerCase();
	if (p.memberType) out.memberType = p.memberType;
	if (p.buildings && p.buildings.length > 0) out.buildings = [...new Set(p.buildings.map(clean))].sort();
	if (p.custom) {
		const custom: Record<string, string> = {};
		for (const [k, value] of Object.entries(p.custom)) if (clean(value)) custom[k] = clean(value);
		if (Object.keys(custom).length > 0) out.custom = custom;
	}
	return out;
}

const normalizeGroup = (g: Group): Group => ({
	...g,
	name: clean(g.name),
	...(g.externalId ? { externalId: clean(g.externalId) } : {})
});

const describe = (kind: string, list: string) => (raw: unknown, i: number) => {
	const rid = (raw as { id?: unknown })?.id;
	return typeof rid === 'string' && rid ? `${kind} "${rid}"` : `${list}[${i}]`;
};

/** A digest of every record: equal content, equal version, whatever the order. */
export function snapshotVersion(s: Pick<Snapshot, 'people' | 'groups' | 'memberships'>): string {
	const v = new VersionAccumulator();
	for (const p of s.people) v.person(p);
	for (const g of s.groups) v.group(g);
	for (const m of s.memberships) v.membership(m);
	return v.value();
}

export function parseSnapshot(
	input: { people?: unknown; groups?: unknown; memberships?: unknown },
	system: string,
	takenAt: string
): Snapshot {
	const people = validateRecords(PersonSchema, input.people ?? [], 'people', describe('person', 'people'), system);
	const groups = validateRecords(GroupSchema, input.groups ?? [], 'groups', describe('group', 'groups'), system);
	const memberships = validateRecords(
		MembershipSchema,
		input.memberships ?? [],
		'memberships',
		(raw, i) => `memberships[${i}]`,
		system
	);
	const issues: InputIssue[] = [...people.issues, ...groups.issues, ...memberships.issues];

	const personIds = new Set<string>();
	for (const p of people.ok) {
		if (personIds.has(p.id))
			issues.push({ system, record: `person "${p.id}"`, field: 'id', message: 'is used by another person' });
		personIds.add(p.id);
	}
	const groupIds = new Set<string>();
	for (const g of groups.ok) {
		if (groupIds.has(g.id))
			issues.push({ system, record: `group "${g.id}"`, field: 'id', message: 'is used by another group' });
		groupIds.add(g.id);
	}
	const seen = new Set<string>();
	memberships.ok.forEach((m, i) => {
		const record = `membership of "${m.personId}" in "${m.groupId}"`;
		if (!groupIds.has(m.groupId))
			issues.push({ system, record, field: 'groupId', message: 'names no group of this snapshot' });
		if (!personIds.has(m.personId))
			issues.push({ system, record, field: 'personId', message: 'names no person of this snapshot' });
		const key = `${m.groupId}\u0000${m.personId}`;
		if (seen.has(key))
			issues.push({ system, record: `memberships[${i}]`, field: 'personId', message: 'repeats a membership' });
		seen.add(key);
	});
	if (issues.length > 0) throw new ValidationError(issues, `Snapshot of ${system} refused`);

	const snap: Snapshot = {
		system,
		takenAt,
		version: '',
		people: people.ok.map((p) => normalizePerson(p as Person)),
		groups: groups.ok.map((g) => normalizeGroup(g as Group)),
		memberships: memberships.ok as Membership[]
	};
	snap.version = snapshotVersion(snap);
	return snap;
}
