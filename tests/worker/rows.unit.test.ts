/** Rows written many per statement and read back as streamed JSON, across page boundaries. */
import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { bySeq, insertRows, jsonStream } from '../../worker/link/rows';

const read = async (stream: ReadableStream<Uint8Array>) => new Response(stream).text();

describe('rows', () => {
	// [rows, columns]: under one statement, exactly at the binding limit, and many statements.
	const cases: [number, number][] = [
		[0, 2],
		[1, 3],
		[33, 3],
		[34, 3],
		[4501, 2],
		[250, 1]
	];
	it.each(cases)('writes %i rows of %i columns and streams them back in order', async (n, columns) => {
		await runInDurableObject(env.LINKS.getByName(`rows-${n}-${columns}`), async (_instance, state) => {
			const { sql } = state.storage;
			const names = Array.from({ length: columns }, (_, i) => `c${i}`);
			sql.exec(`CREATE TABLE t (seq INTEGER PRIMARY KEY, ${names.map((c) => `${c} TEXT`).join(', ')})`);
			const rows = Array.from({ length: n }, (_, i) => names.map((c) => JSON.stringify({ i, c })));
			insertRows(sql, 't', names, rows);
			const text = await read(
				jsonStream([
					'{"list":[',
					bySeq(sql, 'SELECT seq, c0 AS v FROM t WHERE seq > ? ORDER BY seq LIMIT 1000'),
					'],"after":true}'
				])
			);
			expect(JSON.parse(text)).toEqual({ list: rows.map((r) => JSON.parse(r[0])), after: true });
		});
	});

	it('streams empty lists and literal text alone', async () => {
		expect(await read(jsonStream(['[', () => [], ']']))).toBe('[]');
		expect(await read(jsonStream([]))).toBe('');
	});
});
