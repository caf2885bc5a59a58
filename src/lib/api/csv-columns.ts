/**
 * The column map of a CSV export, shared by the browser (which builds it from the header row) and
 * the edge (which parses the file with it): one definition, so the two cannot drift apart.
 */

import Papa from 'papaparse';

/** The fields that take one column each, in the order the upload form shows them. */
export const CSV_COLUMN_FIELDS = [
	'externalId',
	'displayName',
	'givenName',
	'familyName',
	'email',
	'phone',
	'employeeNumber',
	'memberType',
	'active',
	'buildings',
	'communities',
	'functions'
] as const;
export type CsvColumnField = (typeof CSV_COLUMN_FIELDS)[number];

/**
 * Which column holds which field (column names as in the header row). `externalId` is required:
 * it is the identifier both systems share, and the person's id in the snapshot. `memberType` holds
 * `staff` or `student`; `active` true/false, yes/no, 1/0, active/inactive (empty or unmapped is
 * active); list columns (buildings, communities, functions) split on `;` or `|`.
 */
export type CsvColumns = { externalId: string } & Partial<Record<Exclude<CsvColumnField, 'externalId'>, string>> & {
		/** Custom field name -> column. */
		custom?: Record<string, string>;
	};

/** The column map a csv system keeps from its last upload, and that file's header row. */
export interface SavedColumns {
	columns: CsvColumns;
	/** The last upload's header row, as the edge read it (GET /api/systems/:id/csv/columns). */
	header: string[];
}

/** Every column a map uses, with the fields it holds (custom fields as `custom:<name>`). */
export function usedColumns(columns: CsvColumns): Map<string, string[]> {
	const used = new Map<string, string[]>();
	const use = (column: string | undefined, field: string) => {
		if (column) used.set(column, [...(used.get(column) ?? []), field]);
	};
	for (const field of CSV_COLUMN_FIELDS) use(columns[field], field);
	for (const [name, column] of Object.entries(columns.custom ?? {})) use(column, `custom:${name}`);
	return used;
}

/** How a new file's header differs from the last upload's, for the saved map. */
export interface ColumnChanges {
	/** Columns of the new file the last one did not have: nothing maps them yet. */
	added: string[];
	/** Columns the saved map uses that the new file lacks, with the fields they held. */
	missing: { column: string; fields: string[] }[];
}

/**
 * What changed between the last upload and a file with `header`: its new columns, and the saved
 * map's columns it no longer has. Header names are compared as the edge's parser finds a column:
 * trimmed, case aside.
 */
export function columnChanges(saved: SavedColumns, header: readonly string[]): ColumnChanges {
	const key = (c: string) => c.trim().toLowerCase();
	const now = new Set(header.map(key));
	const before = new Set(saved.header.map(key));
	return {
		added: header.filter((c) => !before.has(key(c))),
		missing: [...usedColumns(saved.columns)]
			.filter(([column]) => !now.has(key(column)))
			.map(([column, fields]) => ({ column, fields }))
	};
}

/**
 * The saved map applied to a file with `header`: each field keeps its column where the file has
 * it (under the file's own spelling), and is left unmapped where it does not. `externalId` is
 * kept empty rather than dropped when its column is gone, so the form asks for it.
 */
export function reuseColumns(saved: CsvColumns, header: readonly string[]): CsvColumns {
	const find = (column: string | undefined) =>
		column === undefined ? undefined : header.find((h) => h.trim().toLowerCase() === column.trim().toLowerCase());
	const out: CsvColumns = { externalId: find(saved.externalId) ?? '' };
	for (const field of CSV_COLUMN_FIELDS) {
		if (field === 'externalId') continue;
		const column = find(saved[field]);
		if (column) out[field] = column;
	}
	for (const [name, column] of Object.entries(saved.custom ?? {})) {
		const found = find(column);
		if (found) (out.custom ??= {})[name] = found;
	}
	return out;
}

/**
 * A file's header row: its column names, trimmed, blanks and repeats left out; [] when there is
 * none. The browser reads it to build the map, the edge to remember what the last file had.
 */
export function readHeader(text: string): string[] {
	const parsed = Papa.parse<string[]>(text.replace(/^\uFEFF/, ''), { header: false, preview: 1 });
	const first = parsed.data[0] ?? [];
	return [...new Set(first.map((h) => String(h).trim()).filter(Boolean))];
}
