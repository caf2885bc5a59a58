/**
 * Batched writes against real servers: SCIMMY (which announces Bulk: 1,000 operations, 1 MB) and,
 * in front of it, a proxy that refuses what a stricter server refuses (a PATCH over a number of
 * members with 413, one naming a person it does not know with 400). Operations go through the
 * core's runPlan, as the edge applies them, so every operation's own outcome is what is checked.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import SCIMMY from 'scimmy';
import { runPlan, tally, type Op, type OpOutcome, type TargetRef } from '../../src/lib/core';
import { STEP } from '../../src/lib/core/ops';
import { ScimConnector } from '../../worker/connectors/scim';
import { forgetLearnedSizes, memberBatchSize } from '../../worker/connectors/scim-batch';
import { forgetBulk } from '../../worker/connectors/scim-bulk';
import { startScimmy, type ScimmyPeer } from '../support/scim-scimmy';
import { ops } from '../support/scim-ops';

let peer: ScimmyPeer;
let proxy: { url: string; close(): Promise<void> };
/** What the proxy refuses: PATCHes carrying more members than this (413), and this person (400). */
const strict = { maxMembers: Infinity, unknown: '' };

beforeAll(async () => {
	peer = await startScimmy();
	proxy = await startProxy(peer.url);
});
afterAll(async () => {
	await proxy.close();
	await peer.close();
});
beforeEach(() => {
	forgetLearnedSizes();
	forgetBulk();
	strict.maxMembers = Infinity;
	strict.unknown = '';
	peer.log.length = 0;
	SCIMMY.Config.set({ bulk: { supported: true, maxOperations: 1000, maxPayloadSize: 1048576 } });
});

let systems = 0;
const connector = (url = peer.url, extra: Partial<ConstructorParameters<typeof ScimConnector>[0]> = {}) =>
	new ScimConnector({ systemId: `S${++systems}`, baseUrl: url, token: peer.token, ...extra });

/** Applies operations as the edge does: the core's runPlan, batched as the connector says. */
async function run(c: ScimConnector, list: Op[]): Promise<Map<string, OpOutcome>> {
	await c.discover();
	const outcomes = new Map<string, OpOutcome>();
	await runPlan(list, outcomes, {
		apply: { a: async () => ({}), b: (op, res) => c.apply(op, res) },
		applyBatch: { b: (batch, res) => c.applyBatch(batch, res) },
		batching: { b: c.batching() },
		concurrency: 4
	});
	return outcomes;
}

let n = 0;
async function people(c: ScimConnector, count: number): Promise<string[]> {
	const ids: string[] = [];
	for (let i = 0; i < count; i++) {
		const k = ++n;
		ids.push(
			(
				await c.apply(
					ops.createPerson({ displayName: `P ${k}`, email: `p${k}@batch.example`, externalId: `PB${k}` }),
					resolveIds
				)
			).id!
		);
	}
	return ids;
}
const resolveIds = (r: TargetRef) => ('id' in r ? r.id : '');
async function newGroup(c: ScimConnector): Promise<string> {
	const k = ++n;
	return (await c.apply(ops.createGroup({ name: `Group ${k}`, externalId: `GB${k}`, kind: 'group' }), resolveIds)).id!;
}
const membersOf = (groupId: string) =>
	new Set(((peer.groups.get(groupId)?.members as { value: string }[] | undefined) ?? []).map((m) => m.value));
const patchesOf = (groupId: string) => peer.log.filter((l) => l.startsWith(`PATCH /Groups/${groupId}`));

describe('memberships of one group go as one PATCH', () => {
	it('adds 60 members in one request, each membership with its own outcome; a full group keeps its members', async () => {
		const c = connector(peer.url, { bulk: false });
		const [ids, groupId] = [await people(c, 60), await newGroup(c)];
		peer.log.length = 0;
		const adds = ids.map((id) => ops.addMembership(groupId, id));
		const outcomes = await run(c, adds);
		expect(tally(adds, outcomes)).toMatchObject({ done: 60, failed: 0 });
		expect(membersOf(groupId)).toEqual(new Set(ids));
		expect(patchesOf(groupId)).toHaveLength(1);
		const more = await people(c, 5);
		await run(
			c,
			more.map((id) => ops.addMembership(groupId, id))
		);
		expect(membersOf(groupId)).toEqual(new Set([...ids, ...more]));
		// The group is never read to be written.
		expect(peer.log.some((l) => l.startsWith(`GET /Groups/${groupId}`))).toBe(false);
	});

	it('removes members in one request; one already gone is done as well', async () => {
		const c = connector(peer.url, { bulk: false });
		const [ids, groupId] = [await people(c, 12), await newGroup(c)];
		await run(
			c,
			ids.map((id) => ops.addMembership(groupId, id))
		);
		await run(c, [ops.removeMembership(groupId, ids[0])]);
		peer.log.length = 0;
		const removals = ids.map((id) => ops.removeMembership(groupId, id));
		const outcomes = await run(c, removals);
		expect(tally(removals, outcomes)).toMatchObject({ done: 12, failed: 0 });
		expect(membersOf(groupId).size).toBe(0);
		// The batch was refused for the one gone (noTarget) and split until it was found alone.
		expect(patchesOf(groupId).length).toBeLessThan(12);
	});

	it('halves the batch where the server refuses its size, and remembers the size that went through', async () => {
		const c = connector(proxy.url, { bulk: false });
		const [ids, groupId] = [await people(c, 30), await newGroup(c)];
		strict.maxMembers = 8;
		const adds = ids.map((id) => ops.addMembership(groupId, id));
		const outcomes = await run(c, adds);
		expect(tally(adds, outcomes)).toMatchObject({ done: 30, failed: 0 });
		expect(membersOf(groupId)).toEqual(new Set(ids));
		// 30 refused, 15 refused, 7 went through: the system's size is now 7, so a new batch plans at 7.
		expect(memberBatchSize(`S${systems}`)).toBe(7);
		expect(c.batching().members).toBe(7);
	});

	it('a member the server refuses fails alone, named; the rest of the batch is done', async () => {
		const c = connector(proxy.url, { bulk: false });
		const [ids, groupId] = [await people(c, 9), await newGroup(c)];
		strict.unknown = ids[4];
		const adds = ids.map((id) => ops.addMembership(groupId, id));
		const outcomes = await run(c, adds);
		expect(tally(adds, outcomes)).toMatchObject({ done: 8, failed: 1 });
		const failed = outcomes.get(adds[4].key)!;
		expect(failed.status).toBe('failed');
		expect(failed.error).toContain(`group ${groupId}`);
		expect(failed.error).toContain(`person ${ids[4]}`);
		expect(membersOf(groupId)).toEqual(new Set(ids.filter((_, i) => i !== 4)));
	});

	it('managers and role changes go alone (read-modify-write of the managers, the group read without members)', async () => {
		const c = connector(peer.url, { bulk: false });
		const [ids, groupId] = [await people(c, 4), await newGroup(c)];
		const list = [
			ops.addMembership(groupId, ids[0], 'manager'),
			...ids.slice(1).map((id) => ops.addMembership(groupId, id))
		];
		peer.log.length = 0;
		const outcomes = await run(c, list);
		expect(tally(list, outcomes)).toMatchObject({ done: 4 });
		expect(patchesOf(groupId)).toHaveLength(2);
		const reads = peer.log.filter((l) => l.startsWith(`GET /Groups/${groupId}`));
		expect(reads).toHaveLength(1);
		expect(reads[0]).toContain('excludedAttributes=members');
	});
});

describe('Bulk, where the server announces it', () => {
	const createOf = (k: number, extra = {}) =>
		ops.createPerson({ displayName: `Bulk ${k}`, email: `bulk${k}@batch.example`, externalId: `BK${k}`, ...extra });

	it('creates and updates go as one /Bulk request; a new person’s memberships ride along by bulkId', async () => {
		const c = connector();
		expect((await c.discover()) && c.batching()).toEqual({ members: 500, bulk: 200 });
		const [existing] = await people(c, 1);
		const groupId = await newGroup(c);
		peer.log.length = 0;
		const creates = [1, 2, 3, 4, 5].map(() => createOf(++n));
		const memberships: Op[] = creates.map((cr) => ({
			key: `m-${cr.key}`,
			side: 'b',
			step: STEP.memberships,
			type: 'add-membership',
			group: { id: groupId },
			person: { createdBy: cr.key },
			role: 'member'
		}));
		const update = ops.updatePerson(existing, { phone: '+31 6 1234 5678' });
		const list = [...creates, update, ...memberships];
		const outcomes = await run(c, list);
		expect(tally(list, outcomes)).toMatchObject({ done: 11, failed: 0 });
		expect(peer.log).toEqual(['POST /Bulk']);
		const created = creates.map((cr) => outcomes.get(cr.key)!.id!);
		for (const id of created) expect(peer.users.has(id)).toBe(true);
		expect(membersOf(groupId)).toEqual(new Set(created));
		expect(JSON.stringify(peer.users.get(existing))).toContain('+31 6 1234 5678');
	});

	it('a create the server refuses gets its own outcome (a conflict names the holder); its memberships are skipped; the rest is done', async () => {
		const c = connector();
		const [holder] = await people(c, 1);
		const taken = String(peer.users.get(holder)!.userName);
		const groupId = await newGroup(c);
		const creates = [createOf(++n), createOf(++n, { email: taken }), createOf(++n)];
		const memberships: Op[] = creates.map((cr) => ({
			key: `m-${cr.key}`,
			side: 'b',
			step: STEP.memberships,
			type: 'add-membership',
			group: { id: groupId },
			person: { createdBy: cr.key },
			role: 'member'
		}));
		const list = [...creates, ...memberships];
		const outcomes = await run(c, list);
		expect(outcomes.get(creates[1].key)).toMatchObject({ status: 'failed', collision: { existingId: holder } });
		expect(outcomes.get(memberships[1].key)?.status).toBe('skipped');
		expect(tally(list, outcomes)).toMatchObject({ done: 4, failed: 1, skipped: 1 });
		expect(membersOf(groupId)).toEqual(new Set([outcomes.get(creates[0].key)!.id, outcomes.get(creates[2].key)!.id]));
	});

	it('keeps each /Bulk request within the announced payload size', async () => {
		SCIMMY.Config.set({ bulk: { supported: true, maxOperations: 1000, maxPayloadSize: 3000 } });
		const c = connector();
		peer.log.length = 0;
		const creates = Array.from({ length: 12 }, () => createOf(++n));
		const outcomes = await run(c, creates);
		expect(tally(creates, outcomes)).toMatchObject({ done: 12, failed: 0 });
		const bulks = peer.log.filter((l) => l === 'POST /Bulk').length;
		expect(bulks).toBeGreaterThan(1);
		expect(bulks).toBeLessThan(12);
		expect(peer.log.filter((l) => l === 'POST /Users')).toEqual([]);
	});

	it('with Bulk turned off (or a server without it) creates go one request each', async () => {
		const c = connector(peer.url, { bulk: false });
		await c.discover();
		expect(c.batching()).toEqual({ members: 500 });
		peer.log.length = 0;
		const creates = [createOf(++n), createOf(++n)];
		await run(c, creates);
		expect(peer.log).toEqual(['POST /Users', 'POST /Users']);
	});
});

/** Forwards to SCIMMY; refuses PATCHes carrying more than `strict.maxMembers` members or `strict.unknown`. */
async function startProxy(target: string): Promise<{ url: string; close(): Promise<void> }> {
	const to = new URL(target);
	const server: Server = createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (c) => chunks.push(c));
		req.on('end', () => {
			const body = Buffer.concat(chunks);
			const refuse = (status: number, scimType: string | undefined, detail: string) => {
				res.writeHead(status, { 'content-type': 'application/scim+json' });
				res.end(
					JSON.stringify({
						schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
						status: String(status),
						scimType,
						detail
					})
				);
			};
			if (req.method === 'PATCH' && req.url?.includes('/Groups/')) {
				const text = body.toString();
				const members = (text.match(/"value":"/g) ?? []).length + (text.match(/value eq/g) ?? []).length;
				if (members > strict.maxMembers)
					return refuse(413, undefined, `at most ${strict.maxMembers} members per request`);
				if (strict.unknown && text.includes(strict.unknown))
					return refuse(400, 'invalidValue', `member ${strict.unknown} does not exist`);
			}
			const forward = httpRequest(
				{
					host: to.hostname,
					port: to.port,
					method: req.method,
					path: `${to.pathname.replace(/\/scim\/v2$/, '')}${req.url}`,
					headers: req.headers
				},
				(answer) => {
					res.writeHead(answer.statusCode ?? 502, answer.headers);
					answer.pipe(res);
				}
			);
			forward.end(body);
		});
	});
	await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
	return {
		url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/scim/v2`,
		close: () =>
			new Promise<void>((r) => {
				server.closeAllConnections();
				server.close(() => r());
			})
	};
}
