/**
 * Many rows in few statements: each statement a Durable Object's SQLite runs costs a crossing from
 * JavaScript into the runtime, which dominates when a 100k-person read writes a million rows.
 * Statements are kept under the 100 bound parameters Durable Objects allow.
 */
const MAX_BINDINGS = 99;

/** Inserts `rows` (each with one value per column) into `table`, as few statements as the limit allows. */
export function insertRows(
	sql: SqlStorage,
	table: string,
	columns: readonly string[],
	rows: readonly SqlStorageValue[][],
	verb = 'INSERT'
): void {
	if (rows.length === 0) return;
	const per = Math.max(1, Math.floor(MAX_BINDINGS / columns.length));
	const tuple = `(${columns.map(() => '?').join(', ')})`;
	const head = `${verb} INTO ${table} (${columns.join(', ')}) VALUES `;
	let full: string | undefined;
	for (let i = 0; i < rows.length; i += per) {
		const batch = rows.slice(i, i + per);
		const statement =
			batch.length === per
				? (full ??= head + Array(per).fill(tuple).join(', '))
				: head + Array(batch.length).fill(tuple).join(', ');
		sql.exec(statement, ...batch.flat());
	}
}

/** One page of a list's elements as JSON text; an empty page ends the list. */
export type Pager = () => string[];

/** Pages rows in `seq` order: `select` takes the last seq seen and answers `{ seq, v }` rows. */
export function bySeq(sql: SqlStorage, select: string): Pager {
	let after = -1e15;
	return () => {
		const page = sql.exec<{ seq: number; v: string }>(select, after).toArray();
		if (page.length > 0) after = page[page.length - 1].seq;
		return page.map((r) => r.v);
	};
}

/**
 * JSON text streamed piece by piece: literal text, and lists whose elements come page by page
 * from SQLite (each already JSON), so a 100k-record body is never one string. `check` runs before
 * every page: it throws (and the stream errors) when the rows were replaced since it began.
 */
export function jsonStream(parts: readonly (string | Pager)[], check?: () => void): ReadableStream<Uint8Array> {
	const encoder = new TextEncoder();
	let i = 0;
	let first = true;
	return new ReadableStream<Uint8Array>({
		pull(controller) {
			while (i < parts.length) {
				const part = parts[i];
				if (typeof part === 'string') {
					i++;
					first = true;
					controller.enqueue(encoder.encode(part));
					return;
				}
				check?.();
				const rows = part();
				if (rows.length === 0) {
					i++;
					continue;
				}
				controller.enqueue(encoder.encode((first ? '' : ',') + rows.join(',')));
				first = false;
				return;
			}
			controller.close();
		}
	});
}
