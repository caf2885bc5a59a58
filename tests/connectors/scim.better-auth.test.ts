/**
 * The SCIM connector against Better Auth's SCIM plugin: the shared suite, plus what this server
 * lacks or does its own way: no extension beyond the enterprise User one (so no buildings, kinds
 * or manager roles), only `eq` filters (case-insensitive), no sort, no bulk, at most 100 per page.
 */
import { describe, expect, it } from 'vitest';
import { startBetterAuth } from '../support/scim-better-auth';
import { connectorError, countingFetch, describeScimServer, unique } from '../support/scim-suite';
import { ops, resolve } from '../support/scim-ops';
import { eq } from '../../worker/connectors/scim';

const DEPARTMENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department';

const server = describeScimServer({
	name: 'better-auth',
	start: () => startBetterAuth(),
	buildings: false,
	groupExtension: false,
	fieldMap: { department: DEPARTMENT }
});

describe('SCIM connector against Better Auth: what this server lacks', () => {
	it('discovers Groups but no Rostersync extension, eq-only filters, no sort, no bulk', async () => {
		const c = server.connector();
		expect(await c.discover()).toEqual({
			write: true,
			groups: true,
			roles: false,
			groupKinds: false,
			filter: true,
			softRemove: true,
			personFields: [
				'displayName',
				'givenName',
				'familyName',
				'email',
				'phone',
				'memberType',
				'active',
				'employeeNumber'
			],
			customFields: ['department'],
			// Its User schema declares entitlements: access is granted as one.
			access: 'entitlements'
		});
		expect(c.features).toEqual({
			patch: true,
			bulk: false,
			sort: false,
			etag: false,
			filter: true,
			filterMaxResults: 100
		});
	});

	it('refuses what it cannot store instead of losing it silently', async () => {
		const c = server.connector();
		const id = await server.createPerson({}, c);
		const { id: groupId } = await c.apply(ops.createGroup({ name: unique('Leads'), kind: 'community' }), resolve);
		expect(await connectorError(c.apply(ops.addMembership(groupId!, id, 'manager'), resolve))).toMatchObject({
			code: 'unsupported',
			recordKind: 'group',
			recordId: groupId,
			field: 'role'
		});
		expect(await connectorError(c.apply(ops.updatePerson(id, { buildings: 'north' }), resolve))).toMatchObject({
			code: 'unsupported',
			recordId: id,
			field: 'buildings'
		});
		expect(await connectorError(c.apply(ops.updateGroup(groupId!, { kind: 'function' }), resolve))).toMatchObject({
			code: 'unsupported',
			field: 'kind'
		});
		// A member stays possible, and the group reads as the default kind.
		await c.apply(ops.addMembership(groupId!, id), resolve);
		const snapshot = await c.read();
		expect(snapshot.groups.find((g) => g.id === groupId)?.kind).toBe('group');
		expect(snapshot.memberships.filter((m) => m.groupId === groupId)).toEqual([
			{ groupId, personId: id, role: 'member' }
		]);
	});

	it('maps a custom field to an enterprise attribute through the field map', async () => {
		const c = server.connector();
		const id = await server.createPerson({ custom: { department: 'Logistics' } }, c);
		expect((await c.read()).people.find((p) => p.id === id)?.custom).toEqual({ department: 'Logistics' });
		await c.apply(ops.updatePerson(id, { 'custom:department': 'Rescue' }), resolve);
		expect((await c.findPeople(eq('id', id)))[0]?.custom).toEqual({ department: 'Rescue' });
	});

	it('filters case-insensitively', async () => {
		const c = server.connector();
		const handle = unique('Mixed');
		const id = await server.createPerson({ email: `${handle}@example.org` }, c);
		expect((await c.findPeople(eq('userName', `${handle.toUpperCase()}@EXAMPLE.ORG`))).map((p) => p.id)).toEqual([id]);
	});

	it('pages at most 100 at a time whatever the client asks, and the read still gets everyone', async () => {
		const c = server.connector();
		const before = (await c.read()).people.length;
		for (let i = before; i < 105; i++) await server.createPerson({}, c);
		const counts = new Map<string, number>();
		const snapshot = await server.connector({ pageSize: 500, fetch: countingFetch(counts) }).read();
		expect(snapshot.people.length).toBeGreaterThanOrEqual(105);
		expect(new Set(snapshot.people.map((p) => p.id)).size).toBe(snapshot.people.length);
		expect(counts.get('GET /Users')).toBe(Math.ceil(snapshot.people.length / 100));
	});

	it.each([
		{
			case: '400 invalidFilter on an operator it lacks (co)',
			run: () => server.connector().findPeople('userName co "a"'),
			expected: { code: 'invalid', status: 400, scimType: 'invalidFilter', field: 'userName' }
		},
		{
			case: '400 invalidValue on an address that is not an email',
			run: () =>
				server
					.connector()
					.apply(ops.createPerson({ externalId: unique('bad'), displayName: 'Bad', email: 'not-an-email' }), resolve),
			expected: { code: 'invalid', status: 400, scimType: 'invalidValue', field: 'emails', recordKind: 'person' }
		},
		{
			case: '409 uniqueness on a group name',
			run: async () => {
				const name = unique('Same name');
				await server.connector().apply(ops.createGroup({ name, kind: 'group' }), resolve);
				return server.connector().apply(ops.createGroup({ name, externalId: unique('g'), kind: 'group' }), resolve);
			},
			expected: { code: 'conflict', status: 409, scimType: 'uniqueness', field: 'displayName', recordKind: 'group' }
		}
	])('$case becomes a ConnectorError naming the record and field', async ({ run, expected }) => {
		expect(await connectorError(run())).toMatchObject({ system: 'better-auth-system', ...expected });
	});
});
