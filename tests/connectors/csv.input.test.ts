/**
 * The CSV connector's input as bytes and text: what is not UTF-8 text (NUL characters, invalid
 * bytes, lone surrogates) is refused naming its row and column; a BOM is accepted; a file with
 * a great many bad rows lists the first problems and counts them all.
 */
import { describe, expect, it } from 'vitest';
import { CsvConnector, LISTED_ISSUES, decodeUpload, type CsvColumns } from '../../worker/connectors/csv';
import { connectorError } from '../support/scim-suite';

const COLUMNS: CsvColumns = { externalId: 'ID', displayName: 'Name', email: 'Email' };

const read = (text: string, columns = COLUMNS) => new CsvConnector({ systemId: 'hr-export', text, columns }).read();
const bytes = (...parts: (string | number[])[]) =>
	new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...new TextEncoder().encode(p)] : p)));

describe('CSV input that is not text', () => {
	it.each([
		{
			case: 'a NUL in a cell',
			text: 'ID,Name,Email\nE1,Ada,ada@example.org\nE2,Al\0an,alan@example.org',
			at: [3, 'Name']
		},
		{ case: 'a NUL in the header', text: 'ID,Na\0me,Email\nE1,Ada,ada@example.org', at: [1, 'column 2'] },
		{ case: 'a lone surrogate', text: 'ID,Name,Email\nE1,Ada,ada\uD800@example.org', at: [2, 'Email'] }
	])('refuses $case, naming the row and column', async ({ text, at }) => {
		const error = await connectorError(read(text));
		expect(error.code).toBe('invalid');
		expect(error.issues.map((i) => [i.row, i.column])).toEqual([at]);
		expect(error.issues[0].message).toMatch(/NUL|surrogate/);
	});

	it('refuses invalid UTF-8 bytes, naming the row as a spreadsheet counts it and the column', async () => {
		// Row 2's quoted cell spans two lines: the bad byte is on line 4 but in row 3.
		const text = decodeUpload(
			bytes('ID,Name,Email\nE1,"Ada\nLovelace",ada@example.org\nE2,Jos', [0xe9], ',jose@example.org\n')
		);
		const error = await connectorError(read(text));
		expect(error.issues).toEqual([{ row: 3, column: 'Name', record: 'E2', message: expect.stringContaining('0xE9') }]);
		expect(error.issues[0].message).toContain('UTF-8');
		expect(error.message).toContain('row 3, column Name');
	});

	it.each([
		{ case: 'a truncated sequence at the end', tail: [0xc3], shown: '0xC3' },
		{ case: 'an encoded surrogate', tail: [0xed, 0xa0, 0x80], shown: '0xED 0xA0 0x80' },
		{ case: 'an overlong encoding', tail: [0xc0, 0xaf], shown: '0xC0 0xAF' },
		{ case: 'a stray continuation byte', tail: [0x80], shown: '0x80' }
	])('refuses $case', async ({ tail, shown }) => {
		const error = await connectorError(read(decodeUpload(bytes('ID,Name\nE1,Ada', tail)), { externalId: 'ID' }));
		expect(error.issues).toEqual([{ row: 2, column: 'Name', record: 'E1', message: expect.stringContaining(shown) }]);
	});

	it('accepts a BOM, and valid UTF-8 of every length (a real U+FFFD included)', async () => {
		const text = decodeUpload(
			bytes([0xef, 0xbb, 0xbf], 'ID,Name,Email\nE1,Zoë Ωμέγα 名前 🙂 \uFFFD,zoe@example.org\n')
		);
		const snapshot = await read(text);
		expect(snapshot.people).toEqual([
			{ id: 'E1', externalId: 'E1', displayName: 'Zoë Ωμέγα 名前 🙂 \uFFFD', email: 'zoe@example.org', active: true }
		]);
	});

	it('lists the first problems of a file with 200,000 bad rows and counts them all', async () => {
		const rows = Array.from({ length: 200_000 }, (_, i) => `E${i},Person ${i},not-an-email`);
		const error = await connectorError(read(['ID,Name,Email', ...rows].join('\n')));
		expect(error.issues).toHaveLength(LISTED_ISSUES);
		expect(error.issueCount).toBe(200_000);
		expect(error.issues.map((i) => i.row)).toEqual(Array.from({ length: LISTED_ISSUES }, (_, i) => i + 2));
		expect(error.message).toContain('200,000 problems; the first 100 are listed');
		expect(error.message.length).toBeLessThan(4000);
	});
});
