/**
 * The column map of a CSV upload, as the owner builds it in the browser: the file's header row
 * (read here; the rows are parsed by the edge), a first guess per field, and the `columns` body
 * of PUT /api/systems/:id/csv. The edge checks everything again and names each bad row and column.
 */
import { CSV_COLUMN_FIELDS, readHeader, type CsvColumns } from '$lib/api/csv-columns';

export { readHeader };

/** The ColumnMap's fields with one column each, in the order the form shows them. */
export const COLUMN_FIELDS = CSV_COLUMN_FIELDS;
export type ColumnField = (typeof COLUMN_FIELDS)[number];

/** What a field's column should hold, in a few words (the edge's rules, worker/connectors/csv.ts). */
export const COLUMN_HINT: Partial<Record<ColumnField, string>> = {
	externalId: 'required: the identifier both systems share',
	displayName: 'else given and family name',
	memberType: 'staff or student',
	active: 'yes/no, true/false, 1/0; empty is active',
	buildings: 'a list: separate with ; or |',
	communities: 'identifiers or Name [ID], separated by ; or |',
	functions: 'identifiers or Name [ID], separated by ; or |'
};

/** A custom field name the edge accepts (`custom: { name: column }`). */
export const CUSTOM_NAME = /^[A-Za-z][\w-]{0,63}$/;

/** A custom field row of the form. */
export interface CustomColumn {
	name: string;
	column: string;
}

/** Case, spaces, `_` and `-` aside: `Given name`, `given_name` and `givenName` are one name. */
const loose = (s: string) => s.toLowerCase().replace(/[\s_-]+/g, '');

/** The column whose header names the field, per field; fields without one are left out. */
export function guessColumns(header: readonly string[]): Partial<Record<ColumnField, string>> {
	const guess: Partial<Record<ColumnField, string>> = {};
	for (const field of COLUMN_FIELDS) {
		const match =
			header.find((h) => h.toLowerCase() === field.toLowerCase()) ?? header.find((h) => loose(h) === loose(field));
		if (match !== undefined) guess[field] = match;
	}
	return guess;
}

/** A custom field name for a column: `Cost center` -> `costCenter`, `2nd grade` -> `f2ndGrade`. */
export function customNameFor(column: string): string {
	const words = column.split(/[^A-Za-z0-9]+/).filter(Boolean);
	const name = words
		.map((w, i) => (i === 0 ? w.charAt(0).toLowerCase() + w.slice(1) : w.charAt(0).toUpperCase() + w.slice(1)))
		.join('');
	return (/^[A-Za-z]/.test(name) ? name : `f${name}`).slice(0, 64);
}

/**
 * The `columns` of an upload, or the problems that keep the form from sending it (every one, in
 * words that name the field).
 */
export function buildColumnMap(
	choice: Partial<Record<ColumnField, string>>,
	custom: readonly CustomColumn[]
): { columns: CsvColumns; problems: [] } | { columns?: undefined; problems: string[] } {
	const problems: string[] = [];
	if (!choice.externalId) problems.push('Choose the column that holds the identifier.');
	const columns: CsvColumns = { externalId: choice.externalId ?? '' };
	for (const field of COLUMN_FIELDS) {
		if (field !== 'externalId' && choice[field]) columns[field] = choice[field];
	}
	const named = new Set<string>();
	for (const c of custom) {
		const name = c.name.trim();
		if (!name && !c.column) continue; // an untouched row
		if (!CUSTOM_NAME.test(name))
			problems.push(
				`Custom field "${name}": a name starts with a letter and has only letters, digits, _ and - (64 at most).`
			);
		else if (named.has(name)) problems.push(`Custom field "${name}" is there twice.`);
		if (!c.column) problems.push(`Custom field "${name || '(no name)'}": choose its column.`);
		named.add(name);
		if (CUSTOM_NAME.test(name) && c.column) (columns.custom ??= {})[name] = c.column;
	}
	return problems.length > 0 ? { problems } : { columns, problems: [] };
}

/** The header's columns that no field uses (shown, so nothing is left out unnoticed). */
export function unusedColumns(
	header: readonly string[],
	choice: Partial<Record<ColumnField, string>>,
	custom: readonly CustomColumn[]
): string[] {
	const used = new Set([...Object.values(choice), ...custom.map((c) => c.column)]);
	return header.filter((h) => !used.has(h));
}
