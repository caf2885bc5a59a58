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
	if (p.access !== undefined) out.access = p.access;
	return out;
}

const normalizeGroup = (g: Group): Group => ({
	...g,
	name: clean(g.name),
	...(g.externalId ? { externalId: clean(g.externalId) } : {})
});

const describe = (kind: string, list: string, offset: number) => (raw: unknown, i: number) => {
	const rid = (raw as { id?: unknown })?.id;
	return typeof rid === 'string' && rid ? `${kind} "${rid}"` : `${list}[${offset + i}]`;
};

/** A digest of every record: equal content, equal version, whatever the order. */
export function snapshotVersion(s: Pick<Snapshot, 'people' | 'groups' | 'memberships'>): string {
	const v = new VersionAccumulator();
	for (const p of s.people) v.person(p);
	for (const g of s.groups) v.group(g);
	for (const m of s.memberships) v.membership(m);
	return v.value();
}

/** Issues kept in full; past it they are only counted, so a huge bad input stays a small answer. */
export const MAX_ISSUES = 100;

/**
 * Validates and normalizes a snapshot as it arrives, page by page: what `parseSnapshot` does to a
 * whole snapshot, and what the edge does to every record a connector reads before it is stored.
 * People come before the groups whose memberships name them; each membership must name a group
 * and a person seen before it. Memberships are checked for repeats within one call (a group's
 * members arrive together), so memory stays with the ids, not with every membership.
 */
export class SnapshotParser {
	readonly #issues: InputIssue[] = [];
	#problems = 0;
	readonly #people = new Set<string>();
	readonly #groups = new Set<string>();
	#memberships = 0;

	constructor(readonly system: string) {}

	#issue(issue: InputIssue): void {
		this.#problems++;
		if (this.#issues.length < MAX_ISSUES) this.#issues.push(issue);
	}

	/** The valid people of `raw`, normalized; the others are recorded as issues. */
	people(raw: unknown): Person[] {
		const offset = this.#people.size;
		const { ok, issues } = validateRecords(
			PersonSchema,
			raw,
			'people',
			describe('person', 'people', offset),
			this.system
		);
		for (const i of issues) this.#issue(i);
		const out: Person[] = [];
		for (const p of ok as Person[]) {
			if (this.#people.has(p.id)) {
				this.#issue({
					system: this.system,
					record: `person "${p.id}"`,
					field: 'id',
					message: 'is used by another person'
				});
				continue;
			}
			this.#people.add(p.id);
			out.push(normalizePerson(p));
		}
		return out;
	}

	groups(raw: unknown): Group[] {
		const offset = this.#groups.size;
		const { ok, issues } = validateRecords(
			GroupSchema,
			raw,
			'groups',
			describe('group', 'groups', offset),
			this.system
		);
		for (const i of issues) this.#issue(i);
		const out: Group[] = [];
		for (const g of ok as Group[]) {
			if (this.#groups.has(g.id)) {
				this.#issue({
					system: this.system,
					record: `group "${g.id}"`,
					field: 'id',
					message: 'is used by another group'
				});
				continue;
			}
			this.#groups.add(g.id);
			out.push(normalizeGroup(g));
		}
		return out;
	}

	memberships(raw: unknown): Membership[] {
		const offset = this.#memberships;
		const { ok, issues } = validateRecords(
			MembershipSchema,
			raw,
			'memberships',
			(_raw, i) => `memberships[${offset + i}]`,
			this.system
		);
		this.#memberships += Array.isArray(raw) ? raw.length : 0;
		for (const i of issues) this.#issue(i);
		const seen = new Set<string>();
		const out: Membership[] = [];
		(ok as Membership[]).forEach((m, i) => {
			const record = `membership of "${m.personId}" in "${m.groupId}"`;
			let bad = false;
			if (!this.#groups.has(m.groupId)) {
				this.#issue({ system: this.system, record, field: 'groupId', message: 'names no group of this snapshot' });
				bad = true;
			}
			if (!this.#people.has(m.personId)) {
				this.#issue({ system: this.system, record, field: 'personId', message: 'names no person of this snapshot' });
				bad = true;
			}
			const key = `${m.groupId}\u0000${m.personId}`;
			if (seen.has(key)) {
				this.#issue({
					system: this.system,
					record: `memberships[${offset + i}]`,
					field: 'personId',
					message: 'repeats a membership'
				});
				bad = true;
			}
			seen.add(key);
			if (!bad) out.push(m);
		});
		return out;
	}

	/** Throws a ValidationError naming every problem (the first MAX_ISSUES, and how many in all). */
	finish(): void {
		if (this.#problems === 0) return;
		const more = this.#problems - this.#issues.length;
		throw new ValidationError(
			this.#issues,
			`Snapshot of ${this.system} refused${more > 0 ? ` (${this.#problems} problems; the first ${this.#issues.length} are listed)` : ''}`
		);
	}
}

export function parseSnapshot(
	input: { people?: unknown; groups?: unknown; memberships?: unknown; fields?: unknown },
	system: string,
	takenAt: string
): Snapshot {
	const parser = new SnapshotParser(system);
	const people = parser.people(input.people ?? []);
	const groups = parser.groups(input.groups ?? []);
	const memberships = parser.memberships(input.memberships ?? []);
	parser.finish();
	const snap: Snapshot = { system, takenAt, version: '', people, groups, memberships };
	if (Array.isArray(input.fields)) snap.fields = input.fields.filter((f): f is string => typeof f === 'string');
	snap.version = snapshotVersion(snap);
	return snap;
}
