/**
 * What SCIM servers nobody here wrote do, on a scripted server whose every habit a test sets:
 * a userName kept in the case it was given and filtered case-sensitively (a 409 the filter cannot
 * explain), filters refused on some attributes, startIndex ignored, no enterprise extension, a
 * core User schema that declares only some attributes, and Entra's booleans as strings.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ScimConnector } from '../../worker/connectors/scim';
import { connectorError, instantClock } from '../support/scim-suite';
import { ops, resolve } from '../support/scim-ops';

const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

type Resource = Record<string, unknown> & { id: string };

interface Habits {
	/** /ServiceProviderConfig announces filtering (default true). */
	filter?: boolean;
	/** Attributes whose filter is refused with 400 invalidFilter. */
	refusedFilters?: string[];
	/** Pages always start at 1, whatever startIndex says. */
	ignoresStartIndex?: boolean;
	/** /ResourceTypes lists the enterprise extension on User (default false). */
	enterprise?: boolean;
	/** The core User attributes /Schemas declares (default: every one the connector uses). */
	coreAttributes?: string[];
	/** The 409 is about something the client cannot look up: no record holds the userName. */
	opaqueConflict?: boolean;
}

const ALL_CORE = ['userName', 'displayName', 'name', 'emails', 'phoneNumbers', 'userType', 'active', 'externalId'];

interface Scripted {
	connector: ScimConnector;
	users: Resource[];
	/** Requests, as "METHOD path?query" (query decoded). */
	log: string[];
	/** The list requests without discovery: "filter <f>" or "page <startIndex>". */
	lists(): string[];
	posted: Record<string, unknown>[];
}

let server: Server | undefined;
afterEach(async () => {
	server?.closeAllConnections();
	await new Promise((done) => server?.close(done) ?? done(undefined));
	server = undefined;
});

const user = (n: number, extra: Record<string, unknown> = {}): Resource => ({
	schemas: [CORE_USER],
	id: `u${n}`,
	userName: `user${n}@example.org`,
	displayName: `User ${n}`,
	active: true,
	...extra
});

async function scripted(users: Resource[], habits: Habits = {}): Promise<Scripted> {
	const log: string[] = [];
	const posted: Record<string, unknown>[] = [];
	server = createServer((req, res) => {
		const url = new URL(req.url ?? '/', 'http://localhost');
		const path = url.pathname.replace('/scim/v2', '');
		log.push(`${req.method} ${path}${url.search ? `?${decodeURIComponent(url.search.slice(1))}` : ''}`);
		const send = (status: number, body: unknown) => {
			res.writeHead(status, { 'content-type': 'application/scim+json' });
			res.end(JSON.stringify(body));
		};
		const error = (status: number, detail: string, scimType?: string) =>
			send(status, {
				schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
				status: String(status),
				scimType,
				detail
			});
		const list = (resources: unknown[]) =>
			send(200, { totalResults: resources.length, Resources: resources, startIndex: 1 });

		if (path === '/ServiceProviderConfig')
			return send(200, { patch: { supported: true }, filter: { supported: habits.filter ?? true, maxResults: 100 } });
		if (path === '/ResourceTypes')
			return list([
				{
					name: 'User',
					endpoint: '/Users',
					schema: CORE_USER,
					...(habits.enterprise ? { schemaExtensions: [{ schema: ENTERPRISE, required: false }] } : {})
				}
			]);
		if (path === '/Schemas')
			return list([
				{
					id: CORE_USER,
					attributes: (habits.coreAttributes ?? ALL_CORE).map((name) => ({ name, type: 'string' }))
				}
			]);
		if (path !== '/Users') return error(404, 'Endpoint Not Found');

		if (req.method === 'POST') {
			let text = '';
			req.on('data', (chunk) => (text += chunk));
			req.on('end', () => {
				const body = JSON.parse(text) as Record<string, unknown>;
				posted.push(body);
				const userName = String(body.userName);
				const taken = users.some((u) => String(u.userName).toLowerCase() === userName.toLowerCase());
				if (taken || habits.opaqueConflict) return error(409, 'that value is already in use', 'uniqueness');
				const created = { ...body, id: `u${users.length + 1}` } as Resource;
				users.push(created);
				send(201, created);
			});
			return;
		}

		const filter = url.searchParams.get('filter');
		let matching = users;
		if (filter) {
			const parsed = /^(\w+) eq "(.*)"$/.exec(filter);
			if (!parsed || habits.refusedFilters?.includes(parsed[1]))
				return error(400, `cannot filter on ${parsed?.[1] ?? filter}`, 'invalidFilter');
			// Case-sensitive, as SCIMMY and many directories compare.
			matching = users.filter((u) => u[parsed[1]] === parsed[2]);
		}
		const start = habits.ignoresStartIndex ? 1 : Number(url.searchParams.get('startIndex') ?? 1);
		const count = Number(url.searchParams.get('count') ?? 100);
		send(200, {
			schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
			totalResults: matching.length,
			startIndex: start,
			Resources: matching.slice(start - 1, start - 1 + count)
		});
	});
	await new Promise<void>((done) => server!.listen(0, '127.0.0.1', done));
	const { port } = server.address() as AddressInfo;
	const connector = new ScimConnector({
		systemId: 'scripted',
		baseUrl: `http://127.0.0.1:${port}/scim/v2`,
		token: 't',
		clock: instantClock,
		pageSize: 3
	});
	return {
		connector,
		users,
		log,
		posted,
		lists: () =>
			log
				.filter((l) => l.startsWith('GET /Users?'))
				.map((l) => {
					const q = new URLSearchParams(l.slice('GET /Users?'.length));
					return q.get('filter') ? `filter ${q.get('filter')}` : `page ${q.get('startIndex')}`;
				})
	};
}

/** Ten users, three a page; the holder of ZOE.110@EXAMPLE.ORG is u5, on the second page. */
const directory = (holder: Record<string, unknown> = {}) =>
	Array.from({ length: 10 }, (_, i) =>
		i === 4 ? user(5, { userName: 'ZOE.110@EXAMPLE.ORG', externalId: 'HR-5', ...holder }) : user(i + 1)
	);

const zoe = (externalId = 'E-110') =>
	ops.createPerson({ externalId, displayName: 'Zoe', email: 'zoe.110@example.org' });

describe('a 409 whose holder the filter cannot find', () => {
	it('is found by a scan that stops at the first hit, and named: field, value sent, value held', async () => {
		const s = await scripted(directory());
		const error = await connectorError(s.connector.apply(zoe(), resolve));
		expect(error).toMatchObject({
			code: 'conflict',
			status: 409,
			scimType: 'uniqueness',
			recordKind: 'person',
			recordId: 'E-110',
			field: 'userName',
			existingId: 'u5'
		});
		expect(error.detail).toContain(
			'userName "zoe.110@example.org" is already held by person u5 as "ZOE.110@EXAMPLE.ORG"'
		);
		expect(error.detail).toContain('externalId "HR-5"');
		expect(error.toJSON()).toMatchObject({ existingId: 'u5', field: 'userName' });
		// Filters as sent (lower-cased: the same), by externalId, then pages up to the holder's, no further.
		expect(s.lists()).toEqual([
			'filter userName eq "zoe.110@example.org"',
			'filter externalId eq "E-110"',
			'page 1',
			'page 4'
		]);
	});

	it('is our own earlier create when the externalId is ours: its id, even where the externalId filter is refused', async () => {
		const s = await scripted(directory({ externalId: 'E-110' }), { refusedFilters: ['externalId'] });
		expect(await s.connector.apply(zoe('E-110'), resolve)).toEqual({ id: 'u5' });
		expect(s.lists()).toEqual([
			'filter userName eq "zoe.110@example.org"',
			'filter externalId eq "E-110"',
			'page 1',
			'page 4'
		]);
	});

	it('tries the value lower-cased before scanning, for filters that are case-sensitive', async () => {
		const s = await scripted([user(1), user(2, { userName: 'zoe.110@example.org' })]);
		const error = await connectorError(
			s.connector.apply(
				ops.createPerson({ externalId: 'E-110', displayName: 'Zoe', email: 'Zoe.110@Example.org' }),
				resolve
			)
		);
		expect(error).toMatchObject({ code: 'conflict', existingId: 'u2', field: 'userName' });
		expect(s.lists()).toEqual(['filter userName eq "Zoe.110@Example.org"', 'filter userName eq "zoe.110@example.org"']);
	});

	it('is scanned for at once where the server does not filter', async () => {
		const s = await scripted(directory(), { filter: false });
		const error = await connectorError(s.connector.apply(zoe(), resolve));
		expect(error).toMatchObject({ code: 'conflict', existingId: 'u5' });
		expect(s.lists()).toEqual(['page 1', 'page 4']);
	});

	it('stays a conflict without a holder when nobody holds the value, after one pass over the directory', async () => {
		const s = await scripted(directory(), { opaqueConflict: true });
		const error = await connectorError(
			s.connector.apply(
				ops.createPerson({ externalId: 'E-9', displayName: 'Nine', email: 'nine@example.org' }),
				resolve
			)
		);
		expect(error).toMatchObject({ code: 'conflict', status: 409, field: 'userName' });
		expect(error.existingId).toBeUndefined();
		expect(s.lists().filter((l) => l.startsWith('page'))).toEqual(['page 1', 'page 4', 'page 7', 'page 10']);
	});

	it('ends the scan on a server that ignores startIndex', async () => {
		const s = await scripted(directory(), { opaqueConflict: true, ignoresStartIndex: true });
		const error = await connectorError(
			s.connector.apply(
				ops.createPerson({ externalId: 'E-9', displayName: 'Nine', email: 'nine@example.org' }),
				resolve
			)
		);
		expect(error.existingId).toBeUndefined();
		// The second page brought nothing new: the same first page again.
		expect(s.lists().filter((l) => l.startsWith('page'))).toEqual(['page 1', 'page 4']);
	});
});

describe('what the server declares it holds', () => {
	it('without the enterprise extension in /ResourceTypes: no employee number, and none sent', async () => {
		const s = await scripted([user(1)]);
		const caps = await s.connector.discover();
		expect(caps.personFields).not.toContain('employeeNumber');
		await s.connector.apply(
			ops.createPerson({ externalId: 'E-1', displayName: 'A', email: 'a@example.org', employeeNumber: '42' }),
			resolve
		);
		expect(s.posted[0][ENTERPRISE]).toBeUndefined();
		expect(s.posted[0].schemas).toEqual([CORE_USER]);
		expect(
			await connectorError(s.connector.apply(ops.updatePerson('u1', { employeeNumber: '7' }), resolve))
		).toMatchObject({ code: 'unsupported', field: 'employeeNumber' });
	});

	it('with it: the employee number', async () => {
		const s = await scripted([user(1)], { enterprise: true });
		expect((await s.connector.discover()).personFields).toContain('employeeNumber');
	});

	it('a core User schema that declares only some attributes: only their fields, and only they are sent', async () => {
		const s = await scripted([user(1)], { coreAttributes: ['userName', 'displayName', 'emails', 'externalId'] });
		const caps = await s.connector.discover();
		expect(caps.personFields).toEqual(['displayName', 'email']);
		expect(caps.softRemove).toBe(false);
		await s.connector.apply(
			ops.createPerson({
				externalId: 'E-1',
				displayName: 'A',
				givenName: 'Ada',
				email: 'a@example.org',
				phone: '+1 555 0100',
				memberType: 'staff'
			}),
			resolve
		);
		expect(Object.keys(s.posted[0]).sort()).toEqual(['displayName', 'emails', 'externalId', 'schemas', 'userName']);
		expect(await connectorError(s.connector.apply(ops.updatePerson('u1', { phone: '+1' }), resolve))).toMatchObject({
			code: 'unsupported',
			field: 'phone'
		});
	});
});

describe("Entra's booleans", () => {
	it('reads "True" / "False" in any case as booleans, for active and primary; refuses other words', async () => {
		const s = await scripted([
			user(1, { active: 'False' }),
			user(2, { active: ' TRUE ' }),
			user(3, {
				active: 'false',
				emails: [
					{ value: 'other@example.org', type: 'home' },
					{ value: 'main@example.org', type: 'other', primary: 'True' }
				],
				phoneNumbers: [{ type: 'work', value: null }, { value: '+1 555 0100' }]
			})
		]);
		const people = (await s.connector.read()).people;
		expect(people.map((p) => [p.id, p.active])).toEqual([
			['u1', false],
			['u2', true],
			['u3', false]
		]);
		expect(people[2]).toMatchObject({ email: 'main@example.org', phone: '+1 555 0100' });

		s.users.push(user(4, { active: 'yes' }));
		const error = await connectorError(s.connector.read());
		expect(error).toMatchObject({ code: 'invalid', recordId: 'u4', field: 'active' });
	});
});
