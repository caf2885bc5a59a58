/**
 * PUT /api/systems/:id/csv as uploads arrive: JSON `{ csv, columns }` and multipart/form-data with
 * the file's own bytes. What is not text is refused naming its row and column in both; a refused
 * file's answer stays small however many rows are bad.
 */
import { exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { ORIGIN, api, expectJson, tokenFor, unique } from './support';

const columns = { externalId: 'ID', displayName: 'Name', email: 'Email' };
const utf8 = (text: string) => [...new TextEncoder().encode(text)];

describe('CSV uploads: what arrives is text, and a refusal stays small', () => {
	let owner: string;
	let csvId: string;
	beforeAll(async () => {
		owner = await tokenFor('owner');
		csvId = (
			await expectJson(
				api('/api/systems', { token: owner, body: { name: unique('HR file'), connector: 'csv', region: 'eu' } }),
				201
			)
		).id;
	});

	const put = (body: BodyInit, type?: string) =>
		exports.default.fetch(`${ORIGIN}/api/systems/${csvId}/csv`, {
			method: 'PUT',
			headers: { authorization: `Bearer ${owner}`, ...(type && { 'content-type': type }) },
			body
		});
	/** A JSON upload whose bytes are given: a JSON encoder could not write invalid UTF-8. */
	const putJsonBytes = (csvBytes: number[]) =>
		put(
			new Uint8Array([...utf8(`{"columns":${JSON.stringify(columns)},"csv":"`), ...csvBytes, ...utf8('"}')]),
			'application/json'
		);
	const putFile = (fileBytes: number[]) => {
		const form = new FormData();
		form.set('columns', JSON.stringify(columns));
		form.set('file', new File([new Uint8Array(fileBytes)], 'roster.csv', { type: 'text/csv' }));
		return put(form);
	};

	it('refuses bytes that are not UTF-8 in a JSON upload, naming the row and column', async () => {
		const body = await expectJson(
			putJsonBytes([...utf8('ID,Name,Email\\nE1,Ada,ada@example.org\\nE2,Jos'), 0xe9, ...utf8(',jose@example.org')]),
			400
		);
		expect(body.issues).toEqual([
			{ row: 3, column: 'Name', record: 'E2', message: expect.stringContaining('not UTF-8 (0xE9)') }
		]);
	});

	it('refuses bytes that are not UTF-8 in an uploaded file, naming the row and column', async () => {
		const body = await expectJson(
			putFile([...utf8('ID,Name,Email\r\nE1,Ada,ada@example.org\r\nE2,Jos'), 0xe9, ...utf8(',jose@example.org\r\n')]),
			400
		);
		expect(body).toMatchObject({ error: 'invalid', message: expect.stringContaining('row 3, column Name') });
		expect(body.issues).toEqual([
			{ row: 3, column: 'Name', record: 'E2', message: expect.stringContaining('not UTF-8 (0xE9)') }
		]);
	});

	it('refuses a NUL character in a cell', async () => {
		const csv = 'ID,Name,Email\nE1,Ada,ada@example.org\nE2,Alan,alan\0@example.org\n';
		const body = await expectJson(
			api(`/api/systems/${csvId}/csv`, { method: 'PUT', token: owner, body: { csv, columns } }),
			400
		);
		expect(body.issues).toEqual([{ row: 3, column: 'Email', record: 'E2', message: expect.stringContaining('NUL') }]);
	});

	it('accepts a file that starts with a BOM, uploaded either way', async () => {
		const text = 'ID,Name,Email\nE1,Zoë,zoe@example.org\n';
		expect(await expectJson(putFile([0xef, 0xbb, 0xbf, ...utf8(text)]), 200)).toMatchObject({
			people: 1,
			groups: 0,
			memberships: 0
		});
		expect(
			await expectJson(
				api(`/api/systems/${csvId}/csv`, { method: 'PUT', token: owner, body: { csv: `\uFEFF${text}`, columns } }),
				200
			)
		).toMatchObject({ people: 1, groups: 0, memberships: 0 });
		const snapshot = await expectJson(api(`/api/systems/${csvId}/snapshot`, { token: owner }), 200);
		expect(snapshot.people.map((p: { displayName: string }) => p.displayName)).toEqual(['Zoë']);
	});

	it('answers a file of 200,000 bad rows with its first 100 problems and the count of all', async () => {
		const rows = Array.from({ length: 200_000 }, (_, i) => `E${i},Person ${i},not-an-email`);
		const csv = ['ID,Name,Email', ...rows].join('\n');
		const res = await api(`/api/systems/${csvId}/csv`, { method: 'PUT', token: owner, body: { csv, columns } });
		const text = await res.text();
		expect(res.status).toBe(400);
		expect(text.length).toBeLessThan(32 * 1024);
		const body = JSON.parse(text);
		expect(body.issueCount).toBe(200_000);
		expect(body.issues).toHaveLength(100);
		expect(body.issues[0]).toEqual({
			row: 2,
			column: 'Email',
			record: 'E0',
			message: expect.stringContaining('not-an-email')
		});
		expect(body.message).toContain('200,000 problems; the first 100 are listed');
	});

	it('names what is missing from a multipart upload', async () => {
		const form = new FormData();
		form.set('columns', JSON.stringify(columns));
		const body = await expectJson(put(form), 400);
		expect(body.issues).toEqual([{ field: 'file', message: expect.any(String) }]);
	});
});
