/**
 * GET /api/systems/:id/capabilities: what a system can hold and do, asked of the system itself
 * (SCIM discovery, a CSV's column map) so link setup can say which fields a link will write.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { api, expectJson, tokenFor, unique } from './support';

const SCIM_BASE = 'https://plain-scim.example.test/scim/v2';
const SECRET = 'plain-secret-8fJ2kQ9xV4mN7pR1';
const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

/**
 * A SCIM server as many real ones are, behind a spy on globalThis.fetch (its own host only): the
 * core User schema and Groups, no enterprise extension, a core schema without phoneNumbers.
 */
function servePlainScim() {
	const real = globalThis.fetch;
	vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
		const request = new Request(input, init);
		if (!request.url.startsWith(SCIM_BASE)) return real(input, init);
		if (request.headers.get('authorization') !== `Bearer ${SECRET}`)
			return Response.json({ status: '401', detail: 'no' }, { status: 401 });
		const list = (resources: unknown[]) => Response.json({ totalResults: resources.length, Resources: resources });
		switch (new URL(request.url).pathname.replace(/^\/scim\/v2/, '')) {
			case '/ServiceProviderConfig':
				return Response.json({ patch: { supported: true }, filter: { supported: 'True', maxResults: 100 } });
			case '/ResourceTypes':
				return list([
					{ name: 'User', endpoint: '/Users', schema: CORE_USER, schemaExtensions: [] },
					{ name: 'Group', endpoint: '/Groups', schema: CORE_GROUP }
				]);
			case '/Schemas':
				return list([
					{
						id: CORE_USER,
						attributes: ['userName', 'displayName', 'name', 'emails', 'userType', 'active'].map((name) => ({ name }))
					}
				]);
			default:
				return Response.json({ status: '404', detail: 'no such endpoint' }, { status: 404 });
		}
	});
}

let owner: string;
let viewer: string;
beforeAll(async () => {
	owner = await tokenFor('owner');
	viewer = await tokenFor('viewer');
});
afterEach(() => vi.restoreAllMocks());

const create = (body: Record<string, unknown>) =>
	expectJson<{ id: string }>(
		api('/api/systems', { token: owner, body: { name: unique('sys'), region: 'eu', ...body } }),
		201
	);

describe('GET /api/systems/:id/capabilities', () => {
	it('a SCIM server without the enterprise extension holds no employee number; a viewer may ask', async () => {
		servePlainScim();
		const { id } = await create({ connector: 'scim', baseUrl: SCIM_BASE, credentials: { token: SECRET } });
		const caps = await expectJson(api(`/api/systems/${id}/capabilities`, { token: viewer }), 200);
		// Exactly these keys: nothing about filters or group kinds, which link setup has no use for.
		expect(caps).toEqual({
			personFields: ['displayName', 'givenName', 'familyName', 'email', 'memberType', 'active'],
			customFields: [],
			groups: true,
			roles: false,
			write: true,
			softRemove: true,
			// No entitlements or roles declared: access to it is its accounts being active.
			access: 'active'
		});
	});

	it('a CSV export holds exactly its mapped columns, and is not written', async () => {
		const { id } = await create({ connector: 'csv' });
		// No upload yet: nothing to ask, and never read as an empty directory.
		expect(await expectJson(api(`/api/systems/${id}/capabilities`, { token: viewer }), 502)).toMatchObject({
			error: 'source-failed',
			code: 'invalid'
		});
		const columns = {
			externalId: 'ID',
			givenName: 'First',
			familyName: 'Last',
			email: 'Email',
			custom: { grade: 'Grade' }
		};
		await expectJson(
			api(`/api/systems/${id}/csv`, {
				method: 'PUT',
				token: owner,
				body: { csv: 'ID,First,Last,Email,Grade,Employee no\nE1,Ada,L,ada@example.org,G1,17\n', columns }
			}),
			200
		);
		expect(await expectJson(api(`/api/systems/${id}/capabilities`, { token: viewer }), 200)).toEqual({
			personFields: ['displayName', 'givenName', 'familyName', 'email'],
			customFields: ['grade'],
			groups: false,
			roles: false,
			write: false,
			softRemove: false
		});
	});

	it('a sandbox holds everything, roles and custom fields included', async () => {
		const { id } = await create({ connector: 'sandbox' });
		const caps = await expectJson(api(`/api/systems/${id}/capabilities`, { token: viewer }), 200);
		expect(caps).toMatchObject({ groups: true, roles: true, write: true, softRemove: true });
		expect(caps.personFields).toEqual(expect.arrayContaining(['employeeNumber', 'buildings', 'email']));
	});

	it('needs a credential, and names an unknown system', async () => {
		expect((await api('/api/systems/sys_nope/capabilities')).status).toBe(401);
		expect(await expectJson(api('/api/systems/sys_nope/capabilities', { token: viewer }), 404)).toMatchObject({
			error: 'not-found'
		});
	});
});
