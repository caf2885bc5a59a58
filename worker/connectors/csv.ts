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
 * - A file with any error produces no snapshot: one ConnectorError names the bad rows and columns
 *   (the first LISTED_ISSUES of them) and counts them all.
 * - Only text is read: a NUL character, or bytes that are not UTF-8 (see decodeUpload), is an
 *   error on its row and column. A leading BOM is dropped.
 */
import Papa from 'papaparse';
import {
	PERSON_FIELDS,
	type Group,
	type GroupKind,
	type MemberType,
	type Membership,
	type Person,
	type Snapshot
} from '$lib/core/model';
import type { ApplyResult, Capabilities, Connector, Issue } from './types';
import { ConnectorError } from './types';
import { snapshotVersion } from './digest';
import { memberTypeOf, memberTypeValues } from './people-map';
import { CSV_COLUMN_FIELDS, type CsvColumns } from '$lib/api/csv-columns';

export type { CsvColumns };

export interface CsvOptions {
	systemId: string;
	/** The file's text (the edge decodes the upload). */
	text: string;
	columns: CsvColumns;
	clock?: { now(): number };
	/** The values of the member type column that mean staff and student (default: those words). */
	memberTypes?: Record<MemberType, string[]>;
}

const LIST_SEPARATOR = /[;|]/;

/** "staff nor student", naming the values that mean each when a system's people map sets them. */
const meaning = (types: Record<MemberType, string[]>) =>
	types.staff.join() === 'staff' && types.student.join() === 'student'
		? 'staff nor student'
		: `staff (${types.staff.join(', ')}) nor student (${types.student.join(', ')})`;
const NAMED_ITEM = /^(.*\S)\s*\[([^\]]*)\]$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const TRUE = new Set(['true', 'yes', 'y', '1', 'active']);
const FALSE = new Set(['false', 'no', 'n', '0', 'inactive']);
/**
 * A refused file's problems are listed up to this many (by row), and counted in full: a file of
 * 200,000 bad rows must not make an answer of megabytes, nor hold 200,000 issues in memory.
 */
export const LISTED_ISSUES = 100;
/** Of those, the error's message spells out the first few; `issues` has the rest. */
const ISSUES_IN_MESSAGE = 10;
/**
 * What no text holds: NUL, and lone surrogates (bytes that were not UTF-8, as decodeUpload keeps
 * them, or a bad `\u` escape in a JSON upload). With the `u` flag a surrogate pair is one code
 * point and does not match.
 */
const NOT_TEXT = /[\0\uD800-\uDFFF]/u;

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
		const records = parseRoster(
			this.#options.text,
			this.#options.columns,
			this.#options.systemId,
			this.#options.memberTypes
		);
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

/** STRICT refuses what is not UTF-8; the BOM is kept here and dropped by parseRoster. */
const STRICT = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * An upload's bytes as text. Valid UTF-8 decodes as it is. Each byte of an invalid sequence
 * becomes U+DC00 plus its value (U+DC80 to U+DCFF, as Python's "surrogateescape" does): a
 * lone surrogate, which no valid text holds, so parseRoster refuses it on its row and column,
 * where a replacing decoder would have turned it into a U+FFFD nobody notices.
 */
export function decodeUpload(bytes: Uint8Array): string {
	try {
		return STRICT.decode(bytes);
	} catch {
		// Not UTF-8 somewhere: find where, byte by byte (only for files that are refused anyway).
	}
	const parts: string[] = [];
	let valid = 0;
	let at = 0;
	while (at < bytes.length) {
		const length = utf8SequenceLength(bytes, at);
		if (length > 0) {
			at += length;
			continue;
		}
		if (valid < at) parts.push(STRICT.decode(bytes.subarray(valid, at)));
		parts.push(String.fromCharCode(0xdc00 + bytes[at]));
		valid = ++at;
	}
	if (valid < bytes.length) parts.push(STRICT.decode(bytes.subarray(valid)));
	return parts.join('');
}

/** The length of the well-formed UTF-8 sequence at `at` (Unicode table 3-7), or 0. */
function utf8SequenceLength(bytes: Uint8Array, at: number): number {
	const lead = bytes[at];
	const next = (n: number, low = 0x80, high = 0xbf) =>
		at + n < bytes.length && bytes[at + n] >= low && bytes[at + n] <= high;
	if (lead < 0x80) return 1;
	if (lead >= 0xc2 && lead <= 0xdf) return next(1) ? 2 : 0;
	if (lead === 0xe0) return next(1, 0xa0) && next(2) ? 3 : 0;
	if (lead === 0xed) return next(1, 0x80, 0x9f) && next(2) ? 3 : 0;
	if (lead >= 0xe1 && lead <= 0xef) return next(1) && next(2) ? 3 : 0;
	if (lead === 0xf0) return next(1, 0x90) && next(2) && next(3) ? 4 : 0;
	if (lead >= 0xf1 && lead <= 0xf3) return next(1) && next(2) && next(3) ? 4 : 0;
	if (lead === 0xf4) return next(1, 0x80, 0x8f) && next(2) && next(3) ? 4 : 0;
	return 0;
}

/** Why a cell is not text, or undefined when it is. */
function notText(cell: string): string | undefined {
	const at = cell.search(NOT_TEXT);
	if (at < 0) return undefined;
	const code = cell.charCodeAt(at);
	if (code === 0) return 'holds a NUL character (U+0000): this is not a text file';
	if (code >= 0xdc80 && code <= 0xdcff) {
		const run: string[] = [];
		for (let i = at; i < cell.length && run.length < 8; i++) {
			const c = cell.charCodeAt(i);
			if (c < 0xdc80 || c > 0xdcff) break;
			run.push(`0x${(c - 0xdc00).toString(16).toUpperCase()}`);
		}
		return `holds bytes that are not UTF-8 (${run.join(' ')}): save the file as UTF-8 and upload it again`;
	}
	return `holds a lone surrogate (U+${code.toString(16).toUpperCase()}), which is not text`;
}

/** 200000 -> "200,000", without Intl (the same in Node and workerd). */
const grouped = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** The first LISTED_ISSUES problems by row, and how many there were in all. */
class IssueList {
	#kept: Issue[] = [];
	count = 0;

	add(issue: Issue): void {
		this.count++;
		this.#kept.push(issue);
		// Trimmed in batches: memory stays bounded and the sorting cost linear in the problems.
		if (this.#kept.length >= 2 * LISTED_ISSUES) this.#trim();
	}

	/** The problems kept, by row (a stable sort: one row's problems stay in column order). */
	first(): Issue[] {
		this.#trim();
		return this.#kept;
	}

	#trim(): void {
		this.#kept.sort((a, b) => (a.row ?? 0) - (b.row ?? 0));
		if (this.#kept.length > LISTED_ISSUES) this.#kept.length = LISTED_ISSUES;
	}
}

/** The records of a roster file, or a ConnectorError naming its problems. */
export function parseRoster(
	text: string,
	columns: CsvColumns,
	systemId: string,
	memberTypes: Record<MemberType, string[]> = memberTypeValues(undefined)
): Pick<Snapshot, 'people' | 'groups' | 'memberships'> {
	const issues = new IssueList();
	const fail = () => {
		const listed = issues.first();
		const count = issues.count;
		const shown = listed
			.slice(0, ISSUES_IN_MESSAGE)
			.map((i) => `row ${i.row}${i.column ? `, column ${i.column}` : ''}: ${i.message}`);
		const total = `${grouped(count)} problem${count === 1 ? '' : 's'}`;
		const which = count > listed.length ? `; the first ${listed.length} are listed` : '';
		const more = listed.length > ISSUES_IN_MESSAGE ? '; …' : '';
		const first = listed[0];
		return new ConnectorError({
			code: 'invalid',
			system: systemId,
			recordKind: 'person',
			recordId: first.record,
			field: first.column,
			detail: `the file has ${total}${which}: ${shown.join('; ')}${more}`,
			issues: listed,
			issueCount: count
		});
	};

	const parsed = Papa.parse<string[]>(text.replace(/^\uFEFF/, ''), { header: false, skipEmptyLines: false });
	for (const e of parsed.errors) {
		// A one-column file has no delimiter to detect; that is not a problem.
		if (e.type === 'Delimiter') continue;
		issues.add({ row: (e.row ?? 0) + 1, message: e.message });
	}
	const rows = parsed.data;
	const header = (rows[0] ?? []).map((h) => h.trim());
	if (header.length === 0 || header.every((h) => h === '')) {
		issues.add({ row: 1, message: 'the file has no header row' });
		throw fail();
	}

	// Nearly every file is text throughout: one search of the whole file spares a look at each cell.
	const checkText = NOT_TEXT.test(text);
	/** A cell's column by its header name; by position where the header has none (or no text). */
	const label = (i: number) => (header[i] && !notText(header[i]) ? header[i] : `column ${i + 1}`);
	/** Adds a problem for each cell of `row` that is not text; true if there was any. */
	const textProblems = (row: string[], rowNumber: number, record?: string): boolean => {
		let found = false;
		row.forEach((cell, i) => {
			const message = notText(cell);
			if (message === undefined) return;
			issues.add({ row: rowNumber, column: label(i), record, message });
			found = true;
		});
		return found;
	};
	if (checkText && textProblems(rows[0], 1)) throw fail();

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
			issues.add({ row: 1, column, message: `column "${column}" (for ${field}) is not in the header` });
		else if (at.length > 1)
			issues.add({
				row: 1,
				column,
				message: `column "${column}" (for ${field}) appears ${at.length} times in the header`
			});
		else index.set(field, at[0]);
	}
	if (issues.count > 0) throw fail();

	const people: Person[] = [];
	const groups = new Map<string, Group & { named: boolean; row: number; column: string }>();
	const memberships: Membership[] = [];
	const firstRowOf = new Map<string, number>();

	for (let r = 1; r < rows.length; r++) {
		const row = rows[r];
		const rowNumber = r + 1;
		if (row.every((cell) => cell.trim() === '')) continue;
		const cell = (field: string) => {
			const i = index.get(field);
			return i === undefined ? '' : (row[i]?.trim() ?? '');
		};
		// A row that is not text is reported as such and no further: its other checks would read garbage.
		if (
			checkText &&
			textProblems(row, rowNumber, notText(cell('externalId')) ? undefined : cell('externalId') || undefined)
		)
			continue;
		if (row.length !== header.length) {
			issues.add({ row: rowNumber, message: `expected ${header.length} columns, found ${row.length}` });
			continue;
		}
		const column = (field: string) => header[index.get(field)!];
		const problem = (field: string, message: string, record?: string) =>
			issues.add({ row: rowNumber, column: column(field), record, message });

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

		const memberType = memberTypeOf(cell('memberType'), memberTypes);
		if (memberType) person.memberType = memberType;
		else if (memberType === null)
			problem('memberType', `"${cell('memberType')}" is neither ${meaning(memberTypes)}`, id || undefined);

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

	if (issues.count === 0 && people.length === 0)
		issues.add({ row: 2, message: 'the file has no data rows: an empty source is refused' });
	if (issues.count > 0) throw fail();

	const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
	return {
		people: people.sort((a, b) => cmp(a.id, b.id)),
		groups: [...groups.values()]
			.map(({ id, externalId, name, kind }) => ({ id, externalId, name, kind }))
			.sort((a, b) => cmp(a.id, b.id)),
		memberships
	};
}
