/**
 * The column map of a CSV export, shared by the browser (which builds it from the header row) and
 * the edge (which parses the file with it): one definition, so the two cannot drift apart.
 */

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
