/**
 * An owner stops a running run. The target answers slowly: past the first few writes, each one
 * waits at a gate the test opens, so the stop deterministically arrives while writes are in flight.
 * Those finish and are journaled, no other starts, the baseline takes only what was done, the run
 * ends `stopped`, and undoing it leaves the target and the baseline as they were before.
 */
import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SystemView } from '../../worker/account/account-do';
import type { LinkDO } from '../../worker/link/link-do';
import type { LinkView, RunDetails, RunSummary } from '../../worker/link/types';
import { sandboxStub } from '../../worker/systems/connect';
import { finish, roster, sandboxSystem } from '../support/links';
import { gateWrites, newGate, until } from './gate';
import { api, expectJson, tokenFor } from './support';

const records = roster('stp', 20, 2);

let owner: string;
let reviewer: string;
let viewer: string;
let source: SystemView;
let sink: SystemView;
let linkId: string;

/** The slow target's gate: `free` writes go straight through, the others wait until it opens. */
const gate = newGate(5);

/** Puts the gate in front of the target's writes, on the link's current instance. */
const slowTarget = () => gateWrites(linkId, sink.id, gate, { concurrency: 2, slice: { ops: 1000, ms: 60_000 } });

const baseline = () =>
	runInDurableObject(env.LINKS.getByName(linkId), (_i, state) =>
		state.storage.sql
			.exec<{ kind: string; b: string; entry: string }>('SELECT kind, b, entry FROM baseline ORDER BY kind, b')
			.toArray()
	);

beforeAll(async () => {
	[owner, reviewer, viewer] = await Promise.all([tokenFor('owner'), tokenFor('reviewer'), tokenFor('viewer')]);
	source = await sandboxSystem(records, 'HR to stop');
	sink = await sandboxSystem({ people: [], groups: [], memberships: [] }, 'Slow target');
	const view = await expectJson<LinkView>(
		api('/api/links', {
			token: owner,
			body: {
				name: 'Stoppable',
				mode: 'provision',
				systems: { a: source.id, b: sink.id },
				match: { person: 'externalId', group: 'externalId' }
			}
		}),
		201
	);
	linkId = view.config.id;
	await expectJson(api(`/api/links/${linkId}/enable`, { method: 'POST', token: owner }), 200);
});

describe('stopping a run', () => {
	let run: RunSummary;
	let stopped: RunSummary;

	it('stops at the next operation boundary (owner only): writes in flight finish, no other starts', async () => {
		await slowTarget();
		run = await expectJson<RunSummary>(api(`/api/links/${linkId}/runs`, { token: owner, body: {} }), 202);
		const finishing = finish(linkId, run.id);
		// Two writes (the concurrency) are in flight at the gate.
		await until(() => gate.waiting === 2, 'two writes in flight', gate);

		const stop = `/api/links/${linkId}/runs/${run.id}/stop`;
		expect((await api(stop, { method: 'POST' })).status).toBe(401);
		expect((await api(stop, { method: 'POST', token: viewer })).status).toBe(403);
		expect((await api(stop, { method: 'POST', token: reviewer })).status).toBe(403);
		const asked = await expectJson<RunSummary>(api(stop, { method: 'POST', token: owner }), 202);
		expect(asked).toMatchObject({
			status: 'running',
			stopRequested: { by: expect.stringMatching(/^owner/) }
		});
		// Asking again changes nothing.
		expect(await expectJson<RunSummary>(api(stop, { method: 'POST', token: owner }), 202)).toMatchObject({
			stopRequested: asked.stopRequested
		});

		gate.open = true;
		stopped = await finishing;
		expect(stopped.status).toBe('stopped');
		// The five that went straight through and the two in flight, nothing after them.
		expect(gate.applied).toHaveLength(7);
		expect(stopped.tally).toMatchObject({
			done: 7,
			failed: 0,
			skipped: 0,
			pending: stopped.tally.total - 7
		});
	});

	it('journals only what was done: the rest has no outcome and was never marked started', async () => {
		const details = await expectJson<RunDetails>(
			api(`/api/links/${linkId}/runs/${run.id}?limit=5000`, { token: viewer }),
			200
		);
		const withOutcome = details.ops.filter((o) => o.outcome);
		expect(withOutcome.map((o) => o.op.key).sort()).toEqual([...gate.applied].sort());
		expect(withOutcome.every((o) => o.outcome!.status === 'done')).toBe(true);
		const started = await runInDurableObject(env.LINKS.getByName(linkId), (_i, state) =>
			state.storage.sql
				.exec<{ key: string }>('SELECT key FROM journal WHERE run_id = ? AND started = 1', run.id)
				.toArray()
				.map((r) => r.key)
		);
		expect(started.sort()).toEqual([...gate.applied].sort());
		// The target holds what was done: the two communities and five people, no memberships yet.
		const target = await sandboxStub(env, sink.id).snapshot();
		expect(target.groups).toHaveLength(2);
		expect(target.people).toHaveLength(5);
		expect(target.memberships).toHaveLength(0);
	});

	it('commits the baseline only for the operations that were done', async () => {
		const target = await sandboxStub(env, sink.id).snapshot();
		const entries = await baseline();
		expect(entries.filter((e) => e.kind === 'person').map((e) => e.b)).toEqual(target.people.map((p) => p.id).sort());
		const groups = entries.filter((e) => e.kind === 'group');
		expect(groups.map((e) => e.b).sort()).toEqual(target.groups.map((g) => g.id).sort());
		// Their memberships were never added: none is in the baseline.
		for (const g of groups) expect(JSON.parse(g.entry).members ?? []).toEqual([]);
	});

	it('refuses to stop a run that has ended (409)', async () => {
		const res = await expectJson(
			api(`/api/links/${linkId}/runs/${run.id}/stop`, { method: 'POST', token: owner }),
			409
		);
		expect(res).toMatchObject({ error: 'conflict', message: expect.stringContaining('stopped') });
	});

	it('is undone like any run: the target and the baseline are as before it', async () => {
		gate.free = Number.POSITIVE_INFINITY;
		const undo = await expectJson<RunSummary>(
			api(`/api/links/${linkId}/runs/${run.id}/undo`, { method: 'POST', token: owner }),
			202
		);
		expect(undo).toMatchObject({ undoOf: run.id, counts: { total: 7 } });
		const done = await finish(linkId, undo.id);
		expect(done).toMatchObject({ status: 'done', tally: { done: 7, failed: 0 } });
		const target = await sandboxStub(env, sink.id).snapshot();
		expect(target.people).toHaveLength(0);
		expect(target.groups).toHaveLength(0);
		expect(await baseline()).toEqual([]);
		const runs = await expectJson<RunSummary[]>(api(`/api/links/${linkId}/runs`, { token: viewer }), 200);
		expect(runs.find((r) => r.id === run.id)).toMatchObject({ status: 'stopped', undoneBy: undo.id });
	});
});

describe('a run stopped before it read anything', () => {
	it('ends stopped with nothing planned and nothing written', async () => {
		const before = (await sandboxStub(env, sink.id).snapshot()).people.length;
		// Started and stopped in one turn of the object, so its alarm cannot begin reading in between.
		const runId = await runInDurableObject(env.LINKS.getByName(linkId), async (instance: LinkDO) => {
			const started = await instance.startRun({ dryRun: false, startedBy: { kind: 'person', subject: 'test' } });
			if (!started.ok) throw new Error(started.refusal.message);
			const stop = await instance.stop(started.value.id, 'test');
			if (!stop.ok) throw new Error(stop.refusal.message);
			return started.value.id;
		});
		const done = await finish(linkId, runId);
		expect(done).toMatchObject({ status: 'stopped', stopRequested: { by: 'test' }, tally: { total: 0, done: 0 } });
		expect((await sandboxStub(env, sink.id).snapshot()).people).toHaveLength(before);
	});
});
