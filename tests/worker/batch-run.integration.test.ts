/**
 * A run that batches, in workerd: a sandbox provisions SCIMMY (which offers Bulk) and another
 * sandbox (which offers Bulk and multi-member PATCH). The writes go in few requests, yet every
 * operation has its own outcome in the journal, and undoing the run takes back exactly what it
 * did, again in batches. The sandbox's /Bulk is also checked as an external client would call it.
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Op, OpOutcome } from '$lib/core';
import type { RunDetails, RunSummary } from '../../worker/link/types';
import { createSandbox } from '../../worker/sandbox/provision';
import { finish, newLink, roster, sandboxSystem, scimmy, scimReset, scimState, scimSystem } from '../support/links';
import { ORIGIN, api, expectJson, tokenFor, unique } from './support';

const target = scimmy('batch');
let owner: string;
beforeAll(async () => {
	owner = await tokenFor('owner');
	await scimReset(target);
});

async function run(linkId: string, undoOf?: string): Promise<RunSummary> {
	const started = await expectJson<RunSummary>(
		undoOf
			? api(`/api/links/${linkId}/runs/${undoOf}/undo`, { method: 'POST', token: owner })
			: api(`/api/links/${linkId}/runs`, { token: owner, body: { dryRun: false } }),
		202
	);
	return finish(linkId, started.id, 120_000);
}

async function journal(linkId: string, runId: string): Promise<{ op: Op; outcome?: OpOutcome }[]> {
	const details = await expectJson<RunDetails>(
		api(`/api/links/${linkId}/runs/${runId}?limit=1000`, { token: owner }),
		200
	);
	return details.ops as { op: Op; outcome?: OpOutcome }[];
}

describe('a run to SCIMMY (Bulk, multi-member PATCH)', () => {
	const records = roster('bt', 90, 3);
	let linkId: string;
	let first: RunSummary;

	it('provisions 90 people in 3 groups in a handful of requests, each operation with its own outcome', async () => {
		const source = await sandboxSystem(records);
		const sink = await scimSystem(owner, target);
		linkId = await newLink(owner, { mode: 'provision', systems: { a: source.id, b: sink.id } });
		await expectJson(api(`/api/links/${linkId}/enable`, { method: 'POST', token: owner }), 200);
		await scimReset(target);
		first = await run(linkId);
		expect(first.status).toBe('done');
		expect(first.tally.done).toBe(first.counts.total);

		const state = await scimState(target);
		expect(state.users).toHaveLength(90);
		expect(state.groups).toHaveLength(3);
		for (const g of state.groups) expect(g.members).toHaveLength(30);
		const writes = state.log.filter((l) => !l.startsWith('GET '));
		// People by Bulk, not one POST each; memberships of a group together, not one PATCH each.
		expect(writes.filter((l) => l.startsWith('POST /Users'))).toHaveLength(0);
		expect(writes.filter((l) => l === 'POST /Bulk').length).toBeGreaterThan(0);
		const memberships = first.counts.byType['add-membership'] ?? 0;
		expect(memberships).toBe(90);
		expect(writes.length).toBeLessThan(30);

		const ops = await journal(linkId, first.id);
		expect(ops).toHaveLength(first.counts.total);
		for (const { op, outcome } of ops) {
			expect(outcome?.status, op.key).toBe('done');
			if (op.type === 'create-person') expect(state.users.map((u) => u.id)).toContain(outcome!.id);
		}
	});

	it('undoes the batched run exactly: every person, group and membership it made is gone, in batches too', async () => {
		const before = (await scimState(target)).log.length;
		const undo = await run(linkId, first.id);
		expect(undo.status).toBe('done');
		expect(undo.tally.done).toBe(undo.counts.total);
		const state = await scimState(target);
		expect(state.users.filter((u) => u.active !== false)).toHaveLength(0);
		expect(state.groups).toHaveLength(0);
		const writes = state.log.slice(before).filter((l) => !l.startsWith('GET '));
		expect(writes.length).toBeLessThan(undo.counts.total);
		for (const { outcome } of await journal(linkId, undo.id)) expect(outcome?.status).toBe('done');
	});
});

describe('a run from one sandbox into another', () => {
	it('provisions with Bulk and batched memberships; the target holds exactly the source', async () => {
		const records = roster('bs', 120, 4);
		const source = await sandboxSystem(records);
		const sink = await sandboxSystem({ people: [], groups: [], memberships: [] });
		const linkId = await newLink(owner, { mode: 'provision', systems: { a: source.id, b: sink.id } });
		await expectJson(api(`/api/links/${linkId}/enable`, { method: 'POST', token: owner }), 200);
		const done = await run(linkId);
		expect(done.status).toBe('done');
		expect(done.tally.done).toBe(done.counts.total);
		const snap = await env.SANDBOXES.getByName(sink.id).snapshot();
		expect(snap.people.map((p) => p.email).sort()).toEqual(records.people.map((p) => p.email).sort());
		const nameOf = new Map(snap.groups.map((g) => [g.id, g.name]));
		const emailOf = new Map(snap.people.map((p) => [p.id, p.email]));
		const sourceName = new Map(records.groups.map((g) => [g.id, g.name]));
		const sourceEmail = new Map(records.people.map((p) => [p.id, p.email]));
		const shape = (
			list: { groupId: string; personId: string; role: string }[],
			g: Map<string, string>,
			p: Map<string, string | undefined>
		) => list.map((m) => `${g.get(m.groupId)}|${p.get(m.personId)}|${m.role}`).sort();
		expect(shape(snap.memberships, nameOf, emailOf)).toEqual(shape(records.memberships, sourceName, sourceEmail));
	});
});

describe("the sandbox's /Bulk, as an external client calls it", () => {
	let base: string;
	let token: string;
	beforeAll(async () => {
		const system = (await createSandbox(env, { id: unique('bulk'), name: 'Bulk', region: 'eu', origin: ORIGIN }))!;
		token = (await expectJson(api(`/api/sandbox/${system.id}/token`, { token: owner, body: {} }), 201)).token;
		base = `/api/sandbox/${system.id}/scim/v2`;
	});
	const scim = (path: string, body?: unknown, method = body === undefined ? 'GET' : 'POST') =>
		api(`${base}${path}`, {
			method,
			headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
			body
		});
	const user = (n: string) => ({
		schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
		userName: `${n}@bulk.example`,
		displayName: n
	});

	it('applies operations in order, names new records by bulkId, and answers each outcome', async () => {
		const res = await expectJson<{ Operations: Record<string, any>[] }>(
			scim('/Bulk', {
				schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
				Operations: [
					{ method: 'POST', path: '/Users', bulkId: 'ann', data: user('ann') },
					{ method: 'POST', path: '/Users', bulkId: 'bo', data: user('bo') },
					{ method: 'POST', path: '/Users', bulkId: 'again', data: user('ann') },
					{
						method: 'POST',
						path: '/Groups',
						bulkId: 'g',
						data: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Bulk team' }
					},
					{
						method: 'PATCH',
						path: '/Groups/bulkId:g',
						data: {
							schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
							Operations: [{ op: 'add', path: 'members', value: [{ value: 'bulkId:ann' }, { value: 'bulkId:bo' }] }]
						}
					},
					{
						method: 'PATCH',
						path: '/Groups/bulkId:g',
						data: { Operations: [{ op: 'add', path: 'members', value: [{ value: 'bulkId:again' }] }] }
					}
				]
			}),
			200
		);
		expect(res.Operations.map((o) => o.status)).toEqual(['201', '201', '409', '201', '204', '409']);
		const [ann, bo, , group] = res.Operations;
		expect(ann.location).toContain(`/Users/${ann.response.id}`);
		const read = await expectJson<Record<string, any>>(scim(`/Groups/${group.response.id}`), 200);
		expect(read.members.map((m: { value: string }) => m.value).sort()).toEqual(
			[ann.response.id, bo.response.id].sort()
		);
	});

	it('refuses more operations than it announces (413 tooMany), and a GET', async () => {
		const spc = await expectJson<Record<string, any>>(scim('/ServiceProviderConfig'), 200);
		expect(spc.bulk).toEqual({ supported: true, maxOperations: 1000, maxPayloadSize: 2 * 1024 * 1024 });
		const many = Array.from({ length: 1001 }, (_, i) => ({ method: 'DELETE', path: `/Users/x${i}` }));
		const refused = await expectJson<Record<string, any>>(
			scim('/Bulk', { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: many }),
			413
		);
		expect(refused.scimType).toBe('tooMany');
		expect((await scim('/Bulk')).status).toBe(405);
	});
});
