/**
 * Runs that are cut off: the link's Durable Object is aborted (ctx.abort(), as a crash or an
 * eviction would) right after a write reached the target and before its outcome was recorded.
 * The run resumes in a fresh instance and every operation takes effect exactly once on a real SCIM
 * server. And runs whose source cannot be read fail before any write.
 */
import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Op } from '$lib/core';
import type { SystemView } from '../../worker/account/account-do';
import type { LinkDO } from '../../worker/link/link-do';
import type { LinkView, RunSummary } from '../../worker/link/types';
import {
	finish,
	interceptWrites,
	newLink,
	roster,
	sandboxSystem,
	scimmy,
	scimReset,
	scimState,
	scimSystem
} from '../support/links';
import { api, expectJson, tokenFor } from './support';

const target = scimmy('crash');
const records = roster('cr', 30, 4);

let owner: string;
let source: SystemView;
let sink: SystemView;
let linkId: string;

/**
 * Makes a link's current instance crash right before or right after the target accepted the `nth`
 * operation of `type` it applies (its outcome never recorded).
 */
async function crashOn(
	link: string,
	system: string,
	type: Op['type'],
	nth: number,
	when: 'before' | 'after',
	deps: Parameters<typeof interceptWrites>[3]
): Promise<{ crashed: string[] }> {
	const seen = { crashed: [] as string[] };
	let count = 0;
	const isNth = (op: Op) => op.type === type && seen.crashed.length === 0 && ++count === nth;
	// One write at a time (interceptWrites), so the crash lands at exactly one operation (batched
	// runs mark a batch started whole, and recover it as they recover one operation).
	await interceptWrites(
		link,
		system,
		async (op, write, state) => {
			const crash = () => {
				seen.crashed.push(op.key);
				state.abort(`simulated crash ${when} a write`);
			};
			if (when === 'before' && isNth(op)) crash();
			const result = await write();
			if (when === 'after' && isNth(op)) crash();
			return result;
		},
		deps
	);
	return seen;
}

/** crashOn for this suite's link, after the write; slices are small, so the run also spans many alarms. */
const crashAfter = (type: Op['type'], nth: number) =>
	crashOn(linkId, sink.id, type, nth, 'after', { slice: { ops: 7, ms: 60_000 } });

const started = (runId: string) =>
	runInDurableObject(env.LINKS.getByName(linkId), (_i, state) =>
		state.storage.sql
			.exec<{ key: string; started: number; status: string | null }>(
				'SELECT key, started, status FROM journal WHERE run_id = ?',
				runId
			)
			.toArray()
	);

beforeAll(async () => {
	await scimReset(target);
	owner = await tokenFor('owner');
	source = await sandboxSystem(records);
	sink = await scimSystem(owner, target);
	const view = await expectJson<LinkView>(
		api('/api/links', {
			token: owner,
			body: {
				name: 'Crashy',
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

describe('a run cut off at any point', () => {
	it('resumes after crashes in each step and applies every operation exactly once', { timeout: 60_000 }, async () => {
		// First crash: right after the second group was created (groups are created first).
		const first = await crashAfter('create-group', 2);
		const run = await expectJson<RunSummary>(
			api(`/api/links/${linkId}/runs`, { token: owner, body: { dryRun: false } }),
			202
		);
		await until(() => first.crashed.length > 0);

		// Second crash, in a fresh instance: in the middle of the people.
		const second = await crashAfter('create-person', 11);
		await until(
			async () => second.crashed.length > 0 || (await finish(linkId, run.id, 1).catch(() => undefined)) !== undefined
		);
		expect(second.crashed).toHaveLength(1);

		// Third: after a membership was added.
		const third = await crashAfter('add-membership', 5);
		await until(
			async () => third.crashed.length > 0 || (await finish(linkId, run.id, 1).catch(() => undefined)) !== undefined
		);
		expect(third.crashed).toHaveLength(1);

		const done = await finish(linkId, run.id);
		expect(done.status).toBe('done');
		expect(done.tally).toEqual({ total: 94, done: 94, failed: 0, skipped: 0, staged: 0, pending: 0 });

		// The cut-off operations were journaled as started before they went out, and settled once.
		const rows = await started(run.id);
		for (const key of [...first.crashed, ...second.crashed, ...third.crashed])
			expect(rows.find((r) => r.key === key)).toMatchObject({ started: 1, status: 'done' });

		const state = await scimState(target);
		// Exactly once: one POST per person and per group, no more PATCHes than memberships (the
		// instance after the last crash batches a group's memberships; each lands once, below).
		expect(state.log.filter((l) => l.startsWith('POST /Users'))).toHaveLength(30);
		expect(state.log.filter((l) => l.startsWith('POST /Groups'))).toHaveLength(4);
		expect(state.log.filter((l) => l.startsWith('PATCH /Groups/')).length).toBeLessThanOrEqual(30);
		expect(state.users.map((u) => u.externalId).sort()).toEqual(records.people.map((p) => p.externalId).sort());
		expect(state.groups.map((g) => g.externalId).sort()).toEqual(records.groups.map((g) => g.externalId).sort());
		const byExt = new Map(state.users.map((u) => [u.id, u.externalId as string]));
		for (const g of state.groups) {
			const members = (g.members ?? []).map((m: { value: string }) => byExt.get(m.value));
			expect(new Set(members).size).toBe(members.length);
			const expected = records.memberships
				.filter((m) => records.groups.find((x) => x.id === m.groupId)!.externalId === g.externalId)
				.map((m) => records.people.find((p) => p.id === m.personId)!.externalId);
			expect(members.sort()).toEqual(expected.sort());
		}
		// The next plan has nothing left to do: the baseline was committed after the crashes too.
		const again = await expectJson<RunSummary>(
			api(`/api/links/${linkId}/runs`, { token: owner, body: { dryRun: true } }),
			202
		);
		expect((await finish(linkId, again.id)).counts.total).toBe(0);
	});
});

describe('a source that cannot be read', () => {
	it('fails the run before any write when the source refuses the credentials', async () => {
		const broken = await expectJson<SystemView>(
			api('/api/systems', {
				token: owner,
				body: {
					name: 'Wrong token',
					connector: 'scim',
					baseUrl: target.url,
					region: 'eu',
					credentials: { token: 'wrong-token' }
				}
			}),
			201
		);
		const view = await expectJson<LinkView>(
			api('/api/links', {
				token: owner,
				body: { name: 'Broken', mode: 'provision', systems: { a: broken.id, b: sink.id } }
			}),
			201
		);
		const before = (await scimState(target)).log.filter((l) => !l.startsWith('GET')).length;
		const reconcile = await expectJson(
			api(`/api/links/${view.config.id}/reconcile`, { method: 'POST', token: owner }),
			502
		);
		expect(reconcile).toMatchObject({ error: 'source-failed', system: broken.id });
		const run = await expectJson<RunSummary>(
			api(`/api/links/${view.config.id}/runs`, { token: owner, body: { dryRun: true } }),
			202
		);
		const done = await finish(view.config.id, run.id);
		expect(done).toMatchObject({
			status: 'failed',
			error: { code: 'source-failed', system: broken.id },
			tally: { total: 0 }
		});
		expect((await scimState(target)).log.filter((l) => !l.startsWith('GET')).length).toBe(before);
	});

	it('fails the run when the provisioning source is empty: never "delete everything"', async () => {
		const empty = await sandboxSystem({ people: [], groups: [], memberships: [] });
		const view = await expectJson<LinkView>(
			api('/api/links', {
				token: owner,
				body: { name: 'Empty', mode: 'provision', systems: { a: empty.id, b: sink.id } }
			}),
			201
		);
		const run = await expectJson<RunSummary>(
			api(`/api/links/${view.config.id}/runs`, { token: owner, body: { dryRun: true } }),
			202
		);
		const done = await finish(view.config.id, run.id);
		expect(done).toMatchObject({
			status: 'failed',
			error: { code: 'source-failed', message: expect.stringMatching(/empty/) }
		});
	});
});

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!(await check())) {
		if (Date.now() > deadline) {
			const stub = env.LINKS.getByName(linkId);
			const runs = await stub.runs(5);
			const alarm = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
			const meta = await runInDurableObject(stub, (_i, state) =>
				state.storage.sql.exec('SELECT * FROM meta').toArray()
			);
			throw new Error(
				`timed out: ${JSON.stringify({ runs, alarm, now: Date.now(), meta: meta.filter((m) => m.key !== 'config') })}`
			);
		}
		await new Promise((r) => setTimeout(r, 10));
	}
}

describe('a create cut off before it was sent', () => {
	// Two newcomers alike but for their employee numbers: nothing to tell their accounts apart by
	// but the record the first create made. Creates are marked started a batch ahead, so the second
	// is "started" when the crash comes before it went out; on resume it must be made, not taken
	// to be the first one's account.
	it('is made on resume, never recovered as the account another create made', { timeout: 60_000 }, async () => {
		const twins = {
			people: ['30001', '30002'].map((n) => ({
				id: `twin-${n}`,
				displayName: 'Sam Twin',
				employeeNumber: n,
				active: true
			})),
			groups: [],
			memberships: []
		};
		const from = await sandboxSystem(twins);
		const to = await sandboxSystem({ people: [], groups: [], memberships: [] });
		const id = await newLink(owner, { mode: 'provision', systems: { a: from.id, b: to.id } });
		await expectJson(api(`/api/links/${id}/enable`, { method: 'POST', token: owner }), 200);
		const { crashed } = await crashOn(id, to.id, 'create-person', 2, 'before', { concurrency: 1 });
		const run = await expectJson<RunSummary>(
			api(`/api/links/${id}/runs`, { token: owner, body: { dryRun: false } }),
			202
		);
		await until(() => crashed.length > 0);
		const done = await finish(id, run.id);
		expect(done.status).toBe('done');
		const made = await expectJson<{ people: { id: string; employeeNumber?: string }[] }>(
			api(`/api/systems/${to.id}/snapshot`, { token: owner }),
			200
		);
		expect(made.people.map((p) => p.employeeNumber).sort()).toEqual(['30001', '30002']);
		const pairs = await runInDurableObject(env.LINKS.getByName(id), (_i, state) =>
			state.storage.sql.exec<{ a: string; b: string }>("SELECT a, b FROM baseline WHERE kind = 'person'").toArray()
		);
		expect(pairs.map((p) => p.a).sort()).toEqual(['twin-30001', 'twin-30002']);
		expect(new Set(pairs.map((p) => p.b)).size).toBe(2);
	});
});

describe('a run given up after its retries', () => {
	// Cut off after a few creates, then its target cannot be read any more (its token revoked), so
	// each resumed slice fails until the run is given up. What was done before still reaches the
	// baseline: otherwise the next plan would adopt the records this link made.
	it('commits what it did before ending failed', { timeout: 60_000 }, async () => {
		const people = roster('gu', 6, 1);
		const from = await sandboxSystem(people);
		const to = await scimSystem(owner, target);
		const id = await newLink(owner, {
			mode: 'provision',
			systems: { a: from.id, b: to.id },
			match: { person: 'externalId', group: 'externalId' }
		});
		await expectJson(api(`/api/links/${id}/enable`, { method: 'POST', token: owner }), 200);
		const { crashed } = await crashOn(id, to.id, 'create-person', 3, 'after', { concurrency: 1 });
		const run = await expectJson<RunSummary>(
			api(`/api/links/${id}/runs`, { token: owner, body: { dryRun: false } }),
			202
		);
		await until(() => crashed.length > 0);
		await expectJson(
			api(`/api/systems/${to.id}`, {
				method: 'PATCH',
				token: owner,
				body: { credentials: { token: 'revoked-token-123' } }
			}),
			200
		);
		await runInDurableObject(env.LINKS.getByName(id), (instance: LinkDO) => {
			instance.deps = { ...instance.deps, maxAttempts: 2 };
		});
		const ended = await finish(id, run.id);
		expect(ended.status).toBe('failed');
		const { done, pairs } = await runInDurableObject(env.LINKS.getByName(id), (_i, state) => ({
			done: state.storage.sql
				.exec<{ op: string }>("SELECT op FROM journal WHERE run_id = ? AND status = 'done'", run.id)
				.toArray()
				.map((r) => JSON.parse(r.op) as Op)
				.filter((op) => op.type === 'create-person' || op.type === 'create-group').length,
			pairs: state.storage.sql.exec<{ n: number }>('SELECT count(*) AS n FROM baseline').one().n
		}));
		// The group and the people made before the crash (the one cut off is not known to be done).
		expect(done).toBeGreaterThanOrEqual(3);
		expect(pairs).toBe(done);
	});
});
