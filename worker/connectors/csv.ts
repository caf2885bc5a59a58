/**
 * An uploaded export (CSV with a header row) as a read-only source. The owner maps columns to
 * fields; every row becomes a person, keyed by its identifier column.
 *
 * - List columns (buildings, communities, functions) hold several values separated by `;` or `|`.
 * - A community or function is its identifier. A cell may name it as `Name [Identifier]`
 *   (e.g. `North Campus [NC01]`: the group NC01, named "North Campus"); other cells may then
 *   refer to it by identifier alone (`NC01`). A group never named reads with its identifier as
 *   name. Brackets, because `|` already separates list items. Groups match by identifier, never
 *   by name; one identifier given two names, or used as a community and a function, is an error.
 * - Rows are numbered as a spreadsheet shows them: the header is row 1, empty rows count.
 * - A file with any error produces no snapshot: one ConnectorError lists every bad row and column.
 */
import Papa from 'papaparse';
import {
	PERSON_FIELDS,
	type Group,
	type GroupKind,
	type Membership,
	type Person,
	type Snapshot
} from '$lib/core/model';
import type { ApplyResult, Capabilities, Connector, Issue } from './types';
import { ConnectorError } from './types';
import { snapshotVersion } from './digest';
import { CSV_COLUMN_FIELDS, type CsvColumns } from '$lib/api/csv-columns';

export type { CsvColumns };

export interface CsvOptions {
	systemId: string;
	/** The file's text (the edge decodes the upload). */
	text: string;
	columns: CsvColumns;
	clock?: { now(): number };
}

const LIST_SEPARATOR = /[;|]/;
const NAMED_ITEM = /^(.*\S)\s*\[([^\]]*)\]$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const TRUE = new Set(['true', 'yes', 'y', '1', 'active']);
const FALSE = new Set(['false', 'no', 'n', '0', 'inactive']);
/** At most this many issues are spelled out in the message; `issues` has them all. */
const LISTED_ISSUES = 25;

type SingleField = Exclude<keyof CsvColumns, 'custom' | 'externalId'>;
const SINGLE_FIELDS = CSV_COLUMN_FIELDS.filter((f): f is SingleField => f !== 'externalId');

/**
 * The column a field is mapped to. A blank name maps nothing, as if the field were left out: it
 * would otherwise match a header's empty column (a trailing comma) and claim a field the file
 * does not have.
 */
const columnOf = (column: string | undefined): string | undefined =>
	column !== undefined && column.trim() !== '' ? column : undefined;

/** Custom field name -> column, blank columns left out. */
const customColumns = (columns: CsvColumns): [name: string, column: string][] =>
	Object.entries(columns.custom ?? {}).filter(([, column]) => columnOf(column) !== undefined);

export class CsvConnector implements Connector {
	readonly kind = 'csv' as const;
	readonly #options: CsvOptions;

	constructor(options: CsvOptions) {
		this.#options = options;
	}

	/**
	 * Exactly the mapped columns' fields, plus the display name: every row has one, from its column
	 * or from the given and family names (a row with neither is refused).
	 */
	capabilities(): Capabilities {
		const c = this.#options.columns;
		const personFields = PERSON_FIELDS.filter((f) => f === 'displayName' || columnOf(c[f]) !== undefined);
		return {
			write: false,
			groups: columnOf(c.communities) !== undefined || columnOf(c.functions) !== undefined,
			roles: false,
			groupKinds: true,
			filter: false,
			softRemove: false,
			personFields,
			customFields: customColumns(c)
				.map(([name]) => name)
				.sort()
		};
	}

	async discover(): Promise<Capabilities> {
		return this.capabilities();
	}

	async read(): Promise<Snapshot> {
		const records = parseRoster(this.#options.text, this.#options.columns, this.#options.systemId);
		return {
			system: this.#options.systemId,
			takenAt: new Date((this.#options.clock ?? Date).now()).toISOString(),
			version: snapshotVersion(records),
			...records
		};
	}

	async apply(): Promise<ApplyResult> {
		throw new ConnectorError({
			code: 'unsupported',
			system: this.#options.systemId,
			detail: 'a CSV export is a read-only source'
		});
	}
}

/** Splits a list cell; empty items (`a;;b`, a trailing `;`) are dropped. */
export const splitList = (cell: string): string[] =>
	cell
		.split(LIST_SEPARATOR)
		.map((s) => s.trim())
		.filter(Boolean);

/** `North Campus [NC01]` -> { id: NC01, name: North Campus }; `NC01` -> { id: NC01, name: NC01 }. */
export function parseGroupItem(item: string): { id: string; name: string; named: boolean } | { error: string } {
	const named = NAMED_ITEM.exec(item);
	if (!named) {
		if (/[[\]]/.test(item)) return { error: `"${item}" is neither an identifier nor "Name [Identifier]"` };
		return { id: item, name: item, named: false };
	}
	const id = named[2].trim();
	if (!id) return { error: `"${item}" has an empty identifier in brackets` };
	return { id, name: named[1].trim(), named: true };
}

/** The records of a roster file, or a ConnectorError listing every problem. */
export function parseRoster(
	text: string,
	columns: CsvColumns,
	systemId: string
): Pick<Snapshot, 'people' | 'groups' | 'memberships'> {
	const issues: Issue[] = [];
	const fail = () => {
		issues.sort((a, b) => (a.row ?? 0) - (b.row ?? 0));
		const listed = issues
			.slice(0, LISTED_ISSUES)
			.map((i) => `row ${i.row}${i.column ? `, column ${i.column}` : ''}: ${i.message}`);
		const more = issues.length > LISTED_ISSUES ? `; and ${issues.length - LISTED_ISSUES} more` : '';
		const first = issues[0];
		return new ConnectorError({
			code: 'invalid',
			system: systemId,
			recordKind: 'person',
			recordId: first.record,
			field: first.column,
			detail: `the file has ${issues.length} problem${issues.length === 1 ? '' : 's'}: ${listed.join('; ')}${more}`,
			issues
		});
	};

	const parsed = Papa.parse<string[]>(text.replace(/^\uFEFF/, ''), { header: false, skipEmptyLines: false });
	for (const e of parsed.errors) {
		// A one-column file has no delimiter to detect; that is not a problem.
		if (e.type === 'Delimiter') continue;
		issues.push({ row: (e.row ?? 0) + 1, message: e.message });
	}
	const rows = parsed.data;
	const header = (rows[0] ?? []).map((h) => h.trim());
	if (header.length === 0 || header.every((h) => h === '')) {
		issues.push({ row: 1, message: 'the file has no header row' });
		throw fail();
	}

	// Resolve every mapped column to its index; column names match case-insensitively.
	const index = new Map<string, number>();
	const mapped: [field: string, column: string][] = [
		['externalId', columns.externalId],
		...SINGLE_FIELDS.flatMap((f): [string, string][] => {
			const column = columnOf(columns[f]);
			return column === undefined ? [] : [[f, column]];
		}),
		...customColumns(columns).map(([name, column]): [string, string] => [`custom:${name}`, column])
	];
	for (const [field, column] of mapped) {
		const at = header.flatMap((h, i) => (h.toLowerCase() === column.trim().toLowerCase() ? [i] : []));
		if (at.length === 0)
			issues.push({ row: 1, column, message: `column "${column}" (for ${field}) is not in the header` });
		else if (at.length > 1)
			issues.push({
				row: 1,
				column,
				message: `column "${column}" (for ${field}) appears ${at.length} times in the header`
			});
		else index.set(field, at[0]);
	}
	if (issues.length > 0) throw fail();

	const people: Person[] = [];
	const groups = new Map<string, Group & { named: boolean; row: number; column: string }>();
	const memberships: Membership[] = [];
	const firstRowOf = new Map<string, number>();

	for (let r = 1; r < rows.length; r++) {
		const row = rows[r];
		const rowNumber = r + 1;
		if (row.every((cell) => cell.trim() === '')) continue;
		if (row.length !== header.length) {
			issues.push({ row: rowNumber, message: `expected ${header.length} columns, found ${row.length}` });
			continue;
		}
		const cell = (field: string) => {
			const i = index.get(field);
			return i === undefined ? '' : row[i].trim();
		};
		const column = (field: string) => header[index.get(field)!];
		const problem = (field: string, message: string, record?: string) =>
			issues.push({ row: rowNumber, column: column(field), record, message });

		const id = cell('externalId');
		if (!id) {
			problem('externalId', 'the identifier is empty');
		} else if (firstRowOf.has(id)) {
			problem('externalId', `identifier "${id}" is also on row ${firstRowOf.get(id)}`, id);
		} else firstRowOf.set(id, rowNumber);

		const person: Person = { id, externalId: id, displayName: '', active: true };
		for (const f of ['givenName', 'familyName', 'phone', 'employeeNumber'] as const) {
			const value = cell(f);
			if (value) person[f] = value;
		}
		person.displayName = cell('displayName') || [person.givenName, person.familyName].filter(Boolean).join(' ');
		if (!person.displayName)
			problem(
				index.has('displayName') ? 'displayName' : 'externalId',
				'no name: the display name and the given and family names are empty',
				id || undefined
			);

		const email = cell('email');
		if (email && !EMAIL.test(email)) problem('email', `"${email}" is not an email address`, id || undefined);
		else if (email) person.email = email;

		const phone = person.phone;
		if (phone && !/\d/.test(phone)) problem('phone', `"${phone}" has no digits`, id || undefined);

		const memberType = cell('memberType').toLowerCase();
		if (memberType === 'staff' || memberType === 'student') person.memberType = memberType;
		else if (memberType) problem('memberType', `"${cell('memberType')}" is neither staff nor student`, id || undefined);

		const active = cell('active').toLowerCase();
		if (FALSE.has(active)) person.active = false;
		else if (active && !TRUE.has(active))
			problem('active', `"${cell('active')}" is not a yes/no value`, id || undefined);

		const buildings = splitList(cell('buildings'));
		if (buildings.length > 0) person.buildings = [...new Set(buildings)].sort();

		const custom: Record<string, string> = {};
		for (const [name] of customColumns(columns)) {
			const value = cell(`custom:${name}`);
			if (value) custom[name] = value;
		}
		if (Object.keys(custom).length > 0) person.custom = custom;

		for (const [field, kind] of [
			['communities', 'community'],
			['functions', 'function']
		] as [string, GroupKind][]) {
			const joined = new Set<string>();
			for (const item of splitList(cell(field))) {
				const g = parseGroupItem(item);
				if ('error' in g) {
					problem(field, g.error, id || undefined);
					continue;
				}
				const known = groups.get(g.id);
				if (!known) groups.set(g.id, { ...g, externalId: g.id, kind, row: rowNumber, column: column(field) });
				else if (known.kind !== kind)
					problem(
						field,
						`identifier "${g.id}" is a ${kind} here but a ${known.kind} on row ${known.row} (column ${known.column})`,
						id || undefined
					);
				else if (g.named && !known.named) Object.assign(known, { name: g.name, named: true, row: rowNumber });
				else if (g.named && known.name !== g.name)
					problem(
						field,
						`${kind} "${g.id}" is named "${g.name}" here but "${known.name}" on row ${known.row}`,
						id || undefined
					);
				if (id && !joined.has(g.id)) {
					joined.add(g.id);
					memberships.push({ groupId: g.id, personId: id, role: 'member' });
				}
			}
		}
		people.push(person);
	}

	if (issues.length === 0 && people.length === 0)
		issues.push({ row: 2, message: 'the file has no data rows: an empty source is refused' });
	if (issues.length > 0) throw fail();

	const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
	return {
		people: people.sort((a, b) => cmp(a.id, b.id)),
		groups: [...groups.values()]
			.map(({ id, externalId, name, kind }) => ({ id, externalId, name, kind }))
			.sort((a, b) => cmp(a.id, b.id)),
		memberships
	};
}
