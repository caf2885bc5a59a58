/**
 * Invitations are operations like any other: one that did not happen (its run stopped, or given
 * up, after the person was created and before the notices step) is retried by the next run, not
 * forgotten because the person's pair was committed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { SystemView } from '../../worker/account/account-do';
import type { RunDetails, RunSummary } from '../../worker/link/types';
import { finish, newLink, sandboxSystem } from '../support/links';
import { gateWrites, newGate, until } from './gate';
import { api, expectJson, tokenFor, unique } from './support';

const prefix = unique('inv');
const people = [0, 1, 2].map((i) => ({
	id: `${prefix}-p${i}`,
	externalId: `${prefix}-E${i}`,
	displayName: `Person ${i}`,
	email: `${prefix}.p${i}@example.org`,
	active: true
}));

let owner: string;
let sink: SystemView;
let linkId: string;
const gate = newGate(2);

beforeAll(async () => {
	owner = await tokenFor('owner');
	const source = await sandboxSystem({ people, groups: [], memberships: [] }, 'HR invites');
	sink = await sandboxSystem({ people: [], groups: [], memberships: [] }, 'Target invites');
	linkId = await newLink(owner, {
		mode: 'provision',
		systems: { a: source.id, b: sink.id },
		match: { person: 'externalId', group: 'externalId' }
	});
	await expectJson(api(`/api/links/${linkId}/enable`, { method: 'POST', token: owner }), 200);
});

const runDetails = (runId: string) =>
	expectJson<RunDetails>(api(`/api/links/${linkId}/runs/${runId}?limit=5000`, { token: owner }), 200);

describe('an invitation its run never reached', () => {
	let first: RunSummary;

	it('a run stopped after the creates leaves the invitations without outcome', async () => {
		// The last create waits at a gate while the owner stops the run.
		await gateWrites(linkId, sink.id, gate, { concurrency: 1 });
		const started = await expectJson<RunSummary>(api(`/api/links/${linkId}/runs`, { token: owner, body: {} }), 202);
		const finishing = finish(linkId, started.id);
		await until(() => gate.waiting === 1, 'the last create at the gate', gate);
		await expectJson(api(`/api/links/${linkId}/runs/${started.id}/stop`, { method: 'POST', token: owner }), 202);
		gate.open = true;
		first = await finishing;
		expect(first.status).toBe('stopped');
		const ops = (await runDetails(first.id)).ops;
		expect(ops.filter((o) => o.op.type === 'create-person' && o.outcome?.status === 'done')).toHaveLength(3);
		expect(ops.filter((o) => o.op.type === 'invite' && !o.outcome)).toHaveLength(3);
	});

	it('the next run sends them', async () => {
		const next = await expectJson<RunSummary>(api(`/api/links/${linkId}/runs`, { token: owner, body: {} }), 202);
		const done = await finish(linkId, next.id);
		const ops = (await runDetails(done.id)).ops;
		expect(ops.filter((o) => o.op.type === 'invite' && o.outcome?.status === 'done')).toHaveLength(3);
	});
});
