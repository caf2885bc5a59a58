/**
 * A paged read of a sandbox sees one version of the directory from its first page to its last,
 * whatever is written between the pages; the next read sees the writes. And the connector, reading
 * a sandbox that a run keeps writing into, reads it the first time instead of giving up.
 */
import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../worker/crypto';
import { ScimConnector } from '../../worker/connectors/scim';
import type { SandboxDO } from '../../worker/sandbox/sandbox-do';
import { ops } from '../support/scim-ops';
import { unique } from './support';

const BASE = 'https://sandbox.internal/scim/v2';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const TOKEN = 'views-test-token';

type Json = Record<string, any>;

/** A sandbox with `people` people and `groups` groups, each person in a group or two. */
async function sandbox(people: number, groups: number) {
	const id = unique('views');
	const stub = env.SANDBOXES.getByName(id);
	await stub.setup({ systemId: id, customAttributes: [], internalTokenHash: await sha256Hex(TOKEN) });
	const pid = (i: number) => `p-${String(i).padStart(3, '0')}`;
	const gid = (i: number) => `g-${String(i).padStart(2, '0')}`;
	await stub.seed({
		people: Array.from({ length: people }, (_, i) => ({
			id: pid(i),
			displayName: `Person ${i}`,
			email: `p${i}@example.org`,
			active: true
		})),
		groups: Array.from({ length: groups }, (_, i) => ({ id: gid(i), name: `Group ${i}`, kind: 'group' as const })),
		memberships: Array.from({ length: people }, (_, i) => [
			{ groupId: gid(i % groups), personId: pid(i), role: 'member' as const },
			...(i % 3 === 0 ? [{ groupId: gid((i + 1) % groups), personId: pid(i), role: 'manager' as const }] : [])
		]).flat()
	});
	return { id, stub, pid, gid };
}

/** One SCIM request to the sandbox's handler. */
async function call(
	id: string,
	path: string,
	init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}
) {
	return runInDurableObject(env.SANDBOXES.getByName(id), async (instance: SandboxDO) => {
		const res = await instance.fetch(
			new Request(`${BASE}${path}`, {
				method: init.method ?? 'GET',
				headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json', ...init.headers },
				body: init.body === undefined ? undefined : JSON.stringify(init.body)
			})
		);
		const text = await res.text();
		return { status: res.status, etag: res.headers.get('etag'), body: text ? (JSON.parse(text) as Json) : undefined };
	});
}

/** The writes tried between pages: through SCIM (each of the sandbox's write paths) and as core ops. */
const WRITES = [
	'create-user',
	'rename-user',
	'delete-user',
	'deactivate-user',
	'put-user',
	'add-member',
	'remove-member',
	'set-managers',
	'rename-group',
	'delete-group',
	'create-group',
	'op-update-person',
	'op-remove-person',
	'op-membership',
	'op-update-group'
] as const;
type Write = (typeof WRITES)[number];

async function write(
	id: string,
	kind: Write,
	n: number,
	pick: (what: 'user' | 'group') => Promise<string | undefined>
) {
	const apply = (o: Parameters<SandboxDO['applyOps']>[0][number]) => env.SANDBOXES.getByName(id).applyOps([o]);
	const user = await pick('user');
	const group = await pick('group');
	switch (kind) {
		case 'create-user':
			return call(id, '/Users', {
				method: 'POST',
				body: { userName: `new-${n}@example.org`, displayName: `New ${n}` }
			});
		case 'create-group':
			return call(id, '/Groups', {
				method: 'POST',
				body: { displayName: `New group ${n}`, members: user ? [{ value: user }] : [] }
			});
		case 'rename-user':
		case 'deactivate-user':
			if (!user) return;
			return call(id, `/Users/${user}`, {
				method: 'PATCH',
				body: {
					schemas: [PATCH_OP],
					Operations: [
						kind === 'rename-user'
							? { op: 'Replace', path: 'displayName', value: `Renamed ${n}` }
							: { op: 'replace', value: { active: 'False' } }
					]
				}
			});
		case 'put-user':
			if (!user) return;
			return call(id, `/Users/${user}`, {
				method: 'PUT',
				body: { userName: `put-${n}@example.org`, displayName: `Put ${n}` }
			});
		case 'delete-user':
			return user && call(id, `/Users/${user}`, { method: 'DELETE' });
		case 'add-member':
		case 'remove-member':
			if (!user || !group) return;
			return call(id, `/Groups/${group}`, {
				method: 'PATCH',
				body: {
					schemas: [PATCH_OP],
					Operations: [
						kind === 'add-member'
							? { op: 'add', path: 'members', value: [{ value: user }] }
							: { op: 'remove', path: `members[value eq "${user}"]` }
					]
				}
			});
		case 'set-managers':
			if (!group) return;
			return call(id, `/Groups/${group}`, {
				method: 'PATCH',
				body: {
					schemas: [PATCH_OP],
					Operations: [
						{
							op: 'replace',
							path: 'urn:rostersync:params:scim:schemas:extension:2.0:Group:managers',
							value: user ? [user] : []
						}
					]
				}
			});
		case 'rename-group':
			if (!group) return;
			return call(id, `/Groups/${group}`, {
				method: 'PATCH',
				body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: `Renamed group ${n}` }] }
			});
		case 'delete-group':
			return group && call(id, `/Groups/${group}`, { method: 'DELETE' });
		case 'op-update-person':
			return user && apply(ops.updatePerson(user, { displayName: `Op ${n}` }));
		case 'op-remove-person':
			return user && apply(ops.removePerson(user, n % 2 === 0));
		case 'op-membership':
			return user && group && apply(ops.addMembership(group, user, 'manager'));
		case 'op-update-group':
			return group && apply(ops.updateGroup(group, { name: `Op group ${n}` }));
	}
}

describe('read views', () => {
	test.prop(
		[
			fc.constantFrom('Users', 'Groups'),
			fc.integer({ min: 1, max: 7 }),
			fc.array(fc.array(fc.tuple(fc.constantFrom(...WRITES), fc.nat(1000)), { maxLength: 3 }), { maxLength: 12 }),
			fc.boolean()
		],
		{ numRuns: 40 }
	)(
		'the pages of one read show one directory, however many writes land between them',
		async (collection, count, between, filtered) => {
			const { id } = await sandbox(23, 4);
			const query = filtered ? `filter=${encodeURIComponent('displayName co " "')}&` : '';
			// The directory as one page shows it, at the version the paged read starts from.
			const whole = (await call(id, `/${collection}?${query}count=1000`)).body!;
			const live = async () =>
				((await call(id, `/${collection}?count=1000`)).body!.Resources as Json[]).map((r) => r.id);
			let n = 0;
			// Records to write to are picked from the directory as the core sees it, not through SCIM.
			const pick = async (what: 'user' | 'group') => {
				const snap = await env.SANDBOXES.getByName(id).snapshot();
				const ids = (what === 'user' ? snap.people : snap.groups).map((r) => r.id);
				return ids.length === 0 ? undefined : ids[n % ids.length];
			};
			const pages: Json[] = [];
			const tags = new Set<string | null>();
			for (let start = 1, i = 0; ; start += count, i++) {
				const page = await call(id, `/${collection}?${query}startIndex=${start}&count=${count}`);
				expect(page.status).toBe(200);
				tags.add(page.etag);
				pages.push(page.body!);
				if (start + count > whole.totalResults) break;
				for (const [kind, k] of between[i] ?? []) {
					n = k;
					await write(id, kind, k, pick);
				}
			}
			expect(tags.size).toBe(1);
			expect(pages.map((p) => p.totalResults)).toEqual(pages.map(() => whole.totalResults));
			expect(pages.flatMap((p) => p.Resources)).toEqual(whole.Resources);
			// A read started now sees every write.
			const after = (await call(id, `/${collection}?count=1000`)).body!;
			expect(after.Resources.map((r: Json) => r.id)).toEqual(await live());
		}
	);

	it('a later read sees the writes; If-Match keeps a read on its version, and a gone version is a 412', async () => {
		const { id, pid } = await sandbox(5, 2);
		const first = await call(id, '/Users?startIndex=1&count=2');
		expect(first.body!.totalResults).toBe(5);
		await call(id, `/Users/${pid(0)}`, { method: 'DELETE' });
		await call(id, '/Users', { method: 'POST', body: { userName: 'late@example.org' } });
		// Groups read at the Users' version: the deleted person is still a member there.
		const groups = await call(id, '/Groups?count=10', { headers: { 'if-match': first.etag! } });
		expect(groups.etag).toBe(first.etag);
		expect(groups.body!.Resources.flatMap((g: Json) => g.members.map((m: Json) => m.value))).toContain(pid(0));
		const rest = await call(id, '/Users?startIndex=3&count=10', { headers: { 'if-match': first.etag! } });
		expect([...first.body!.Resources, ...rest.body!.Resources].map((u: Json) => u.id)).toEqual(
			[0, 1, 2, 3, 4].map(pid)
		);
		const fresh = await call(id, '/Users?count=10');
		expect(fresh.etag).not.toBe(first.etag);
		expect(fresh.body!.totalResults).toBe(5);
		expect(fresh.body!.Resources.map((u: Json) => u.id)).not.toContain(pid(0));
		expect((await call(id, '/Users', { headers: { 'if-match': 'W/"gone.1"' } })).status).toBe(412);
	});

	it('the connector reads a directory that keeps changing under it the first time, as one version', async () => {
		const { id, stub } = await sandbox(40, 3);
		const requests: string[] = [];
		let writes = 0;
		const connector = new ScimConnector({
			systemId: id,
			token: TOKEN,
			baseUrl: BASE,
			pageSize: 7,
			fetch: async (input, init) => {
				requests.push(`${init.method ?? 'GET'} ${new URL(input).pathname}`);
				const response = await stub.fetch(input, init);
				// A run writing between every two pages: a person created, one deleted.
				if (/\/(Users|Groups)\?/.test(input)) {
					writes++;
					await call(id, '/Users', { method: 'POST', body: { userName: `during-${writes}@example.org` } });
					await call(id, `/Users/p-${String(writes).padStart(3, '0')}`, { method: 'DELETE' });
				}
				return response;
			}
		});
		const snapshot = await connector.read();
		expect(snapshot.people).toHaveLength(40);
		expect(snapshot.people.some((p) => p.displayName.startsWith('during'))).toBe(false);
		// Users read once (6 pages of 7), Groups once: no read was thrown away.
		expect(requests.filter((r) => r === 'GET /scim/v2/Users')).toHaveLength(6);
		expect(requests.filter((r) => r === 'GET /scim/v2/Groups')).toHaveLength(1);
	});
});
