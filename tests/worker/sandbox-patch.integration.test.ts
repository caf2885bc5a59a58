/**
 * The sandbox answers a PATCH that only changes members and managers without rendering the group
 * (a change to a group of 100k costs the change). That shortcut must mean what the general path
 * means (normalize, apply with scim-patch, read the group back): the same operations on twin
 * groups, one of them forced down the general path, give the same answer and the same members.
 */
import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { fc, test } from '@fast-check/vitest';
import { beforeAll, describe, expect } from 'vitest';
import { sha256Hex } from '../../worker/crypto';
import type { SandboxDO } from '../../worker/sandbox/sandbox-do';
import { unique } from './support';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const GROUP_EXT = 'urn:rostersync:params:scim:schemas:extension:2.0:Group';
const TOKEN = 'patch-test-token';
const PEOPLE = ['p-1', 'p-2', 'p-3', 'p-4'];

type Json = Record<string, any>;

let systemId: string;
beforeAll(async () => {
	systemId = unique('patch');
	const stub = env.SANDBOXES.getByName(systemId);
	await stub.setup({ systemId, customAttributes: [], internalTokenHash: await sha256Hex(TOKEN) });
	await stub.seed({
		people: PEOPLE.map((id) => ({ id, displayName: id, email: `${id}@example.org`, active: true })),
		groups: [],
		memberships: []
	});
});

async function call(path: string, method = 'GET', body?: unknown) {
	return runInDurableObject(env.SANDBOXES.getByName(systemId), async (instance: SandboxDO) => {
		const res = await instance.fetch(
			new Request(`https://sandbox.internal/scim/v2${path}`, {
				method,
				headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json' },
				body: body === undefined ? undefined : JSON.stringify(body)
			})
		);
		const text = await res.text();
		return { status: res.status, body: text ? (JSON.parse(text) as Json) : undefined };
	});
}

const arbMember = fc.constantFrom(...PEOPLE, 'ghost');
const arbOp = fc.oneof(
	fc
		.tuple(
			fc.constantFrom('add', 'Add'),
			fc.array(fc.record({ value: arbMember, type: fc.constantFrom(undefined, 'User', 'user') }), {
				minLength: 1,
				maxLength: 2
			})
		)
		.map(([op, value]) => ({ op, path: 'members', value })),
	arbMember.map((id) => ({ op: 'Remove', path: `members[value eq "${id}"]` })),
	fc
		.array(
			arbMember.map((value) => ({ value })),
			{ minLength: 1, maxLength: 2 }
		)
		.map((value) => ({ op: 'remove', path: 'members', value })),
	fc.subarray([...PEOPLE, 'ghost']).map((value) => ({ op: 'replace', path: `${GROUP_EXT}:managers`, value }))
);

describe("a group's member PATCH", () => {
	test.prop([fc.subarray(PEOPLE), fc.subarray(PEOPLE), fc.array(arbOp, { minLength: 1, maxLength: 4 })], {
		numRuns: 150
	})('the shortcut and the general path agree', async (members, managers, ops) => {
		const twins = [];
		for (const name of ['fast', 'general']) {
			const created = await call('/Groups', 'POST', {
				displayName: name,
				members: members.map((value) => ({ value })),
				[GROUP_EXT]: { managers }
			});
			expect(created.status).toBe(201);
			twins.push(created.body!.id as string);
		}
		const [fast, general] = twins;
		// A rename to its own name is a change the shortcut does not take: the general path runs.
		const answers = [
			await call(`/Groups/${fast}`, 'PATCH', { schemas: [PATCH_OP], Operations: ops }),
			await call(`/Groups/${general}`, 'PATCH', {
				schemas: [PATCH_OP],
				Operations: [...ops, { op: 'replace', path: 'displayName', value: 'general' }]
			})
		];
		expect(answers[0].status).toBe(answers[1].status);
		expect(answers[0].body?.scimType).toBe(answers[1].body?.scimType);
		const [a, b] = [(await call(`/Groups/${fast}`)).body!, (await call(`/Groups/${general}`)).body!];
		expect(a.members.map((m: Json) => m.value)).toEqual(b.members.map((m: Json) => m.value));
		expect(a[GROUP_EXT].managers).toEqual(b[GROUP_EXT].managers);
	});
});
