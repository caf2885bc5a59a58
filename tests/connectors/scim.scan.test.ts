/**
 * `scan` when the directory misbehaves: a small scripted SCIM server whose content a test can
 * change between two list requests (totalResults moving, records shifting, a member appearing
 * between the Users and the Groups pages), and pages carrying bad records. The happy path runs
 * against the real servers in the shared suite (tests/support/scim-suite.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ScimConnector, type FetchLike, type ScimOptions } from '../../worker/connectors/scim';
import { RecordingSink, connectorError, instantClock } from '../support/scim-suite';

type Resource = Record<string, unknown>;

interface Directory {
	users: Resource[];
	groups: Resource[];
}

/**
 * A list request as the script sees it: which collection, how many list requests it got so far
 * (1-based), and how many resources it asked for.
 */
interface ListRequest {
	collection: 'Users' | 'Groups';
	n: number;
	count: number;
}

const user = (n: number): Resource => ({
	schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
	id: `u${n}`,
	userName: `user${n}@example.org`,
	displayName: `User ${n}`,
	active: true
});

const group = (n: number, members: string[]): Resource => ({
	schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
	id: `g${n}`,
	displayName: `Group ${n}`,
	members: members.map((value) => ({ value, type: 'User' }))
});

/** Seven users (three pages of 3) and four groups (two pages), u1..u4 in groups. */
function directory(): Directory {
	return {
		users: Array.from({ length: 7 }, (_, i) => user(i + 1)),
		groups: [group(1, ['u1', 'u2']), group(2, ['u3']), group(3, []), group(4, ['u4', 'u1'])]
	};
}

let server: Server | undefined;
afterEach(async () => {
	server?.closeAllConnections();
	await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
	server = undefined;
});

/**
 * Serves `dir` as /Users and /Groups (no discovery endpoints: the connector probes /Groups).
 * `before` runs ahead of each paged list request and may change `dir`.
 */
async function scripted(
	dir: Directory,
	before: (request: ListRequest, dir: Directory) => void = () => {},
	fetch?: FetchLike,
	options: Partial<ScimOptions> = {}
): Promise<ScimConnector> {
	const counts = { Users: 0, Groups: 0 };
	server = createServer((req, res) => {
		const url = new URL(req.url ?? '/', 'http://localhost');
		const send = (status: number, body: unknown) => {
			res.writeHead(status, { 'content-type': 'application/scim+json' });
			res.end(JSON.stringify(body));
		};
		const collection = url.pathname.replace('/scim/v2/', '');
		if (req.method !== 'GET' || (collection !== 'Users' && collection !== 'Groups')) {
			return send(404, {
				schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
				status: '404',
				detail: 'Endpoint Not Found'
			});
		}
		// The discovery probe (`count=1`, no startIndex) is not part of a read.
		if (url.searchParams.has('startIndex'))
			before({ collection, n: ++counts[collection], count: Number(url.searchParams.get('count')) }, dir);
		const all = collection === 'Users' ? dir.users : dir.groups;
		const start = Math.max(1, Number(url.searchParams.get('startIndex') ?? 1));
		const page = all.slice(start - 1, start - 1 + Number(url.searchParams.get('count') ?? 100));
		send(200, {
			schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
			totalResults: all.length,
			startIndex: start,
			itemsPerPage: page.length,
			Resources: page
		});
	});
	await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	return new ScimConnector({
		systemId: 'scan-system',
		baseUrl: `http://127.0.0.1:${port}/scim/v2`,
		token: 't',
		clock: instantClock,
		pageSize: 3,
		fetch,
		...options
	});
}

/**
 * A fetch under which the third Users page reaches the connector before the second: the second is
 * held until the third has been answered and a task has passed (by then the third is handled).
 */
function thirdPageFirst(): FetchLike {
	let release!: () => void;
	const thirdDone = new Promise<void>((resolve) => (release = resolve));
	return async (input, init) => {
		const response = await globalThis.fetch(input, init);
		const page = /\/Users\?/.test(input) ? new URL(input).searchParams.get('startIndex') : null;
		if (page !== '4' && page !== '7') return response;
		const body = await response.text();
		if (page === '4') await thirdDone;
		else setTimeout(release, 0);
		return new Response(body, { status: response.status, headers: response.headers });
	};
}

const ids = (records: { id?: unknown }[]) => records.map((r) => String(r.id));

describe('SCIM scan when the directory changes while it is read', () => {
	it.each([
		{
			case: 'a person added after the first Users page (totalResults grows)',
			change: (r: ListRequest, dir: Directory) => r.collection === 'Users' && r.n === 2 && dir.users.push(user(8))
		},
		{
			case: 'a person deleted after the first Users page (the rest shift back a place)',
			change: (r: ListRequest, dir: Directory) => r.collection === 'Users' && r.n === 2 && dir.users.splice(4, 1)
		},
		{
			case: 'a group added after the first Groups page',
			change: (r: ListRequest, dir: Directory) =>
				r.collection === 'Groups' && r.n === 2 && dir.groups.push(group(5, ['u7']))
		},
		{
			case: 'a person created and made a member between the Users and the Groups pages',
			change: (r: ListRequest, dir: Directory) => {
				if (r.collection !== 'Groups' || r.n !== 1) return;
				dir.users.push(user(8));
				(dir.groups[0].members as unknown[]).push({ value: 'u8', type: 'User' });
			}
		}
	])('$case: restarts the sink once, then writes the whole directory', async ({ change }) => {
		const dir = directory();
		const sink = new RecordingSink();
		await (await scripted(dir, change)).scan(sink);

		expect(sink.calls.filter((call) => call === 'restart')).toHaveLength(1);
		const { people, groups, memberships } = sink.snapshot();
		expect(ids(people)).toEqual(ids(dir.users).sort());
		expect(ids(groups)).toEqual(ids(dir.groups).sort());
		const expected = dir.groups
			.flatMap((g) => (g.members as { value: string }[]).map((m) => `${g.id}:${m.value}`))
			.sort();
		expect(memberships.map((m) => `${m.groupId}:${m.personId}`)).toEqual(expected);
		expect(sink.orphans).toEqual([]);
	});

	it('a member that keeps appearing is left out on the last attempt, the rest kept', async () => {
		const dir = directory();
		// Every pass over the Groups names a person the Users pages never had.
		(dir.groups[1].members as unknown[]).push({ value: 'u99', type: 'User' });
		const sink = new RecordingSink();
		await (await scripted(dir)).scan(sink);
		expect(sink.calls.filter((call) => call === 'restart')).toHaveLength(2);
		expect(
			sink
				.snapshot()
				.memberships.filter((m) => m.groupId === 'g2')
				.map((m) => m.personId)
		).toEqual(['u3']);
		expect(sink.orphans).toEqual([]);
	});

	it('gives up with a retryable error when every attempt sees a different directory', async () => {
		let next = 100;
		const sink = new RecordingSink();
		const connector = await scripted(
			directory(),
			(r, dir) => void (r.collection === 'Users' && dir.users.push(user(next++)))
		);
		expect(await connectorError(connector.scan(sink))).toMatchObject({
			code: 'http',
			retryable: true,
			system: 'scan-system'
		});
		expect(sink.calls.filter((call) => call === 'restart')).toHaveLength(2);
	});
});

describe('SCIM scan with bad records', () => {
	it.each([
		{
			case: 'a person on page 2',
			spoil: (dir: Directory) => void (dir.users[4].active = 'yes'),
			expected: [{ record: 'u5', field: 'active', message: expect.stringContaining('boolean') }]
		},
		{
			case: 'a group on page 2',
			spoil: (dir: Directory) => void delete dir.groups[3].displayName,
			expected: [{ record: 'g4', field: 'displayName', message: expect.any(String) }]
		},
		{
			case: 'a person without an id on page 2, named by its place after those with one',
			spoil: (dir: Directory) => void delete dir.users[4].id,
			expected: [{ record: '#7', field: 'id', message: expect.any(String) }]
		},
		{
			case: 'bad people on pages 3 and 2 and a bad group: every one, in listing order, people first',
			spoil: (dir: Directory) => {
				dir.users[6].active = 'no';
				dir.users[3].active = 'yes';
				delete dir.groups[0].displayName;
			},
			expected: [
				{ record: 'u4', field: 'active', message: expect.any(String) },
				{ record: 'u7', field: 'active', message: expect.any(String) },
				{ record: 'g1', field: 'displayName', message: expect.any(String) }
			]
		}
	])(
		'$case: one invalid error naming every bad record; what was written is the caller to discard',
		async ({ spoil, expected }) => {
			const dir = directory();
			spoil(dir);
			const connector = await scripted(dir);
			const sink = new RecordingSink();
			const error = await connectorError(connector.scan(sink));

			expect(error).toMatchObject({
				code: 'invalid',
				system: 'scan-system',
				recordId: expected[0].record,
				field: expected[0].field
			});
			expect(error.issues).toEqual(expected);
			expect(error.message).toContain(
				`system scan-system, record ${expected[0].record}, field ${expected[0].field}: invalid SCIM payload: `
			);
			// A read that throws wrote part of the directory at most, never a bad record, and did not start over.
			expect(sink.calls).not.toContain('restart');
			const bad = new Set(expected.map((x) => x.record));
			expect(sink.records.people.some((p) => bad.has(p.id)) || sink.records.groups.some((g) => bad.has(g.id))).toBe(
				false
			);
			// read() on the same directory fails the same way.
			expect((await connectorError(connector.read())).issues).toEqual(expected);
		}
	);

	it('names the bad records in listing order when a later page arrives first', async () => {
		const dir = directory();
		dir.users[3].active = 'yes';
		dir.users[6].active = 'no';
		const error = await connectorError((await scripted(dir, undefined, thirdPageFirst())).scan(new RecordingSink()));
		expect(error.issues.map((x) => x.record)).toEqual(['u4', 'u7']);
		expect(error.recordId).toBe('u4');
	});

	it('asks for groups in pages of their own size, and reads the whole directory', async () => {
		const dir = directory();
		const asked: string[] = [];
		const sink = new RecordingSink();
		await (
			await scripted(dir, (r) => asked.push(`${r.collection} ${r.count}`), undefined, { groupPageSize: 1 })
		).scan(sink);
		// 7 users in pages of 3, 4 groups one a page (each page of a read asked once: the directory held still).
		expect(asked.filter((a) => a.startsWith('Users'))).toEqual(['Users 3', 'Users 3', 'Users 3']);
		expect(asked.filter((a) => a.startsWith('Groups'))).toEqual(['Groups 1', 'Groups 1', 'Groups 1', 'Groups 1']);
		const { people, groups, memberships } = sink.snapshot();
		expect(ids(people)).toEqual(ids(dir.users).sort());
		expect(ids(groups)).toEqual(ids(dir.groups).sort());
		expect(memberships).toHaveLength(5);
	});
});
