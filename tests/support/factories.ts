/** Small builders for core tests: records read as one line each. */
import {
	Directory,
	makeLink,
	reconcile,
	type Baseline,
	type BaselineEntry,
	type Group,
	type LinkConfig,
	type Membership,
	type Person,
	type Resolution,
	type Snapshot
} from '../../src/lib/core';

export const NOW = Date.parse('2026-11-21T12:00:00Z');

export const person = (id: string, displayName: string, extra: Partial<Person> = {}): Person => ({
	id,
	displayName,
	active: true,
	...extra
});
export const group = (id: string, name: string, extra: Partial<Group> = {}): Group => ({
	id,
	name,
	kind: 'group',
	...extra
});
export const member = (groupId: string, personId: string, role: Membership['role'] = 'member'): Membership => ({
	groupId,
	personId,
	role
});

export interface Side {
	people?: Person[];
	groups?: Group[];
	memberships?: Membership[];
	/** The person fields the system holds (Snapshot.fields); absent: every field. */
	fields?: string[];
}

export const snap = (system: string, side: Side): Snapshot => {
	const s = new Directory(system, {
		people: side.people ?? [],
		groups: side.groups ?? [],
		memberships: side.memberships ?? []
	}).snapshot();
	return side.fields ? { ...s, fields: side.fields } : s;
};

export const twoWay = (extra: Partial<LinkConfig> = {}): LinkConfig =>
	makeLink({ id: 'L1', name: 'Ops ⇄ Team', mode: 'two-way', systems: { a: 'A', b: 'B' }, ...extra });

export const provision = (extra: Partial<LinkConfig> = {}): LinkConfig =>
	makeLink({ id: 'P1', name: 'HR → Team', mode: 'provision', systems: { a: 'HR', b: 'T' }, ...extra });

/** A baseline entry for a person pair whose fields were last written as `fields`. */
export const personEntry = (
	a: string,
	b: string,
	fields: Record<string, string | null>,
	extra: Partial<BaselineEntry> = {}
): BaselineEntry => ({
	kind: 'person',
	a,
	b,
	origin: 'matched',
	fields,
	...extra
});

export const baseline = (linkId: string, entries: BaselineEntry[] = []): Baseline => ({ linkId, entries });

export function run(
	link: LinkConfig,
	a: Side,
	b: Side,
	opts: { entries?: BaselineEntry[]; resolutions?: Resolution[]; now?: number } = {}
) {
	return reconcile({
		link,
		a: snap(link.systems.a, a),
		b: snap(link.systems.b, b),
		baseline: baseline(link.id, opts.entries),
		resolutions: opts.resolutions,
		now: opts.now ?? NOW
	});
}

/** All fields of a person as the default link compares them. */
export const fieldsOf = (p: Partial<Person>): Record<string, string | null> => ({
	displayName: p.displayName ?? null,
	givenName: p.givenName ?? null,
	familyName: p.familyName ?? null,
	email: p.email ?? null,
	phone: p.phone ?? null,
	employeeNumber: p.employeeNumber ?? null,
	memberType: p.memberType ?? null,
	buildings: p.buildings?.length ? [...p.buildings].sort().join('\n') : null
});

/** One line per operation: `type@side`, for table assertions. */
export const opLine = (r: ReturnType<typeof run>) =>
	r.plan.ops.map((o) => `${o.type}@${o.side}${o.staged ? '(staged)' : ''}`);
