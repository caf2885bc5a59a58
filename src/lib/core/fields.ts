/**
 * Which values of a record are compared and written, per link. Built once per reconciliation so
 * the per-pair loop reads values without allocating.
 *
 * A field has one key in baselines and conflicts (custom fields: `custom:<name on side A>`) and a
 * local key per side in operations (`custom:<that side's name>`), which `setPersonField` reads.
 */
import {
	PERSON_FIELDS,
	type FieldValue,
	type FieldValues,
	type Group,
	type LinkConfig,
	type Person,
	type PersonField,
	type Side
} from './model';

export interface FieldSpec<R> {
	key: string;
	local: Record<Side, string>;
	read: (record: R, side: Side) => FieldValue;
}

/** Fields synced by default: everything but `active`, which removal and restore own. */
export const DEFAULT_PERSON_FIELDS: PersonField[] = PERSON_FIELDS.filter((f) => f !== 'active');

const text = (v: string | undefined): FieldValue => (v === undefined || v === '' ? null : v);

/** Lists (buildings) compare as sets: sorted, deduplicated, one string. */
export function joinList(list: readonly string[] | undefined): FieldValue {
	if (!list || list.length === 0) return null;
	if (list.length === 1) return list[0];
	return [...new Set(list)].sort().join('\n');
}
export const splitList = (value: FieldValue): string[] => (value ? value.split('\n') : []);

/** Reads a person's field by its local key (standard name, or `custom:<name>`). */
export function getPersonField(p: Person, localKey: string): FieldValue {
	if (localKey.startsWith('custom:')) return text(p.custom?.[localKey.slice(7)]);
	switch (localKey as PersonField) {
		case 'buildings':
			return joinList(p.buildings);
		case 'active':
			return p.active ? 'true' : 'false';
		case 'memberType':
			return p.memberType ?? null;
		case 'displayName':
		case 'givenName':
		case 'familyName':
		case 'email':
		case 'phone':
		case 'employeeNumber':
			return text(p[localKey as 'email']);
		default:
			throw new Error(`unknown person field "${localKey}"`);
	}
}

/** Writes a person's field by its local key, in place. */
export function setPersonField(p: Person, localKey: string, value: FieldValue): void {
	if (localKey.startsWith('custom:')) {
		const custom = { ...(p.custom ?? {}) };
		if (value === null) delete custom[localKey.slice(7)];
		else custom[localKey.slice(7)] = value;
		if (Object.keys(custom).length > 0) p.custom = custom;
		else delete p.custom;
		return;
	}
	switch (localKey as PersonField) {
		case 'buildings':
			if (value === null) delete p.buildings;
			else p.buildings = splitList(value);
			return;
		case 'active':
			p.active = value !== 'false';
			return;
		case 'memberType':
			if (value === 'staff' || value === 'student') p.memberType = value;
			else delete p.memberType;
			return;
		case 'displayName':
			p.displayName = value ?? '';
			return;
		case 'givenName':
		case 'familyName':
		case 'email':
		case 'phone':
		case 'employeeNumber':
			if (value === null) delete p[localKey as 'email'];
			else p[localKey as 'email'] = value;
			return;
		default:
			throw new Error(`unknown person field "${localKey}"`);
	}
}

export function setGroupField(g: Group, localKey: string, value: FieldValue): void {
	if (localKey !== 'name') throw new Error(`unknown group field "${localKey}"`);
	g.name = value ?? '';
}

function standardSpec(field: PersonField): FieldSpec<Person> {
	return { key: field, local: { a: field, b: field }, read: (p) => getPersonField(p, field) };
}

function customSpec(names: { a: string; b: string }): FieldSpec<Person> {
	const local = { a: `custom:${names.a}`, b: `custom:${names.b}` };
	return { key: local.a, local, read: (p, side) => text(p.custom?.[names[side]]) };
}

export function personFieldSpecs(link: Pick<LinkConfig, 'personFields' | 'fieldMap'>): FieldSpec<Person>[] {
	return [...link.personFields.map(standardSpec), ...link.fieldMap.map(customSpec)];
}

/** Which of a link's fields it writes, and which it leaves out because a system does not hold them. */
export interface WritableFields {
	/** Canonical keys (`custom:<name on side A>` for custom fields), in the link's order. */
	written: string[];
	omitted: { field: string; missingOn: Side[] }[];
}

/**
 * The link's fields intersected with what both systems hold (`undefined`: every field). Two-way,
 * a field both sides cannot store would be written to one and fail there night after night; in
 * provisioning, a field the source does not provide (no column, not mapped, not in its schema)
 * means "leave alone", never "clear", and one the target cannot hold is never planned.
 */
export function writableFields(
	link: Pick<LinkConfig, 'personFields' | 'fieldMap'>,
	held: Record<Side, readonly string[] | undefined>
): WritableFields {
	const out: WritableFields = { written: [], omitted: [] };
	for (const spec of personFieldSpecs(link)) {
		const missingOn = (['a', 'b'] as const).filter((side) => held[side] && !held[side]!.includes(spec.local[side]));
		if (missingOn.length === 0) out.written.push(spec.key);
		else out.omitted.push({ field: spec.key, missingOn });
	}
	return out;
}

export const GROUP_NAME: FieldSpec<Group> = { key: 'name', local: { a: 'name', b: 'name' }, read: (g) => g.name };

/** Provisioning leaves existing groups alone: no group field is compared there. */
export const groupFieldSpecs = (link: Pick<LinkConfig, 'mode'>): FieldSpec<Group>[] =>
	link.mode === 'provision' ? [] : [GROUP_NAME];

/** Every spec'd field of a record, by canonical key. */
export function readValues<R>(record: R, specs: FieldSpec<R>[], side: Side): FieldValues {
	const out: FieldValues = {};
	for (const spec of specs) out[spec.key] = spec.read(record, side);
	return out;
}

/** Canonical-keyed values to a side's local keys (what an operation on that side carries). */
export function toLocal<R>(values: FieldValues, specs: FieldSpec<R>[], side: Side): FieldValues {
	const out: FieldValues = {};
	for (const spec of specs) if (spec.key in values) out[spec.local[side]] = values[spec.key];
	return out;
}
