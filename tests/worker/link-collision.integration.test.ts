/**
 * A create the target refuses with 409 because an account there holds the same userName in
 * another case, behind a case-sensitive filter (the plain SCIM peer): the run journals the failure
 * naming the holder, the next reconciliation shows a conflict a person resolves instead of a
 * create that fails every night, and linking the two adopts the account.
 */
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { Person, Reconciliation, Resolution } from '$lib/core';
import type { RunDetails, RunSummary } from '../../worker/link/types';
import { finish, newLink, sandboxSystem, scimSystem } from '../support/links';
import { listResources, plainSeed } from '../support/scim-peers';
import { api, expectJson, tokenFor, unique } from './support';

const plain = inject('scimPeers').plain;
const run = crypto.randomUUID().slice(0, 8);
const zoe: Person = {
	id: `zoe-${run}`,
	externalId: `HR-${run}`,
	displayName: 'Zoe Example',
	email: `zoe.${run}@example.org`,
	active: true
};

let owner: string;
let linkId: string;
let holderId: string;

const reconcile = () =>
	expectJson<Reconciliation>(api(`/api/links/${linkId}/reconcile`, { method: 'POST', token: owner }), 200);

async function runForReal(): Promise<{ summary: RunSummary; details: RunDetails }> {
	const started = await expectJson<RunSummary>(
		api(`/api/links/${linkId}/runs`, { token: owner, body: { dryRun: false } }),
		202
	);
	const summary = await finish(linkId, started.id);
	const details = await expectJson<RunDetails>(api(`/api/links/${linkId}/runs/${started.id}`, { token: owner }), 200);
	return { summary, details };
}

beforeAll(async () => {
	owner = await tokenFor('owner');
	// Made by hand on the target, before sync: no email, so no match finds it. (The peer is shared
	// with other files running at the same time: this file's records are its own, nothing is reset.)
	const seeded = await plainSeed(plain, { users: [{ userName: zoe.email!.toUpperCase(), displayName: 'Zoe (old)' }] });
	holderId = seeded.users[0].id;
	const source = await sandboxSystem({ people: [zoe], groups: [], memberships: [] });
	const target = await scimSystem(owner, plain, 'eu', unique('plain'));
	linkId = await newLink(owner, { mode: 'provision', systems: { a: source.id, b: target.id }, kinds: ['person'] });
	await expectJson(api(`/api/links/${linkId}/enable`, { method: 'POST', token: owner }), 200);
});

describe('a 409 the connector cannot resolve by itself', () => {
	it('the first run fails the create, naming the account that holds the userName', async () => {
		const { summary, details } = await runForReal();
		expect(summary.status).toBe('failed');
		const create = details.ops.find((o) => o.op.type === 'create-person');
		expect(create?.outcome).toMatchObject({ status: 'failed', collision: { existingId: holderId } });
	});

	it('the next reconciliation is a conflict naming both, with no create in the plan', async () => {
		const rec = await reconcile();
		expect(rec.plan.ops).toEqual([]);
		expect(rec.conflicts).toEqual([
			expect.objectContaining({
				reason: 'name-collision',
				kind: 'person',
				records: [
					expect.objectContaining({ side: 'a', id: zoe.id }),
					expect.objectContaining({ side: 'b', id: holderId })
				]
			})
		]);
	});

	it('linking the two adopts the account; the run converges', async () => {
		const conflict = (await reconcile()).conflicts[0];
		const answer: Resolution = {
			conflictId: conflict.id,
			choice: 'link',
			link: { a: zoe.id, b: holderId },
			against: conflict.records
		};
		await expectJson(api(`/api/links/${linkId}/resolutions`, { token: owner, body: { resolutions: [answer] } }), 200);
		const { summary } = await runForReal();
		expect(summary.status).toBe('done');
		const users = (await listResources(plain, 'Users')).filter(
			(u) => String(u.userName).toLowerCase() === zoe.email || u.externalId === zoe.externalId
		);
		expect(users.map((u) => u.id)).toEqual([holderId]);
		expect(users[0].displayName).toBe('Zoe Example');
		const again = await reconcile();
		expect(again.plan.ops).toEqual([]);
		expect(again.conflicts).toEqual([]);
	});
});
