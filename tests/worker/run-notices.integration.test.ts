/**
 * Notices are operations like any other: an invitation or a transfer notice that did not happen
 * (its run stopped, or given up, after the person was created or moved and before the notices
 * step) is sent by the next run, not forgotten because the person's pair or the move was committed.
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SystemView } from '../../worker/account/account-do';
import type { RunDetails, RunSummary } from '../../worker/link/types';
import type { NoticeView } from '../../src/lib/api/types';
import { sandboxStub } from '../../worker/systems/connect';
import { finish, memberMove, newLink, roster, sandboxSystem } from '../support/links';
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

describe('a transfer notice its run never reached', () => {
	const records = roster(unique('trf'), 10, 2);
	const [g0, g1] = records.groups;
	// Person 4 is a member of the first community (see roster) and moves to the second.
	const mover = records.people[4];
	const moveGate = newGate(1);
	let source: SystemView;
	let target: SystemView;
	let link: string;
	let stopped: RunSummary;

	const start = () => expectJson<RunSummary>(api(`/api/links/${link}/runs`, { token: owner, body: {} }), 202);
	const opsOf = async (runId: string) =>
		(await expectJson<RunDetails>(api(`/api/links/${link}/runs/${runId}?limit=5000`, { token: owner }), 200)).ops;

	beforeAll(async () => {
		source = await sandboxSystem(records, 'HR transfers');
		target = await sandboxSystem({ people: [], groups: [], memberships: [] }, 'Target transfers');
		link = await newLink(owner, { mode: 'provision', systems: { a: source.id, b: target.id } });
		await expectJson(api(`/api/links/${link}/enable`, { method: 'POST', token: owner }), 200);
		expect((await finish(link, (await start()).id)).status).toBe('done');
		expect((await sandboxStub(env, source.id).applyOps(memberMove(mover.id, g0.id, g1.id))).failed).toEqual([]);
	});

	it('a run stopped after the move leaves its notice without outcome', async () => {
		// The move's second write waits at the gate while the owner stops the run; it still finishes.
		await gateWrites(link, target.id, moveGate, { concurrency: 1 });
		const started = await start();
		const finishing = finish(link, started.id);
		await until(() => moveGate.waiting === 1, "the move's second write at the gate", moveGate);
		await expectJson(api(`/api/links/${link}/runs/${started.id}/stop`, { method: 'POST', token: owner }), 202);
		moveGate.open = true;
		stopped = await finishing;
		expect(stopped.status).toBe('stopped');
		const ops = await opsOf(stopped.id);
		expect(ops.filter((o) => o.op.type.endsWith('-membership')).map((o) => o.outcome?.status)).toEqual([
			'done',
			'done'
		]);
		expect(ops.filter((o) => o.op.type === 'notify-transfer').map((o) => o.outcome)).toEqual([undefined]);
		// The People page lists it as still to send, which the next run makes true.
		const notices = await expectJson<NoticeView[]>(api(`/api/links/${link}/notices`, { token: owner }), 200);
		expect(notices.filter((n) => n.type === 'notify-transfer')).toEqual([
			expect.objectContaining({ state: 'planned', name: mover.displayName, from: [g0.name], to: [g1.name] })
		]);
	});

	it('the next run tells the person of the whole move, once', async () => {
		const next = await finish(link, (await start()).id);
		const ops = await opsOf(next.id);
		// The memberships are where they should be: the notice is all that is left to do.
		expect(ops.map((o) => [o.op.type, o.outcome?.status])).toEqual([['notify-transfer', 'done']]);
		expect(ops[0].op).toMatchObject({ from: [g0.name], to: [g1.name] });
		const notices = await expectJson<NoticeView[]>(api(`/api/links/${link}/notices`, { token: owner }), 200);
		expect(notices.filter((n) => n.type === 'notify-transfer')).toEqual([
			expect.objectContaining({
				state: 'queued',
				runId: next.id,
				name: mover.displayName,
				from: [g0.name],
				to: [g1.name]
			})
		]);
		const after = await finish(link, (await start()).id);
		expect(await opsOf(after.id)).toEqual([]);
	});
});
