/**
 * The SCIM connector against plain SCIM (tests/support/scim-plain.ts), a server configured as
 * many real ones are: the shared suite, plus what only this server does. The core User schema
 * and nothing else (no employeeNumber, no Rostersync extensions), userName kept as given but
 * unique regardless of case behind a case-sensitive filter, no Bulk, no sort, no ETag, and
 * `active` answered as "True"/"False" strings as Microsoft Entra does.
 */
import { describe, expect, it } from 'vitest';
import { connectorError, describeScimServer, unique } from '../support/scim-suite';
import { ops, resolve } from '../support/scim-ops';
import { startPlainScimProcess, type PlainProcess } from '../support/scim-plain-process';
import { listResources, plainSeed, plainState } from '../support/scim-peers';
import { eq } from '../../worker/connectors/scim';

const server = describeScimServer({
	name: 'plain',
	start: () => startPlainScimProcess(),
	enterprise: false,
	buildings: false,
	groupExtension: false
});
const peer = () => server.peer() as PlainProcess;

describe('SCIM connector against plain SCIM: what this server lacks or does its own way', () => {
	it('is the plain server: the core User schema only, no Bulk, no sort, no ETag', async () => {
		expect(peer().quirks).toEqual({ enterprise: false, active: 'string', bulk: false, sort: false });
		const res = await fetch(`${peer().url}/ResourceTypes`, { headers: { authorization: `Bearer ${peer().token}` } });
		const types = (await res.json()).Resources as { name: string; schemaExtensions?: unknown[] }[];
		expect(types.map((t) => [t.name, t.schemaExtensions ?? []])).toEqual([
			['User', []],
			['Group', []]
		]);
	});

	it('discovers no employee number, buildings, kinds or roles, and no bulk or sort', async () => {
		const c = server.connector();
		expect(await c.discover()).toEqual({
			write: true,
			groups: true,
			roles: false,
			groupKinds: false,
			filter: true,
			softRemove: true,
			personFields: ['displayName', 'givenName', 'familyName', 'email', 'phone', 'memberType', 'active'],
			customFields: [],
			access: 'entitlements'
		});
		expect(c.features).toEqual({
			patch: true,
			bulk: false,
			sort: false,
			etag: false,
			filter: true,
			filterMaxResults: 200
		});
	});

	it('a field mapped into an extension it lacks is not a field it has: never read as empty, never written', async () => {
		const c = server.connector({
			fieldMap: {
				department: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department',
				title: 'title'
			}
		});
		// What a link plans from: the fields a system has (worker/link/planning.ts).
		expect((await c.discover()).customFields).toEqual(['title']);
		const handle = unique('dep');
		const { id } = await c.apply(
			ops.createPerson({ externalId: handle, displayName: 'Dep', email: `${handle}@example.org` }),
			resolve
		);
		expect(await connectorError(c.apply(ops.updatePerson(id!, { 'custom:department': 'Ops' }), resolve))).toMatchObject(
			{
				recordKind: 'person',
				recordId: id,
				field: 'custom:department'
			}
		);
	});

	it('creates without the enterprise extension, and refuses an employee number it cannot store', async () => {
		const c = server.connector();
		const handle = unique('emp');
		const { id } = await c.apply(
			ops.createPerson({
				externalId: handle,
				displayName: 'Emp',
				email: `${handle}@example.org`,
				employeeNumber: '42'
			}),
			resolve
		);
		const stored = (await plainState(peer())).users.find((u) => u.id === id);
		expect(stored).toMatchObject({ userName: `${handle}@example.org`, externalId: handle });
		expect(Object.keys(stored!).filter((k) => k.startsWith('urn:'))).toEqual([]);
		expect(await connectorError(c.apply(ops.updatePerson(id!, { employeeNumber: '43' }), resolve))).toMatchObject({
			code: 'unsupported',
			recordKind: 'person',
			recordId: id,
			field: 'employeeNumber'
		});
	});

	it('reads `active` answered as the strings "True" and "False" as the booleans they mean', async () => {
		const c = server.connector();
		const [kept, removed] = [await server.createPerson({}, c), await server.createPerson({}, c)];
		await c.apply(ops.removePerson(removed, true), resolve);
		const raw = await listResources(peer(), 'Users', eq('id', removed));
		expect(raw.map((u) => u.active)).toEqual(['False']);
		const [one] = await listResources(peer(), 'Users', eq('id', kept));
		expect(one.active).toBe('True');

		const snapshot = await c.read();
		expect(snapshot.people.find((p) => p.id === kept)?.active).toBe(true);
		expect(snapshot.people.find((p) => p.id === removed)?.active).toBe(false);
		expect((await c.findPeople(eq('id', removed)))[0]?.active).toBe(false);
	});

	it('keeps a userName as given and filters it case-sensitively', async () => {
		const c = server.connector();
		const handle = unique('Mixed');
		const id = await server.createPerson({ email: `${handle}@Example.org` }, c);
		expect((await plainState(peer())).users.find((u) => u.id === id)?.userName).toBe(`${handle}@Example.org`);
		expect((await c.findPeople(eq('userName', `${handle}@Example.org`))).map((p) => p.id)).toEqual([id]);
		expect(await c.findPeople(eq('userName', `${handle.toLowerCase()}@example.org`))).toEqual([]);
	});

	it('a userName taken in another case is a conflict naming the holder, though the filter cannot find it as sent', async () => {
		const c = server.connector();
		const handle = unique('Kim.Lee');
		// Made by another tool before sync, as a directory's own records are: mixed case, no externalId.
		const {
			users: [holder]
		} = await plainSeed(peer(), {
			users: [{ userName: `${handle}@Example.org`, displayName: 'Kim Lee', active: true }]
		});
		const error = await connectorError(
			c.apply(
				ops.createPerson({
					externalId: unique('kim'),
					displayName: 'Kim Lee',
					email: `${handle.toLowerCase()}@example.org`
				}),
				resolve
			)
		);
		expect(error).toMatchObject({
			code: 'conflict',
			status: 409,
			scimType: 'uniqueness',
			system: 'plain-system',
			recordKind: 'person',
			field: 'userName',
			existingId: holder.id
		});
	});

	it('answers POST /Bulk with 501, as it announces', async () => {
		const res = await fetch(`${peer().url}/Bulk`, {
			method: 'POST',
			headers: { authorization: `Bearer ${peer().token}`, 'content-type': 'application/scim+json' },
			body: JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: [] })
		});
		expect(res.status).toBe(501);
	});
});
