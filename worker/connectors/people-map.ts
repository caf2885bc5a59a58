/**
 * Where a system keeps a person's buildings and member type, as its owner maps them (a system's
 * `peopleMap`): a SCIM attribute path or a CSV column, and the values that mean staff or student.
 * Without a map a system reads as before: SCIM `userType` and the Rostersync extension's
 * `buildings`; a CSV's mapped `memberType` and `buildings` columns. Pure: both connectors use it.
 */
import type { MemberType } from '$lib/core/model';
import type { PeopleMap } from '$lib/api/types';

export type { PeopleMap };

const LIST_SEPARATOR = /[;|,\n]/;

/** The values that read as each member type, lower-cased (default: the words themselves). */
export function memberTypeValues(map: PeopleMap | undefined): Record<MemberType, string[]> {
	return {
		staff: (map?.staff?.length ? map.staff : ['staff']).map((v) => v.trim().toLowerCase()),
		student: (map?.student?.length ? map.student : ['student']).map((v) => v.trim().toLowerCase())
	};
}

/**
 * The member type a raw value means, `undefined` when it is empty, or null when it means neither
 * (the caller names the record and the field).
 */
export function memberTypeOf(raw: unknown, values: Record<MemberType, string[]>): MemberType | undefined | null {
	if (raw === undefined || raw === null || raw === '') return undefined;
	if (typeof raw !== 'string' && typeof raw !== 'number') return null;
	const value = String(raw).trim().toLowerCase();
	if (value === '') return undefined;
	if (values.staff.includes(value)) return 'staff';
	if (values.student.includes(value)) return 'student';
	return null;
}

/**
 * Buildings from a raw value: a list of strings (or of `{ value }`, as SCIM multi-valued
 * attributes are), or one string holding several separated by `;`, `|`, `,` or new lines.
 * null when it is none of those.
 */
export function buildingsOf(raw: unknown): string[] | null {
	if (raw === undefined || raw === null || raw === '') return [];
	const items: unknown[] = Array.isArray(raw) ? raw : [raw];
	const out = new Set<string>();
	for (const item of items) {
		const value =
			item !== null && typeof item === 'object' && 'value' in item ? (item as { value: unknown }).value : item;
		if (typeof value === 'number') out.add(String(value));
		else if (typeof value === 'string')
			for (const part of value.split(LIST_SEPARATOR)) {
				const b = part.trim();
				if (b) out.add(b);
			}
		else return null;
	}
	return [...out].sort();
}
