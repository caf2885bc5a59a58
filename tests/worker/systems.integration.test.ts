import { env } from 'cloudflare:workers';
import { createExecutionContext, runInDurableObject } from 'cloudflare:test';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import worker from '../../worker/index';
import { errorResponse } from '../../worker/api/errors';
import { DomainError } from '../../worker/errors';
import { assertSameRegion } from '../../worker/systems/region';
import { ORIGIN, api, expectJson, tokenFor, unique } from './support';

const SCIM_BASE = 'https://scim.example.test/scim/v2';
const SECRET = 'scim-secret-Tq3v9xL2pW7mZ4kR8sN1';

/**
 * A tiny SCIM server behind a spy on globalThis.fetch (only its own host; nothing else is
 * answered). It checks the bearer token, and a wrong one is echoed back in the error detail, as a
 * careless server might: the edge must still never show it.
 */
function serveScim(token = SECRET) {
	const seen: string[] = [];
	const real = globalThis.fetch;
	vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
		const request = new Request(input, init);
		if (!request.url.startsWith(SCIM_BASE)) return real(input, init);
		const auth = request.headers.get('authorization') ?? '';
		seen.push(auth);
		if (auth !== `Bearer ${token}`)
			return Response.json({ status: '401', detail: `token rejected: ${auth}` }, { status: 401 });
		const path = new URL(request.url).pathname.replace(/^\/scim\/v2/, '');
		if (path === '/Users') {
			return Response.json({
				schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
				totalResults: 1,
				Resources: [
					{
						id: 'u1',
						userName: 'ada@example.org',
						displayName: 'Ada',
						emails: [{ value: 'ada@example.org', primary: true }],
						active: true
					}
				]
			});
		}
		return Response.json({ status: '404', detail: 'no such endpoint' }, { status: 404 });
	});
	return seen;
}

describe('systems', () => {
	let owner: string;
	let viewer: string;
	beforeAll(async () => {
		owner = await tokenFor('owner');
		viewer = await tokenFor('viewer');
	});
	afterEach(() => vi.restoreAllMocks());

	it('creates, lists, reads, changes and deletes a scim system; credentials never come back', async () => {
		const bodies: string[] = [];
		const keep = async (res: Promise<Response>, status: number) => {
			const r = await res;
			const text = await r.clone().text();
			bodies.push(text);
			return expectJson(r, status);
		};
		const name = unique('Identity provider');
		const created = await keep(
			api('/api/systems', {
				token: owner,
				body: { name, connector: 'scim', baseUrl: `${SCIM_BASE}/`, region: 'EU', credentials: { token: SECRET } }
			}),
			201
		);
		expect(created).toEqual({
			id: expect.stringMatching(/^sys_/),
			name,
			connector: 'scim',
			baseUrl: SCIM_BASE,
			region: 'eu',
			createdAt: expect.any(String),
			hasCredentials: true
		});
		const list = await keep(api('/api/systems', { token: viewer }), 200);
		expect(list).toContainEqual(created);
		expect(await keep(api(`/api/systems/${created.id}`, { token: viewer }), 200)).toEqual(created);

		const renamed = await keep(
			api(`/api/systems/${created.id}`, {
				method: 'PATCH',
				token: owner,
				body: { name: 'Renamed', credentials: { token: `${SECRET}-2` } }
			}),
			200
		);
		expect(renamed).toMatchObject({ id: created.id, name: 'Renamed', hasCredentials: true });
		const cleared = await keep(
			api(`/api/systems/${created.id}`, { method: 'PATCH', token: owner, body: { credentials: null } }),
			200
		);
		expect(cleared.hasCredentials).toBe(false);

		expect((await api(`/api/systems/${created.id}`, { method: 'DELETE', token: owner })).status).toBe(204);
		await keep(api(`/api/systems/${created.id}`, { token: viewer }), 404);
		await keep(api(`/api/systems/${created.id}`, { method: 'DELETE', token: owner }), 404);
		for (const body of bodies) expect(body).not.toContain(SECRET);
	});

	it('stores credentials sealed, never the plaintext', async () => {
		const created = await expectJson(
			api('/api/systems', {
				token: owner,
				body: {
					name: unique('sealed'),
					connector: 'scim',
					baseUrl: SCIM_BASE,
					region: 'eu',
					credentials: { token: SECRET }
				}
			}),
			201
		);
		const rows = await runInDurableObject(env.ACCOUNT.getByName('account'), (_, state) =>
			state.storage.sql.exec('SELECT * FROM systems WHERE id = ?', created.id).toArray()
		);
		expect(JSON.stringify(rows)).not.toContain(SECRET);
		expect(String(rows[0].credentials)).toMatch(/^v1\.[\w-]+\.[\w-]+$/);
	});

	it('reads a snapshot through the edge with the stored token; a refused token is not shown even when the server echoes it', async () => {
		const logs: unknown[][] = [];
		for (const level of ['log', 'warn', 'error', 'info', 'debug'] as const)
			vi.spyOn(console, level).mockImplementation((...args) => void logs.push(args));
		const seen = serveScim();
		const created = await expectJson(
			api('/api/systems', {
				token: owner,
				body: {
					name: unique('scim'),
					connector: 'scim',
					baseUrl: SCIM_BASE,
					region: 'eu',
					credentials: { token: SECRET }
				}
			}),
			201
		);
		const snapshot = await expectJson(api(`/api/systems/${created.id}/snapshot`, { token: viewer }), 200);
		expect(snapshot).toMatchObject({
			system: created.id,
			people: [{ id: 'u1', email: 'ada@example.org' }],
			groups: []
		});
		expect(seen.every((h) => h === `Bearer ${SECRET}`)).toBe(true);
		const listed = (await expectJson<any[]>(api('/api/systems', { token: viewer }), 200)).find(
			(s) => s.id === created.id
		);
		expect(listed.lastSnapshot).toEqual({
			takenAt: snapshot.takenAt,
			version: snapshot.version,
			people: 1,
			groups: 0,
			memberships: 0
		});

		// The server now wants another token and echoes the one it got.
		vi.mocked(globalThis.fetch).mockRestore();
		serveScim('another-token');
		const res = await api(`/api/systems/${created.id}/snapshot`, { token: viewer });
		const text = await res.text();
		expect(res.status).toBe(502);
		expect(JSON.parse(text)).toMatchObject({ error: 'source-failed', code: 'auth', system: created.id });
		expect(text).toContain('[redacted]');
		expect(text).not.toContain(SECRET);
		expect(JSON.stringify(logs)).not.toContain(SECRET);
	});

	it('refuses to store credentials without CREDENTIALS_KEY, and stores nothing', async () => {
		const name = unique('no key');
		const res = await worker.fetch!(
			new Request(`${ORIGIN}/api/systems`, {
				method: 'POST',
				headers: { authorization: `Bearer ${owner}`, 'content-type': 'application/json' },
				body: JSON.stringify({
					name,
					connector: 'scim',
					baseUrl: SCIM_BASE,
					region: 'eu',
					credentials: { token: SECRET }
				})
			}) as Request<unknown, IncomingRequestCfProperties>,
			{ ...env, CREDENTIALS_KEY: undefined },
			createExecutionContext()
		);
		const body = await expectJson(res, 503);
		expect(body).toMatchObject({ error: 'not-configured', message: expect.stringContaining('CREDENTIALS_KEY') });
		const list = await expectJson<any[]>(api('/api/systems', { token: viewer }), 200);
		expect(list.some((s) => s.name === name)).toBe(false);
	});

	it.each([
		[{ connector: 'scim', baseUrl: SCIM_BASE, region: 'eu' }, ['name']],
		[{ name: 'X', connector: 'ldap', region: 'eu' }, ['connector']],
		[{ name: 'X', connector: 'csv', region: 'Europe / West' }, ['region']],
		[{ name: 'X', connector: 'csv', region: 'eu', colour: 'red' }, ['colour']],
		[{ name: 'X', connector: 'scim', region: 'eu' }, ['baseUrl']],
		[{ name: 'X', connector: 'scim', baseUrl: 'http://scim.example.test/scim/v2', region: 'eu' }, ['baseUrl']],
		[{ name: 'X', connector: 'scim', baseUrl: 'not a url', region: 'eu' }, ['baseUrl']],
		[
			{ name: 'X', connector: 'scim', baseUrl: SCIM_BASE, region: 'eu', credentials: { token: '' } },
			['credentials.token']
		],
		[{ name: 'X', connector: 'csv', region: 'eu', credentials: { token: SECRET } }, ['credentials']],
		[{ name: 'X', connector: 'sandbox', region: 'eu', credentials: { token: SECRET } }, ['credentials']]
	])('refuses %j naming %j', async (body, fields) => {
		const res = await expectJson(api('/api/systems', { token: owner, body }), 400);
		expect(res.error).toBe('invalid');
		expect(res.issues.map((i: { field: string }) => i.field)).toEqual(fields);
		expect(JSON.stringify(res)).not.toContain(SECRET);
	});

	it('validates changes too, and 404s an unknown system', async () => {
		const created = await expectJson(
			api('/api/systems', { token: owner, body: { name: unique('csv'), connector: 'csv', region: 'eu' } }),
			201
		);
		const bad = await expectJson(
			api(`/api/systems/${created.id}`, { method: 'PATCH', token: owner, body: { region: '', connector: 'scim' } }),
			400
		);
		expect(bad.issues.map((i: { field: string }) => i.field).sort()).toEqual(['connector', 'region']);
		const creds = await expectJson(
			api(`/api/systems/${created.id}`, { method: 'PATCH', token: owner, body: { credentials: { token: SECRET } } }),
			400
		);
		expect(creds.issues[0].field).toBe('credentials');
		await expectJson(api('/api/systems/sys_nope', { method: 'PATCH', token: owner, body: { name: 'x' } }), 404);
		await expectJson(api('/api/systems/sys_nope/snapshot', { token: owner }), 404);
	});
});

describe('CSV uploads', () => {
	let owner: string;
	let csvId: string;
	const columns = { externalId: 'ID', displayName: 'Name', email: 'Email', memberType: 'Type', communities: 'Teams' };
	beforeAll(async () => {
		owner = await tokenFor('owner');
		csvId = (
			await expectJson(
				api('/api/systems', { token: owner, body: { name: unique('HR file'), connector: 'csv', region: 'eu' } }),
				201
			)
		).id;
	});

	it('an empty source is never read: no upload yet is a 502', async () => {
		const body = await expectJson(api(`/api/systems/${csvId}/snapshot`, { token: owner }), 502);
		expect(body).toMatchObject({
			error: 'source-failed',
			message: expect.stringContaining('no export has been uploaded')
		});
	});

	it('stores a good file and reads it back as the snapshot', async () => {
		const csv =
			'ID,Name,Email,Type,Teams\nE1,Ada Lovelace,ada@example.org,staff,North [N1];South [S1]\nE2,Alan Turing,alan@example.org,student,N1\n';
		expect(
			await expectJson(api(`/api/systems/${csvId}/csv`, { method: 'PUT', token: owner, body: { csv, columns } }), 200)
		).toMatchObject({ people: 2, groups: 2, memberships: 3 });
		const snapshot = await expectJson(api(`/api/systems/${csvId}/snapshot`, { token: owner }), 200);
		expect(snapshot.people.map((p: { id: string }) => p.id)).toEqual(['E1', 'E2']);
		expect(snapshot.groups).toEqual([
			{ id: 'N1', externalId: 'N1', name: 'North', kind: 'community' },
			{ id: 'S1', externalId: 'S1', name: 'South', kind: 'community' }
		]);
		const system = await expectJson(api(`/api/systems/${csvId}`, { token: owner }), 200);
		expect(system.lastSnapshot).toMatchObject({ people: 2, groups: 2, memberships: 3 });
	});

	it('refuses a file with errors whole, naming every row and column, and keeps the previous upload', async () => {
		const csv = [
			'ID,Name,Email,Type,Teams',
			'E1,Ada,ada@example.org,staff,N1',
			'E1,Ada again,ada2@example.org,staff,N1',
			'E3,Bob,not-an-email,teacher,N1',
			',Nobody,nobody@example.org,staff,',
			'E5,Eve,eve@example.org,staff,Bad [ ]'
		].join('\n');
		const body = await expectJson(
			api(`/api/systems/${csvId}/csv`, { method: 'PUT', token: owner, body: { csv, columns } }),
			400
		);
		expect(body.error).toBe('invalid');
		expect(body.message).toContain('refused whole');
		expect(body.issues).toEqual([
			{ row: 3, column: 'ID', record: 'E1', message: expect.stringContaining('also on row 2') },
			{ row: 4, column: 'Email', record: 'E3', message: expect.stringContaining('not an email') },
			{ row: 4, column: 'Type', record: 'E3', message: expect.stringContaining('neither staff nor student') },
			{ row: 5, column: 'ID', message: expect.stringContaining('empty') },
			{ row: 6, column: 'Teams', record: 'E5', message: expect.stringContaining('empty identifier') }
		]);
		const snapshot = await expectJson(api(`/api/systems/${csvId}/snapshot`, { token: owner }), 200);
		expect(snapshot.people).toHaveLength(2);
	});

	it('names a mapped column missing from the header, and validates the column map', async () => {
		const missing = await expectJson(
			api(`/api/systems/${csvId}/csv`, {
				method: 'PUT',
				token: owner,
				body: { csv: 'ID,Name\nE1,Ada\n', columns: { externalId: 'ID', email: 'E-mail' } }
			}),
			400
		);
		expect(missing.issues).toEqual([
			{ row: 1, column: 'E-mail', message: expect.stringContaining('not in the header') }
		]);
		const badMap = await expectJson(
			api(`/api/systems/${csvId}/csv`, {
				method: 'PUT',
				token: owner,
				body: { csv: 'ID\nE1\n', columns: { email: 'Email', shoeSize: 'Shoe' } }
			}),
			400
		);
		expect(badMap.issues.map((i: { field: string }) => i.field).sort()).toEqual([
			'columns.externalId',
			'columns.shoeSize'
		]);
	});

	it('stores a large file in parts and reads it back whole', async () => {
		const rows = Array.from(
			{ length: 12000 },
			(_, i) =>
				`E${i},Person number ${i} with a rather long name to make the file large,p${i}@example.org,staff,T${i % 40}`
		);
		const csv = ['ID,Name,Email,Type,Teams', ...rows].join('\n');
		expect(csv.length).toBeGreaterThan(1024 * 1024);
		expect(
			await expectJson(api(`/api/systems/${csvId}/csv`, { method: 'PUT', token: owner, body: { csv, columns } }), 200)
		).toMatchObject({ people: 12000, groups: 40, memberships: 12000 });
		const parts = await runInDurableObject(env.ACCOUNT.getByName('account'), (_, state) =>
			state.storage.sql.exec('SELECT COUNT(*) AS n FROM csv_parts WHERE system_id = ?', csvId).one()
		);
		expect(Number(parts.n)).toBeGreaterThan(1);
		const snapshot = await expectJson(api(`/api/systems/${csvId}/snapshot`, { token: owner }), 200);
		expect(snapshot.people).toHaveLength(12000);
	});

	it('keeps a character whose halves would fall on a part boundary (an emoji at 512K)', async () => {
		const account = env.ACCOUNT.getByName('account');
		// 512 * 1024 UTF-16 units: the emoji's first half is the last unit of the first part.
		const text = `${'x'.repeat(512 * 1024 - 1)}🚒 after`;
		const summary = { people: 0, groups: 0, memberships: 0, takenAt: new Date(0).toISOString(), version: 'v' };
		expect(await account.putCsv(csvId, text, columns, summary)).toBe(true);
		const stored = await account.getConnection(csvId);
		expect(stored?.csv?.text.endsWith('🚒 after')).toBe(true);
		expect(stored?.csv?.text).toHaveLength(text.length);
	});

	it('refuses uploads to other kinds of systems', async () => {
		const scim = await expectJson(
			api('/api/systems', {
				token: owner,
				body: { name: unique('scim'), connector: 'scim', baseUrl: SCIM_BASE, region: 'eu' }
			}),
			201
		);
		const body = await expectJson(
			api(`/api/systems/${scim.id}/csv`, {
				method: 'PUT',
				token: owner,
				body: { csv: 'ID\nE1\n', columns: { externalId: 'ID' } }
			}),
			400
		);
		expect(body.issues[0].field).toBe('connector');
	});
});

describe('regions', () => {
	const system = (id: string, region: string) => ({ id, name: `System ${id}`, region });

	it('assertSameRegion passes within a region and throws a 422 region-mismatch across', async () => {
		expect(() => assertSameRegion(system('a', 'eu'), system('b', 'eu'))).not.toThrow();
		const error = (() => {
			try {
				assertSameRegion(system('a', 'eu'), system('b', 'us'));
			} catch (e) {
				return e;
			}
		})();
		expect(error).toBeInstanceOf(DomainError);
		const res = errorResponse(error);
		expect(res.status).toBe(422);
		expect(await res.json()).toEqual({
			error: 'region-mismatch',
			message: expect.stringMatching(/"System a" is in region eu and "System b" is in region us/),
			regions: { a: 'eu', b: 'us' }
		});
	});

	it('a linked system cannot move to another region, nor be deleted', async () => {
		const owner = await tokenFor('owner');
		const make = (region: string) =>
			expectJson(api('/api/systems', { token: owner, body: { name: unique('sys'), connector: 'csv', region } }), 201);
		const [a, b] = [await make('eu'), await make('eu')];
		const linkId = unique('link');
		await env.ACCOUNT.getByName('account').addLink(linkId, { a: a.id, b: b.id });

		const moved = await expectJson(
			api(`/api/systems/${a.id}`, { method: 'PATCH', token: owner, body: { region: 'us' } }),
			422
		);
		expect(moved).toMatchObject({ error: 'region-mismatch', message: expect.stringContaining('same region') });
		const inUse = await expectJson(api(`/api/systems/${b.id}`, { method: 'DELETE', token: owner }), 409);
		expect(inUse).toMatchObject({ error: 'conflict', links: [linkId] });

		await env.ACCOUNT.getByName('account').removeLink(linkId);
		expect(
			(await expectJson(api(`/api/systems/${a.id}`, { method: 'PATCH', token: owner, body: { region: 'us' } }), 200))
				.region
		).toBe('us');
		expect((await api(`/api/systems/${b.id}`, { method: 'DELETE', token: owner })).status).toBe(204);
	});
});
