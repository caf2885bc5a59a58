import { env } from 'cloudflare:workers';
import { abortAllDurableObjects, runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { account } from '../../worker/account/account-do';
import { ScimConnector, eq } from '../../worker/connectors/scim';
import { ConnectorError } from '../../worker/connectors/types';
import { connectorFor } from '../../worker/systems/connect';
import { createSandbox } from '../../worker/sandbox/provision';
import { OPS, seedOps } from '../../worker/sandbox/seed';
import { ops, resolve } from '../support/scim-ops';
import { ORIGIN, api, expectJson, tokenFor, unique } from './support';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const USER_EXT = 'urn:rostersync:params:scim:schemas:extension:2.0:User';
const GROUP_EXT = 'urn:rostersync:params:scim:schemas:extension:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

async function error(promise: Promise<unknown>): Promise<ConnectorError> {
	const e = await promise.then(
		() => undefined,
		(x: unknown) => x
	);
	expect(e).toBeInstanceOf(ConnectorError);
	return e as ConnectorError;
}

let owner: string;
let emptyId: string;
let scimToken: string;
beforeAll(async () => {
	owner = await tokenFor('owner');
	await createSandbox(env, { ...OPS, origin: ORIGIN, records: seedOps() });
	emptyId = (
		await expectJson(
			api('/api/systems', { token: owner, body: { name: 'Scratch directory', connector: 'sandbox', region: 'eu' } }),
			201
		)
	).id;
	scimToken = (await expectJson(api(`/api/sandbox/${emptyId}/token`, { token: owner, body: {} }), 201)).token;
});

/** A raw SCIM request to the scratch sandbox through its public route. */
function scim(path: string, init: { method?: string; body?: unknown; token?: string | null } = {}) {
	const headers: Record<string, string> = { accept: 'application/scim+json' };
	const token = init.token === undefined ? scimToken : init.token;
	if (token) headers.authorization = `Bearer ${token}`;
	if (init.body !== undefined) headers['content-type'] = 'application/scim+json';
	return api(`/api/sandbox/${emptyId}/scim/v2${path}`, {
		method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
		headers,
		body: init.body
	});
}

describe('a seeded sandbox, read through the SCIM connector', () => {
	it('reads every person, group and membership, with extensions', async () => {
		const connector = await connectorFor(env, OPS.id);
		const caps = await connector.discover();
		expect(caps).toMatchObject({
			write: true,
			groups: true,
			roles: true,
			groupKinds: true,
			filter: true,
			softRemove: true,
			customFields: ['rank']
		});
		expect(caps.personFields).toEqual(expect.arrayContaining(['employeeNumber', 'buildings', 'memberType']));
		const snapshot = await connector.read();
		const seed = seedOps();
		expect(snapshot.people).toHaveLength(seed.people.length);
		expect(snapshot.groups).toHaveLength(seed.groups.length);
		expect(snapshot.memberships).toHaveLength(seed.memberships.length);
		const { userName: _, ...first } = seed.people.find((p) => p.id === 'ops-p-000')!;
		expect(snapshot.people.find((p) => p.id === 'ops-p-000')).toEqual(first);
		expect(snapshot.groups.find((g) => g.id === 'ops-g-st-01')).toEqual({
			id: 'ops-g-st-01',
			externalId: 'ST-01',
			name: 'Station 1 Asker',
			kind: 'community'
		});
		const managers = snapshot.memberships.filter((m) => m.role === 'manager');
		expect(managers.length).toBe(seed.memberships.filter((m) => m.role === 'manager').length);
		expect(managers.length).toBeGreaterThan(0);
	});

	it('loads a large directory in chunks (append), memberships across chunks', async () => {
		const { id } = (await createSandbox(env, { id: unique('chunks'), name: 'Chunks', region: 'eu', origin: ORIGIN }))!;
		const stub = env.SANDBOXES.getByName(id);
		const person = (i: number) => ({ id: `c-${i}`, displayName: `C ${i}`, email: `c${i}@example.org`, active: true });
		expect(
			await stub.seed({
				people: [person(1)],
				groups: [{ id: 'g', name: 'G', kind: 'group' }],
				memberships: [{ groupId: 'g', personId: 'c-1', role: 'member' }]
			})
		).toBe(true);
		expect(await stub.seed({ people: [person(2)], groups: [], memberships: [] })).toBe(false);
		expect(
			await stub.seed(
				{ people: [person(2)], groups: [], memberships: [{ groupId: 'g', personId: 'c-2', role: 'manager' }] },
				{ append: true }
			)
		).toBe(true);
		const snap = await stub.snapshot();
		expect(snap.people.map((p) => p.id)).toEqual(['c-1', 'c-2']);
		expect(snap.memberships).toEqual([
			{ groupId: 'g', personId: 'c-1', role: 'member' },
			{ groupId: 'g', personId: 'c-2', role: 'manager' }
		]);
	});

	it('survives a restart: a fresh instance loads the same directory from SQLite', async () => {
		const before = await (await connectorFor(env, OPS.id)).read();
		await abortAllDurableObjects();
		const after = await (await connectorFor(env, OPS.id)).read();
		expect(after.version).toBe(before.version);
		const rows = await runInDurableObject(env.SANDBOXES.getByName(OPS.id), (_, state) =>
			state.storage.sql.exec('SELECT COUNT(*) AS n FROM scim_users').one()
		);
		expect(Number(rows.n)).toBe(before.people.length);
	});

	it('filters on userName, externalId, emails.value, displayName, with and', async () => {
		const connector = (await connectorFor(env, OPS.id)) as unknown as { inner: ScimConnector };
		const c = connector.inner;
		const seed = seedOps().people.find((p) => p.id === 'ops-p-007')!;
		expect((await c.findPeople(eq('userName', seed.email!.toUpperCase()))).map((p) => p.id)).toEqual(['ops-p-007']);
		expect((await c.findPeople(eq('externalId', 'E10007'))).map((p) => p.id)).toEqual(['ops-p-007']);
		expect((await c.findPeople(eq('externalId', 'e10007'))).map((p) => p.id)).toEqual([]);
		expect((await c.findPeople(eq('emails.value', seed.email!))).map((p) => p.id)).toEqual(['ops-p-007']);
		expect(
			(await c.findPeople(`${eq('displayName', seed.displayName)} and ${eq('externalId', 'E10007')}`)).map((p) => p.id)
		).toEqual(['ops-p-007']);
		expect((await c.findPeople(eq('emails.value', 'duty.officer@example.org'))).map((p) => p.id)).toEqual([
			'ops-p-050',
			'ops-p-051'
		]);
		expect((await c.findGroups(eq('displayName', 'station 2 slemmestad'))).map((g) => g.id)).toEqual(['ops-g-st-02']);
		expect(await c.findPeople(eq('userName', 'nobody@example.org'))).toEqual([]);
	});
});

describe('writing through the SCIM connector', () => {
	const connector = async () =>
		(await connectorFor(env, emptyId)) as unknown as ScimConnector & { inner: ScimConnector };

	it('creates, patches and deletes people and groups; memberships with roles round-trip', async () => {
		const c = await connector();
		const handle = unique('ada');
		const { id } = await c.apply(
			ops.createPerson({
				externalId: handle,
				displayName: 'Ada Lovelace',
				givenName: 'Ada',
				familyName: 'Lovelace',
				email: `${handle}@example.org`,
				phone: '+44 1',
				employeeNumber: '1815',
				memberType: 'staff',
				buildings: ['north', 'east']
			}),
			resolve
		);
		const other = (
			await c.apply(
				ops.createPerson({ externalId: unique('b'), displayName: 'Bob', email: `${unique('bob')}@example.org` }),
				resolve
			)
		).id!;
		const group = (
			await c.apply(ops.createGroup({ name: 'Engines', externalId: unique('g'), kind: 'community' }), resolve)
		).id!;
		await c.apply(ops.addMembership(group, id!), resolve);
		await c.apply(ops.addMembership(group, other, 'manager'), resolve);
		await c.apply(ops.addMembership(group, id!), resolve); // again: nothing changes

		let snap = await c.read();
		expect(snap.people.find((p) => p.id === id)).toEqual({
			id,
			externalId: handle,
			displayName: 'Ada Lovelace',
			givenName: 'Ada',
			familyName: 'Lovelace',
			email: `${handle}@example.org`,
			phone: '+44 1',
			employeeNumber: '1815',
			memberType: 'staff',
			buildings: ['east', 'north'],
			active: true
		});
		expect(snap.memberships.filter((m) => m.groupId === group)).toEqual(
			[
				{ groupId: group, personId: id, role: 'member' },
				{ groupId: group, personId: other, role: 'manager' }
			].sort((x, y) => (x.personId! < y.personId! ? -1 : 1))
		);

		await c.apply(
			ops.updatePerson(id!, { displayName: 'Ada King', phone: null, memberType: 'student', buildings: 'west' }),
			resolve
		);
		await c.apply(ops.setRole(group, other, 'member'), resolve);
		await c.apply(ops.updateGroup(group, { name: 'Engines & Pumps' }), resolve);
		await c.apply(ops.removeMembership(group, id!), resolve);
		await c.apply(ops.removeMembership(group, id!), resolve); // already gone: fine
		await c.apply(ops.removePerson(other, true), resolve);
		snap = await c.read();
		expect(snap.people.find((p) => p.id === id)).toMatchObject({
			displayName: 'Ada King',
			memberType: 'student',
			buildings: ['west']
		});
		expect(snap.people.find((p) => p.id === id)?.phone).toBeUndefined();
		expect(snap.people.find((p) => p.id === other)?.active).toBe(false);
		expect(snap.groups.find((g) => g.id === group)?.name).toBe('Engines & Pumps');
		expect(snap.memberships.filter((m) => m.groupId === group)).toEqual([
			{ groupId: group, personId: other, role: 'member' }
		]);

		await c.apply(ops.removeGroup(group), resolve);
		const deleting = (await connectorFor(env, emptyId, { removeMode: 'delete' })) as unknown as ScimConnector;
		await deleting.apply(ops.removePerson(id!, true), resolve);
		await deleting.apply(ops.removePerson(id!, true), resolve); // twice is fine
		snap = await c.read();
		expect(snap.groups.some((g) => g.id === group)).toBe(false);
		expect(snap.people.some((p) => p.id === id)).toBe(false);
	});

	it('a taken userName is a 409 uniqueness conflict naming the holder', async () => {
		const c = await connector();
		const email = `${unique('dup')}@example.org`;
		const holder = (await c.apply(ops.createPerson({ externalId: unique('h'), displayName: 'Holder', email }), resolve))
			.id;
		const e = await error(
			c.apply(ops.createPerson({ externalId: unique('o'), displayName: 'Other', email: email.toUpperCase() }), resolve)
		);
		expect(e).toMatchObject({
			code: 'conflict',
			status: 409,
			scimType: 'uniqueness',
			field: 'userName',
			existingId: holder
		});
	});

	it('a create whose answer was lost is not created twice', async () => {
		const c = await connector();
		const handle = unique('replay');
		const op = ops.createPerson({ externalId: handle, displayName: 'Replay', email: `${handle}@example.org` });
		const first = await c.apply(op, resolve);
		expect(await c.apply(op, resolve)).toEqual(first);
	});

	it('a missing record is a 404 not-found naming the record', async () => {
		const c = await connector();
		expect(await error(c.apply(ops.updatePerson('no-such-id', { displayName: 'X' }), resolve))).toMatchObject({
			code: 'not-found',
			status: 404,
			recordId: 'no-such-id'
		});
		expect(await error(c.apply(ops.adoptPerson('no-such-id'), resolve))).toMatchObject({ code: 'not-found' });
		expect(await error(c.apply(ops.addMembership('no-such-group', 'x'), resolve))).toMatchObject({ code: 'not-found' });
	});

	it('custom fields live in the Rostersync extension', async () => {
		const { id: sandboxId } = (await createSandbox(env, {
			id: unique('sbx'),
			name: 'Custom',
			region: 'eu',
			origin: ORIGIN,
			customAttributes: ['rank']
		}))!;
		const c = await connectorFor(env, sandboxId);
		const { id } = await c.apply(
			ops.createPerson({ externalId: 'k1', displayName: 'K', email: 'k1@example.org', custom: { rank: 'Chief' } }),
			resolve
		);
		await c.apply(ops.updatePerson(id!, { 'custom:rank': 'Deputy' }), resolve);
		expect((await c.read()).people[0].custom).toEqual({ rank: 'Deputy' });
		expect(await error(c.apply(ops.updatePerson(id!, { 'custom:shoeSize': '44' }), resolve))).toMatchObject({
			code: 'unsupported'
		});
	});
});

describe('the SCIM protocol, raw', () => {
	it('requires the sandbox token: none, an account token, a wrong one are 401 with a SCIM error', async () => {
		for (const token of [null, owner, 'wrong']) {
			const res = await scim('/Users', { token });
			expect(res.status).toBe(401);
			expect(res.headers.get('content-type')).toMatch(/^application\/scim\+json/);
			expect(await res.json()).toMatchObject({
				schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
				status: '401'
			});
		}
		expect((await scim('/Users', { token: null })).headers.get('www-authenticate')).toMatch(/^Bearer/);
		expect(
			(await api('/api/sandbox/sys_nope/scim/v2/Users', { headers: { authorization: `Bearer ${scimToken}` } })).status
		).toBe(404);
	});

	it('announces what it supports', async () => {
		const spc = await expectJson(scim('/ServiceProviderConfig'), 200);
		expect(spc).toMatchObject({
			patch: { supported: true },
			filter: { supported: true, maxResults: 1000 },
			bulk: { supported: true, maxOperations: 1000, maxPayloadSize: 2 * 1024 * 1024 },
			sort: { supported: false },
			etag: { supported: false }
		});
		const types = await expectJson(scim('/ResourceTypes'), 200);
		expect(types.Resources.map((t: { endpoint: string }) => t.endpoint)).toEqual(['/Users', '/Groups']);
		expect(types.Resources[0].schemaExtensions.map((e: { schema: string }) => e.schema)).toEqual([
			ENTERPRISE,
			USER_EXT
		]);
		expect((await expectJson(scim('/ResourceTypes/Group'), 200)).schema).toBe(
			'urn:ietf:params:scim:schemas:core:2.0:Group'
		);
		const schemas = await expectJson(scim('/Schemas'), 200);
		expect(schemas.Resources.map((s: { id: string }) => s.id)).toEqual(
			expect.arrayContaining([ENTERPRISE, USER_EXT, GROUP_EXT])
		);
		await expectJson(scim('/Schemas/urn:nope'), 404);
		expect((await scim('/Bulk', { body: {} })).status).toBe(400);
		expect((await scim('/Me')).status).toBe(501);
	});

	it('creates a user (201, Location, meta with the public URL) and rejects a bad one with 400 invalidValue', async () => {
		const userName = `${unique('raw')}@example.org`;
		const res = await scim('/Users', {
			body: {
				schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE],
				userName,
				name: { givenName: 'Raw', familyName: 'User' },
				emails: [{ value: userName, type: 'work', primary: true }],
				[ENTERPRISE]: { employeeNumber: '42' }
			}
		});
		const user = await expectJson(res.clone(), 201);
		expect(res.headers.get('location')).toBe(`${ORIGIN}/api/sandbox/${emptyId}/scim/v2/Users/${user.id}`);
		expect(user).toMatchObject({
			userName,
			displayName: 'Raw User',
			active: true,
			[ENTERPRISE]: { employeeNumber: '42' },
			meta: { resourceType: 'User', location: res.headers.get('location') }
		});
		expect(await expectJson(scim(`/Users/${user.id}`), 200)).toEqual(user);
		expect(await expectJson(scim(`/Users/${user.id}?attributes=userName`), 200)).toEqual({
			schemas: user.schemas,
			id: user.id,
			userName
		});

		const noName = await expectJson(
			scim('/Users', { body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], displayName: 'x' } }),
			400
		);
		expect(noName).toMatchObject({
			status: '400',
			scimType: 'invalidValue',
			detail: expect.stringContaining('userName')
		});
		const badActive = await expectJson(scim('/Users', { body: { userName: unique('x'), active: 'yes' } }), 400);
		expect(badActive.detail).toContain('active');
		expect(
			(await expectJson(scim('/Users', { body: { schemas: ['urn:wrong'], userName: unique('x') } }), 400)).scimType
		).toBe('invalidSyntax');
		expect((await expectJson(scim('/Users', { body: '{nope' }), 400)).scimType).toBe('invalidSyntax');
		expect((await expectJson(scim('/Users', { body: { userName: userName.toUpperCase() } }), 409)).scimType).toBe(
			'uniqueness'
		);
	});

	it('PATCHes as real clients send it: capitalised ops, value filters, path-less values', async () => {
		const userName = `${unique('patch')}@example.org`;
		const user = await expectJson(scim('/Users', { body: { userName, displayName: 'Before' } }), 201);
		const patched = await expectJson(
			scim(`/Users/${user.id}`, {
				method: 'PATCH',
				body: {
					schemas: [PATCH_OP],
					Operations: [
						{ op: 'Replace', path: 'emails[type eq "work"].value', value: 'patched@example.org' },
						{ op: 'replace', value: { displayName: 'After', 'name.givenName': 'Pat', active: false } },
						{ op: 'add', path: `${USER_EXT}:buildings`, value: ['B1'] },
						{ op: 'add', path: 'phoneNumbers', value: [{ value: '+47 1', type: 'work' }] }
					]
				}
			}),
			200
		);
		expect(patched).toMatchObject({
			displayName: 'After',
			name: { givenName: 'Pat' },
			active: false,
			emails: [{ value: 'patched@example.org' }],
			phoneNumbers: [{ value: '+47 1' }],
			[USER_EXT]: { buildings: ['B1'] }
		});
		const removed = await expectJson(
			scim(`/Users/${user.id}`, {
				method: 'PATCH',
				body: {
					schemas: [PATCH_OP],
					Operations: [
						{ op: 'remove', path: 'phoneNumbers' },
						{ op: 'remove', path: 'name.givenName' }
					]
				}
			}),
			200
		);
		expect(removed.phoneNumbers).toBeUndefined();
		expect(removed.name).toBeUndefined();

		const bad = [
			[{ op: 'jump', path: 'displayName' }, 'invalidSyntax'],
			[{ op: 'replace', path: 'id', value: 'x' }, 'mutability'],
			[{ op: 'replace', path: 'emails[type eq ', value: 'x' }, 'invalidPath'],
			[{ op: 'remove' }, 'noTarget'],
			[{ op: 'replace', path: 'urn:nope:Thing:x', value: 1 }, 'invalidPath']
		] as const;
		for (const [operation, scimType] of bad) {
			const res = await expectJson(
				scim(`/Users/${user.id}`, { method: 'PATCH', body: { schemas: [PATCH_OP], Operations: [operation] } }),
				400
			);
			expect(res.scimType).toBe(scimType);
		}
		await expectJson(
			scim('/Users/nope', {
				method: 'PATCH',
				body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'x' }] }
			}),
			404
		);
	});

	it('replaces with PUT and deletes with DELETE (then 404)', async () => {
		const user = await expectJson(
			scim('/Users', { body: { userName: `${unique('put')}@example.org`, displayName: 'Put', externalId: 'X1' } }),
			201
		);
		const replaced = await expectJson(
			scim(`/Users/${user.id}`, { method: 'PUT', body: { userName: user.userName, displayName: 'Replaced' } }),
			200
		);
		expect(replaced.displayName).toBe('Replaced');
		expect(replaced.externalId).toBeUndefined();
		expect((await scim(`/Users/${user.id}`, { method: 'DELETE' })).status).toBe(204);
		expect((await expectJson(scim(`/Users/${user.id}`), 404)).status).toBe('404');
		await expectJson(scim(`/Users/${user.id}`, { method: 'DELETE' }), 404);
	});

	it('manages group members with PATCH add/remove, and refuses unknown members', async () => {
		const a = await expectJson(scim('/Users', { body: { userName: `${unique('ga')}@example.org` } }), 201);
		const b = await expectJson(scim('/Users', { body: { userName: `${unique('gb')}@example.org` } }), 201);
		const group = await expectJson(
			scim('/Groups', {
				body: {
					schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
					displayName: 'Raw group',
					members: [{ value: a.id }]
				}
			}),
			201
		);
		expect(group).toMatchObject({
			displayName: 'Raw group',
			members: [{ value: a.id, type: 'User' }],
			[GROUP_EXT]: { kind: 'group', managers: [] }
		});
		const patch = (Operations: unknown[]) =>
			scim(`/Groups/${group.id}`, { method: 'PATCH', body: { schemas: [PATCH_OP], Operations } });
		expect(
			(
				await patch([
					{ op: 'add', path: 'members', value: [{ value: b.id }] },
					{ op: 'replace', path: `${GROUP_EXT}:managers`, value: [b.id] }
				])
			).status
		).toBe(204);
		let read = await expectJson(scim(`/Groups/${group.id}`), 200);
		expect(read.members.map((m: { value: string }) => m.value).sort()).toEqual([a.id, b.id].sort());
		expect(read[GROUP_EXT].managers).toEqual([b.id]);
		expect((await patch([{ op: 'remove', path: `members[value eq "${a.id}"]` }])).status).toBe(204);
		expect((await patch([{ op: 'remove', path: 'members', value: [{ value: b.id }] }])).status).toBe(204);
		read = await expectJson(scim(`/Groups/${group.id}`), 200);
		expect(read.members).toEqual([]);
		const unknown = await expectJson(patch([{ op: 'add', path: 'members', value: [{ value: 'ghost' }] }]), 400);
		expect(unknown).toMatchObject({ scimType: 'invalidValue', detail: expect.stringContaining('ghost') });
		// Anything else goes the general way (render, patch, validate): same rules.
		expect(
			(
				await patch([
					{ op: 'replace', path: 'displayName', value: 'Renamed group' },
					{ op: 'add', path: 'members', value: [{ value: b.id }] }
				])
			).status
		).toBe(204);
		read = await expectJson(scim(`/Groups/${group.id}`), 200);
		expect(read).toMatchObject({ displayName: 'Renamed group', members: [{ value: b.id }] });
		expect((await patch([{ op: 'remove', path: 'members' }])).status).toBe(204);
		expect((await expectJson(scim(`/Groups/${group.id}`), 200)).members).toEqual([]);
		// Deleting a user takes it out of its groups.
		await patch([{ op: 'add', path: 'members', value: [{ value: a.id }] }]);
		await scim(`/Users/${a.id}`, { method: 'DELETE' });
		expect((await expectJson(scim(`/Groups/${group.id}`), 200)).members).toEqual([]);
	});

	it('lists with startIndex/count and filters, and refuses a bad filter with 400 invalidFilter', async () => {
		const tag = unique('page').toLowerCase();
		for (let i = 0; i < 5; i++)
			await expectJson(
				scim('/Users', {
					body: {
						userName: `${tag}-${i}@example.org`,
						displayName: `${tag} ${i}`,
						userType: i % 2 ? 'student' : 'staff'
					}
				}),
				201
			);
		const all = await expectJson(scim(`/Users?filter=${encodeURIComponent(`userName sw "${tag}"`)}`), 200);
		expect(all).toMatchObject({
			schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
			totalResults: 5,
			startIndex: 1,
			itemsPerPage: 5
		});
		const page = await expectJson(
			scim(`/Users?filter=${encodeURIComponent(`userName sw "${tag}"`)}&startIndex=2&count=2`),
			200
		);
		expect(page).toMatchObject({ totalResults: 5, startIndex: 2, itemsPerPage: 2 });
		expect(page.Resources.map((u: { id: string }) => u.id)).toEqual(
			all.Resources.slice(1, 3).map((u: { id: string }) => u.id)
		);
		const students = await expectJson(
			scim(
				`/Users?filter=${encodeURIComponent(`userName sw "${tag}" and (userType eq "student" or not (active eq true))`)}`
			),
			200
		);
		expect(students.totalResults).toBe(2);
		const none = await expectJson(scim('/Users?count=0'), 200);
		expect(none.Resources).toEqual([]);
		expect(none.totalResults).toBeGreaterThanOrEqual(5);
		const search = await expectJson(
			scim('/Users/.search', {
				body: {
					schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
					filter: `userName eq "${tag}-3@example.org"`
				}
			}),
			200
		);
		expect(search.totalResults).toBe(1);
		for (const filter of [
			'userName eq',
			'userName foo "x"',
			'(userName eq "x"',
			'userName eq x',
			'emails[type eq "work"'
		]) {
			const bad = await expectJson(scim(`/Users?filter=${encodeURIComponent(filter)}`), 400);
			expect(bad).toMatchObject({ status: '400', scimType: 'invalidFilter' });
		}
	});

	it('a new sandbox token replaces the previous one for external clients; the connector keeps working', async () => {
		const next = await expectJson(api(`/api/sandbox/${emptyId}/token`, { token: owner, body: {} }), 201);
		expect(next).toEqual({
			systemId: emptyId,
			baseUrl: `${ORIGIN}/api/sandbox/${emptyId}/scim/v2`,
			token: expect.stringMatching(/^[\w-]{43}$/)
		});
		expect((await scim('/Users')).status).toBe(401);
		expect((await scim('/Users', { token: next.token })).status).toBe(200);
		scimToken = next.token;
		await (await connectorFor(env, emptyId)).read();
		await expectJson(api(`/api/sandbox/${OPS.id}/token`, { token: await tokenFor('reviewer'), body: {} }), 403);
		await expectJson(api('/api/sandbox/sys_nope/token', { token: owner, body: {} }), 404);
	});

	it("Team Manager's record routes: token before anything, a bad id or body is a 4xx, never a 500", async () => {
		const writes = async () => (await env.SANDBOXES.getByName(emptyId).info()).scimWrites;
		const before = await writes();
		expect((await scim('/Events/%zz', { token: null })).status).toBe(401);
		expect((await scim('/Events', { token: null, body: { title: 'x' } })).status).toBe(401);
		// A SCIM write nobody was allowed to make is neither counted nor stored.
		expect((await scim('/Users', { token: null, body: { userName: 'nobody@example.org' } })).status).toBe(401);
		expect(await writes()).toBe(before);
		expect(await expectJson(scim('/Events/%zz'), 400)).toMatchObject({ error: 'invalid' });
		const plain = await api(`/api/sandbox/${emptyId}/scim/v2/Events`, {
			method: 'POST',
			headers: { authorization: `Bearer ${scimToken}`, 'content-type': 'text/plain' },
			body: '{}'
		});
		expect(plain.status).toBe(415);
		const huge = await api(`/api/sandbox/${emptyId}/scim/v2/Events`, {
			method: 'POST',
			headers: { authorization: `Bearer ${scimToken}`, 'content-type': 'application/json' },
			body: JSON.stringify({ title: 'x'.repeat(3_000_000) })
		});
		expect(huge.status).toBe(413);
		const many = { sourceId: 's', title: 't', type: 'fire', startedAt: 'a', endedAt: 'b' };
		const tooMany = Array.from({ length: 1001 }, (_, i) => ({ personId: `p${i}`, role: 'r', from: 'a', to: 'b' }));
		expect((await scim('/Events', { body: { ...many, people: tooMany } })).status).toBe(400);
	});

	it("Team Manager's records: one record per idempotency key, and a key of the other kind is refused", async () => {
		const record = { sourceId: 'inc-9', title: 'Drill', type: 'exercise', startedAt: 'a', endedAt: 'b', people: [] };
		const first = await expectJson(scim('/IncidentReports', { body: { ...record, idempotencyKey: 'idem-9' } }), 201);
		const again = await expectJson(scim('/IncidentReports', { body: { ...record, idempotencyKey: 'idem-9' } }), 200);
		expect(again).toEqual(first);
		expect(await expectJson(scim('/Events', { body: { ...record, idempotencyKey: 'idem-9' } }), 422)).toEqual({
			error: 'idempotency-key-reused',
			message: 'idempotency key "idem-9" already holds an incident report'
		});
		const events = await expectJson(scim('/Events'), 200);
		expect(events.records.filter((r: { sourceId: string }) => r.sourceId === 'inc-9')).toEqual([]);
	});

	it('deleting a sandbox system wipes its directory', async () => {
		const created = await expectJson(
			api('/api/systems', { token: owner, body: { name: 'Doomed', connector: 'sandbox', region: 'eu' } }),
			201
		);
		const c = await connectorFor(env, created.id);
		await c.apply(ops.createPerson({ externalId: 'd1', displayName: 'D', email: 'd1@example.org' }), resolve);
		expect((await api(`/api/systems/${created.id}`, { method: 'DELETE', token: owner })).status).toBe(204);
		expect(await env.SANDBOXES.getByName(created.id).info()).toMatchObject({ people: 0, tokens: [] });
		expect(await account(env).getSystem(created.id)).toBeNull();
	});
});
