/**
 * The SCIM connector against SCIMMY (a full SCIM 2.0 implementation): the shared suite, plus
 * what only this server has: the Rostersync extensions (buildings, custom attributes, kinds,
 * manager roles), sort and bulk, a case-sensitive filter, and a store we can change mid-read.
 */
import { describe, expect, it } from 'vitest';
import { startScimmy, SCIMMY_GROUP_EXT, SCIMMY_USER_EXT, type ScimmyPeer } from '../support/scim-scimmy';
import { connectorError, countingFetch, describeScimServer, unique } from '../support/scim-suite';
import { ops, resolve } from '../support/scim-ops';
import { eq, type FetchLike } from '../../worker/connectors/scim';
import { ConnectorError } from '../../worker/connectors/types';
import { realClock } from '../../worker/connectors/retry';

const server = describeScimServer({
	name: 'scimmy',
	start: () => startScimmy(),
	buildings: true,
	groupExtension: true
});
const peer = () => server.peer() as ScimmyPeer;

describe('SCIM connector against SCIMMY: what this server has', () => {
	it('discovers its capabilities from /ServiceProviderConfig, /ResourceTypes and /Schemas', async () => {
		const c = server.connector();
		expect(c.capabilities().groups).toBe(false); // nothing assumed before discovery
		expect(await c.discover()).toEqual({
			write: true,
			groups: true,
			roles: true,
			groupKinds: true,
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
				'employeeNumber',
				'buildings'
			],
			customFields: ['costCode', 'seniority'],
			// RFC 7643's User declares entitlements: access is an entitlement there.
			access: 'entitlements'
		});
		expect(c.features).toEqual({
			patch: true,
			bulk: true,
			bulkMaxOperations: 1000,
			bulkMaxPayloadSize: 1048576,
			sort: true,
			etag: false,
			filter: true,
			filterMaxResults: 200
		});
	});

	it('keeps manager roles in the Rostersync Group extension: add, demote, promote, remove', async () => {
		const c = server.connector();
		const [a, b] = [await server.createPerson({}, c), await server.createPerson({}, c)];
		const { id: groupId } = await c.apply(
			ops.createGroup({ name: unique('Wardens'), externalId: unique('w'), kind: 'message-group' }),
			resolve
		);
		await Promise.all([
			c.apply(ops.addMembership(groupId!, a, 'manager'), resolve),
			c.apply(ops.addMembership(groupId!, b, 'manager'), resolve)
		]);
		const roles = async () =>
			(await c.read()).memberships
				.filter((m) => m.groupId === groupId)
				.map((m) => `${m.personId === a ? 'a' : 'b'}:${m.role}`)
				.sort();
		// Both concurrent promotions survive: managers are written under a per-group lock.
		expect(await roles()).toEqual(['a:manager', 'b:manager']);
		await c.apply(ops.setRole(groupId!, b, 'member'), resolve);
		expect(await roles()).toEqual(['a:manager', 'b:member']);
		await c.apply(ops.removeMembership(groupId!, a, 'manager'), resolve);
		expect(await roles()).toEqual(['b:member']);
		// SCIMMY drops a multi-valued attribute once it is empty.
		expect(peer().groups.get(groupId!)?.[SCIMMY_GROUP_EXT]).toEqual({ kind: 'message-group' });
	});

	it('updates kinds, buildings and custom fields through the extension, typed as the schema says', async () => {
		const c = server.connector({
			fieldMap: { department: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department' }
		});
		const id = await server.createPerson(
			{ buildings: ['b1'], custom: { costCode: 'CC-1', seniority: '3', department: 'Ops' } },
			c
		);
		expect(peer().users.get(id)?.[SCIMMY_USER_EXT]).toEqual({ buildings: ['b1'], costCode: 'CC-1', seniority: 3 });
		await c.apply(
			ops.updatePerson(id, {
				buildings: 'b2\nb3',
				'custom:seniority': '12',
				'custom:costCode': null,
				'custom:department': 'Fire'
			}),
			resolve
		);
		const person = (await c.read()).people.find((p) => p.id === id);
		expect(person?.buildings).toEqual(['b2', 'b3']);
		expect(person?.custom).toEqual({ seniority: '12', department: 'Fire' });

		const { id: groupId } = await c.apply(ops.createGroup({ name: unique('Teams'), kind: 'community' }), resolve);
		await c.apply(ops.updateGroup(groupId!, { kind: 'function' }), resolve);
		expect((await c.read()).groups.find((g) => g.id === groupId)?.kind).toBe('function');
	});

	it('refuses a custom value the schema cannot take before sending it, naming the field', async () => {
		const error = await connectorError(
			server.connector().apply(ops.updatePerson('any-id', { 'custom:seniority': 'senior' }), resolve)
		);
		expect(error).toMatchObject({ code: 'invalid', recordId: 'any-id', field: `${SCIMMY_USER_EXT}:seniority` });
		const unknown = await connectorError(
			server.connector().apply(ops.updatePerson('any-id', { 'custom:shoeSize': '44' }), resolve)
		);
		expect(unknown).toMatchObject({ code: 'unsupported', field: 'custom:shoeSize' });
	});

	it.each([
		{
			case: '400 invalidValue from a server rule',
			run: () =>
				server.connector().apply(
					ops.createPerson({
						externalId: unique('e'),
						displayName: 'E',
						email: `${unique('e')}@example.org`,
						employeeNumber: 'A-17'
					}),
					resolve
				),
			expected: {
				code: 'invalid',
				status: 400,
				scimType: 'invalidValue',
				field: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber',
				recordKind: 'person'
			}
		},
		{
			case: '400 invalidFilter on a malformed filter',
			run: () => server.connector().findPeople('userName xx "a"'),
			expected: { code: 'invalid', status: 400, scimType: 'invalidFilter', field: 'userName' }
		},
		{
			case: '404 on a PATCH of a group that is gone',
			run: () => server.connector().apply(ops.updateGroup('gone-group', { name: 'New name' }), resolve),
			expected: { code: 'not-found', status: 404, recordKind: 'group', recordId: 'gone-group', field: 'displayName' }
		}
	])('$case becomes a ConnectorError naming the record and field', async ({ run, expected }) => {
		expect(await connectorError(run())).toMatchObject({ system: 'scimmy-system', ...expected });
	});

	it('filters case-sensitively, yet still finds the holder of a userName kept in upper case', async () => {
		const counts = new Map<string, number>();
		const c = server.connector({ fetch: countingFetch(counts) });
		const handle = unique('ZOE').toUpperCase();
		// Another tool created the account with its own spelling; the server keeps it as given.
		const holder = await server.createPerson({ externalId: unique('hr'), email: `${handle}@EXAMPLE.ORG` }, c);
		expect(peer().users.get(holder)?.userName).toBe(`${handle}@EXAMPLE.ORG`);
		const wanted = `${handle.toLowerCase()}@example.org`;
		expect(await c.findPeople(eq('userName', wanted))).toEqual([]);

		counts.clear();
		const error = await connectorError(
			c.apply(ops.createPerson({ externalId: unique('x'), displayName: 'Zoe', email: wanted }), resolve)
		);
		expect(error).toMatchObject({
			code: 'conflict',
			status: 409,
			recordKind: 'person',
			field: 'userName',
			existingId: holder
		});
		expect(error.detail).toContain(`userName "${wanted}"`);
		expect(error.detail).toContain(`"${handle}@EXAMPLE.ORG"`);
		// The filter missed (as sent, then lower-cased: the same here), so a scan found it.
		expect(counts.get('GET /Users')).toBeGreaterThan(1);

		// Our own earlier create, kept in upper case: the replay returns it instead of failing every night.
		const own = unique('OWN');
		const op = ops.createPerson({ externalId: own, displayName: 'Own', email: `${own.toUpperCase()}@EXAMPLE.ORG` });
		const first = await c.apply(op, resolve);
		const replay = ops.createPerson({ externalId: own, displayName: 'Own', email: `${own.toLowerCase()}@example.org` });
		expect(await c.apply(replay, resolve)).toEqual(first);
	});

	it('re-reads when the directory changes while it is paged', async () => {
		const counts = new Map<string, number>();
		let injected = false;
		const racing: FetchLike = async (input, init) => {
			const response = await fetch(input, init);
			// Right after the first page, somebody adds a user.
			if (!injected && init.method === 'GET' && input.includes('/Users?') && input.includes('startIndex=1&')) {
				injected = true;
				const handle = unique('late');
				await fetch(`${peer().url}/Users`, {
					method: 'POST',
					headers: { authorization: `Bearer ${peer().token}`, 'content-type': 'application/scim+json' },
					body: JSON.stringify({
						schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
						userName: `${handle}@example.org`,
						externalId: handle
					})
				});
			}
			return response;
		};
		for (let i = 0; i < 5; i++) await server.createPerson();
		const snapshot = await server.connector({ pageSize: 3, fetch: countingFetch(counts, racing) }).read();
		expect(injected).toBe(true);
		expect(snapshot.people.map((p) => p.id).sort()).toEqual([...peer().users.keys()].sort());
		// The first pass saw totalResults move and was thrown away.
		expect(counts.get('GET /Users')).toBeGreaterThan(Math.ceil(peer().users.size / 3));
	});

	it('waits between re-reads, and names the records that moved when the directory never settles', async () => {
		const added: string[] = [];
		const waits: number[] = [];
		// Somebody adds a user during every read (as a run writing into the system would).
		const busy: FetchLike = async (input, init) => {
			const response = await fetch(input, init);
			if (init.method === 'GET' && input.includes('/Users?') && input.includes('startIndex=1&')) {
				const handle = unique('busy');
				const created = await fetch(`${peer().url}/Users`, {
					method: 'POST',
					headers: { authorization: `Bearer ${peer().token}`, 'content-type': 'application/scim+json' },
					body: JSON.stringify({
						schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
						userName: `${handle}@example.org`,
						externalId: handle
					})
				});
				added.push(((await created.json()) as { id: string }).id);
			}
			return response;
		};
		for (let i = 0; i < 4; i++) await server.createPerson();
		const clock = { ...realClock, sleep: async (ms: number) => void waits.push(ms) };
		const error = await server
			.connector({ pageSize: 3, fetch: busy, clock })
			.read()
			.catch((e: unknown) => e);
		expect(error).toBeInstanceOf(ConnectorError);
		expect(error).toMatchObject({ code: 'http', retryable: true, recordKind: 'person' });
		expect((error as Error).message).toContain('kept changing while it was read (3 attempts');
		// A user added during the reads is named (which one depends on the pages it landed in).
		expect(added).toHaveLength(3);
		expect(added.filter((id) => (error as Error).message.includes(id)).length).toBeGreaterThan(0);
		expect(waits.filter((ms) => ms >= 1000)).toEqual([2000, 4000]);
	});

	it('falls back to GET + PUT on a server that announces no PATCH', async () => {
		const methods: string[] = [];
		const noPatch: FetchLike = async (input, init) => {
			methods.push(init.method ?? 'GET');
			if (init.method === 'PATCH') return new Response('{"status":"501","detail":"no PATCH here"}', { status: 501 });
			const response = await fetch(input, init);
			if (!input.endsWith('/ServiceProviderConfig')) return response;
			const config = await response.json();
			return Response.json({ ...config, patch: { supported: false } });
		};
		const c = server.connector({ fetch: noPatch });
		const [a, b] = [await server.createPerson({ phone: '+1 555 0199' }, c), await server.createPerson({}, c)];
		const { id: groupId } = await c.apply(ops.createGroup({ name: unique('Put'), kind: 'community' }), resolve);
		await Promise.all([
			c.apply(ops.updatePerson(a, { displayName: 'Put Person', phone: null, buildings: 'x' }), resolve),
			c.apply(ops.addMembership(groupId!, a, 'manager'), resolve),
			c.apply(ops.addMembership(groupId!, b), resolve)
		]);
		await c.apply(ops.removeMembership(groupId!, b), resolve);
		await c.apply(ops.removePerson(b, true), resolve);

		const snapshot = await c.read();
		const person = snapshot.people.find((p) => p.id === a);
		expect(person).toMatchObject({ displayName: 'Put Person', buildings: ['x'] });
		expect(person?.phone).toBeUndefined();
		expect(snapshot.people.find((p) => p.id === b)?.active).toBe(false);
		expect(snapshot.memberships.filter((m) => m.groupId === groupId)).toEqual([
			{ groupId, personId: a, role: 'manager' }
		]);
		expect(methods).not.toContain('PATCH');
		expect(methods).toContain('PUT');
	});

	it('without PATCH, a record that cannot take the change fails as a connector error naming it', async () => {
		const id = await server.createPerson();
		const oddName: FetchLike = async (input, init) => {
			const response = await fetch(input, init);
			if (input.endsWith('/ServiceProviderConfig'))
				return Response.json({ ...(await response.json()), patch: { supported: false } });
			if (init.method === 'GET' && input.includes(`/Users/${id}`))
				return Response.json({ ...(await response.json()), name: 'not an object' });
			return response;
		};
		const error = await server
			.connector({ fetch: oddName })
			.apply(ops.updatePerson(id, { givenName: 'New' }), resolve)
			.catch((e: unknown) => e);
		expect(error).toBeInstanceOf(ConnectorError);
		expect(error).toMatchObject({ code: 'invalid', scimType: 'invalidValue' });
		expect((error as Error).message).toContain(id);
		expect((error as Error).message).toContain('name.givenName');
	});

	it('rejects a snapshot with invalid payloads, naming every bad record and field', async () => {
		const id = await server.createPerson();
		const groupId = (await server.connector().apply(ops.createGroup({ name: unique('Bad'), kind: 'group' }), resolve))
			.id!;
		const corrupting: FetchLike = async (input, init) => {
			const response = await fetch(input, init);
			if (init.method !== 'GET' || !/\/(Users|Groups)\?/.test(input)) return response;
			const body = await response.json();
			for (const r of body.Resources) {
				if (r.id === id) r.active = 'yes';
				if (r.id === groupId) r[SCIMMY_GROUP_EXT] = { kind: 'team' };
			}
			return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/scim+json' } });
		};
		const error = await connectorError(server.connector({ fetch: corrupting }).read());
		expect(error.code).toBe('invalid');
		expect(error.issues).toEqual([
			{ record: id, field: 'active', message: expect.stringContaining('boolean') },
			{ record: groupId, field: `${SCIMMY_GROUP_EXT}:kind`, message: expect.stringContaining('must be one of') }
		]);
		expect(error.message).toContain(`system scimmy-system`);
		expect(error.message).toContain(id);
	});
});
