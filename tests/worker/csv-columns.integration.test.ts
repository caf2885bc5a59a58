/**
 * A csv system remembers the column map of its last upload (stored with the system): it is read
 * back with the last file's header (GET /api/systems/:id/csv/columns), reused when an upload
 * brings none, and each upload answers what its header added and which mapped columns it lacks.
 */
import { exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { ORIGIN, api, expectJson, tokenFor, unique } from './support';

const FIRST = 'ID,Name,Email,Grade\nE1,Ada,ada@example.org,5\nE2,Jo,jo@example.org,6\n';
const MAP = { externalId: 'ID', displayName: 'Name', email: 'Email', custom: { grade: 'Grade' } };

describe('a csv system keeps its column map', () => {
	let owner: string;
	let viewer: string;
	let csvId: string;
	beforeAll(async () => {
		owner = await tokenFor('owner');
		viewer = await tokenFor('viewer');
		csvId = (
			await expectJson(
				api('/api/systems', { token: owner, body: { name: unique('HR file'), connector: 'csv', region: 'eu' } }),
				201
			)
		).id;
	});
	const upload = (body: unknown) => api(`/api/systems/${csvId}/csv`, { method: 'PUT', token: owner, body });

	it('has none before the first upload, which must bring one', async () => {
		const none = await expectJson(api(`/api/systems/${csvId}/csv/columns`, { token: viewer }), 404);
		expect(none.message).toContain('no upload yet');
		const refused = await expectJson(upload({ csv: FIRST }), 400);
		expect(refused.issues).toEqual([{ field: 'columns', message: 'is required until an upload has saved one' }]);
	});

	it('keeps the map and the header of the upload, for any signed-in role to read', async () => {
		const counts = await expectJson(upload({ csv: FIRST, columns: MAP }), 200);
		expect(counts).toEqual({ people: 2, groups: 0, memberships: 0, columns: { added: [], missing: [] } });
		expect(await expectJson(api(`/api/systems/${csvId}/csv/columns`, { token: viewer }), 200)).toEqual({
			columns: MAP,
			header: ['ID', 'Name', 'Email', 'Grade']
		});
	});

	it('reuses the saved map when an upload brings none, and names a new column', async () => {
		const next = 'ID,Name,Email,Grade,Cost center\nE1,Ada,ada@example.org,5,C1\n';
		const counts = await expectJson(upload({ csv: next }), 200);
		expect(counts).toEqual({ people: 1, groups: 0, memberships: 0, columns: { added: ['Cost center'], missing: [] } });
		const saved = await expectJson(api(`/api/systems/${csvId}/csv/columns`, { token: owner }), 200);
		expect(saved).toEqual({ columns: MAP, header: ['ID', 'Name', 'Email', 'Grade', 'Cost center'] });
	});

	it('a file without a mapped column is refused with the saved map, naming it; nothing changes', async () => {
		const body = await expectJson(upload({ csv: 'ID,Name,Email\nE1,Ada,ada@example.org\n' }), 400);
		expect(body.issues).toEqual([
			expect.objectContaining({ row: 1, column: 'Grade', message: expect.stringContaining('is not in the header') })
		]);
		const saved = await expectJson(api(`/api/systems/${csvId}/csv/columns`, { token: owner }), 200);
		expect(saved.header).toEqual(['ID', 'Name', 'Email', 'Grade', 'Cost center']);
	});

	it('a new map replaces the saved one; the answer names what the file dropped of the old', async () => {
		const form = new FormData();
		const map = { externalId: 'ID', displayName: 'Name' };
		form.set('columns', JSON.stringify(map));
		form.set('file', new File(['ID,Name\nE1,Ada\n'], 'roster.csv', { type: 'text/csv' }));
		const res = await exports.default.fetch(`${ORIGIN}/api/systems/${csvId}/csv`, {
			method: 'PUT',
			headers: { authorization: `Bearer ${owner}` },
			body: form
		});
		expect(await expectJson(res, 200)).toEqual({
			people: 1,
			groups: 0,
			memberships: 0,
			columns: {
				added: [],
				missing: [
					{ column: 'Email', fields: ['email'] },
					{ column: 'Grade', fields: ['custom:grade'] }
				]
			}
		});
		expect(await expectJson(api(`/api/systems/${csvId}/csv/columns`, { token: owner }), 200)).toEqual({
			columns: map,
			header: ['ID', 'Name']
		});
	});

	it('a multipart upload without a map uses the saved one', async () => {
		const form = new FormData();
		form.set('file', new File(['ID,Name,Extra\nE1,Ada,x\nE2,Bo,y\n'], 'roster.csv', { type: 'text/csv' }));
		const res = await exports.default.fetch(`${ORIGIN}/api/systems/${csvId}/csv`, {
			method: 'PUT',
			headers: { authorization: `Bearer ${owner}` },
			body: form
		});
		expect(await expectJson(res, 200)).toMatchObject({ people: 2, columns: { added: ['Extra'], missing: [] } });
	});

	it('only csv systems have a column map', async () => {
		const scim = await expectJson(
			api('/api/systems', { token: owner, body: { name: unique('Sandbox'), connector: 'sandbox', region: 'eu' } }),
			201
		);
		const body = await expectJson(api(`/api/systems/${scim.id}/csv/columns`, { token: owner }), 404);
		expect(body.message).toContain('only csv systems have a column map');
	});
});
