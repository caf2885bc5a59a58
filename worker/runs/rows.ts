/**
 * Many rows in few statements: each statement a Durable Object's SQLite runs costs a crossing from
 * JavaScript into the runtime, which dominates when a 100k-person read writes a million rows.
 * Statements are kept under the 100 bound parameters Durable Objects allow.
 */
const MAX_BINDINGS = 99;

/** Inserts `rows` (each with one value per column) into `table`, as few statements as the limit allows. */
export function insertRows(sql: SqlStorage, table: string, columns: readonly string[], rows: readonly SqlStorageValue[][], verb = 'INSERT'): void {
	if (rows.length === 0) return;
	const per = Math.max(1, Math.floor(MAX_BINDINGS / columns.length));
	const tuple = `(${columns.map(() => '?').join(', ')})`;
	const head = `${verb} INTO ${table} (${columns.join(', ')}) VALUES `;
	let full: string | undefined;
	for (let i = 0; i < rows.length; i += per) {
		const batch = rows.slice(i, i + per);
		const statement = batch.length === per ? (full ??= head + Array(per).fill(tuple).join(', ')) : head + Array(batch.length).fill(tuple).join(', ');
		sql.exec(statement, ...batch.flat());
	}
}
