/**
 * The local first start: POST /api/bootstrap creates the owner token and the demo systems, only
 * with LOCAL_BOOTSTRAP set and only while no owner exists. Then the demo, end to end through the
 * real SCIM connector and the sandboxes: a first run applies cleanly, the drift phase brings the
 * conflicts that need a baseline.
 */
import { env } from 'cloudflare:workers';
import { createExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { commitBaseline, makeLink, reconcile, runPlan, type OpOutcome } from '$lib/core';
import worker from '../../worker/index';
import type { Env } from '../../worker/env';
import { connectorFor } from '../../worker/systems/connect';
import { DEMO_LINK, HR, OPS, TEAM, drift } from '../../worker/sandbox/seed';
import { DISTRICT } from '../../worker/sandbox/seed-district';
import { ORIGIN, api, expectJson } from './support';

const call = (path: string, e: Partial<Env>, init: RequestInit = { method: 'POST' }) =>
	worker.fetch!(
		new Request(`${ORIGIN}${path}`, init) as Request<unknown, IncomingRequestCfProperties>,
		{ ...env, ...e } as Env,
		createExecutionContext()
	);

describe('POST /api/bootstrap', () => {
	it('does not exist unless LOCAL_BOOTSTRAP is set', async () => {
		for (const value of [undefined, '', '0', 'false']) {
			const body = await expectJson(call('/api/bootstrap', { LOCAL_BOOTSTRAP: value }), 404);
			expect(body.error).toBe('not-found');
		}
	});

	it('refuses without CREDENTIALS_KEY and creates nothing', async () => {
		await expectJson(call('/api/bootstrap', { LOCAL_BOOTSTRAP: '1', CREDENTIALS_KEY: undefined }), 503);
		expect(await env.ACCOUNT.getByName('account').hasOwner()).toBe(false);
		expect(await env.ACCOUNT.getByName('account').listSystems()).toEqual([]);
	});

	it('creates the owner token and the demo systems once', async () => {
		const first = await expectJson(call('/api/bootstrap', { LOCAL_BOOTSTRAP: '1' }), 201);
		expect(first).toMatchObject({
			role: 'owner',
			name: 'local owner',
			token: expect.stringMatching(/^[\w-]{43}$/),
			systems: { created: [OPS.id, TEAM.id, HR.id, DISTRICT.id], existing: [] }
		});
		expect(await expectJson(api('/api/me', { token: first.token }), 200)).toEqual({
			subject: 'token:local owner',
			role: 'owner',
			via: 'token'
		});

		const systems = await expectJson<any[]>(api('/api/systems', { token: first.token }), 200);
		expect(systems.map((s) => [s.id, s.name, s.connector, s.region])).toEqual([
			[OPS.id, 'Operations Center', 'sandbox', 'eu'],
			[TEAM.id, 'Team Manager', 'sandbox', 'eu'],
			[HR.id, 'HR export', 'csv', 'eu'],
			[DISTRICT.id, 'Lakeside School District', 'sandbox', 'eu']
		]);
		expect(systems[3].peopleMap).toMatchObject({ memberType: 'userType' });
		expect(systems[0].baseUrl).toBe(`${ORIGIN}/api/sandbox/${OPS.id}/scim/v2`);
		expect(systems[2].lastSnapshot).toMatchObject({ people: 230 });

		const again = await expectJson(call('/api/bootstrap', { LOCAL_BOOTSTRAP: '1' }), 409);
		expect(again).toMatchObject({ error: 'conflict', message: expect.stringContaining('owner exists') });
	});

	it('runs the demo through SCIM: a clean first run, then drift brings both-changed and changed-vs-removed', async () => {
		const owner = (await env.ACCOUNT.getByName('account').issueToken({ name: 'demo', role: 'owner' })).token;
		const link = makeLink({ id: 'demo', ...DEMO_LINK });
		const [a, b] = [await connectorFor(env, OPS.id), await connectorFor(env, TEAM.id)];
		const first = reconcile({
			link,
			a: await a.read(),
			b: await b.read(),
			baseline: { linkId: 'demo', entries: [] },
			now: Date.now()
		});
		const outcomes = new Map<string, OpOutcome>();
		await runPlan(first.plan.ops, outcomes, {
			apply: { a: (op, r) => a.apply(op, r), b: (op, r) => b.apply(op, r) },
			concurrency: 4
		});
		expect([...outcomes.values()].filter((o) => o.status !== 'done')).toEqual([]);
		const baseline = commitBaseline(first.plan, outcomes);

		const calm = reconcile({ link, a: await a.read(), b: await b.read(), baseline, now: Date.now() });
		expect(calm.plan.ops).toEqual([]);

		await expectJson(
			api('/api/sandbox/drift', {
				token: await env.ACCOUNT.getByName('account')
					.issueToken({ name: 'r', role: 'reviewer' })
					.then((t) => t.token),
				body: {}
			}),
			403
		);
		const drifted = await expectJson(api('/api/sandbox/drift', { token: owner, body: {} }), 200);
		expect(drifted[OPS.id]).toEqual({ applied: drift().ops.length, failed: [] });
		expect(drifted[TEAM.id]).toEqual({ applied: drift().team.length, failed: [] });

		const after = reconcile({ link, a: await a.read(), b: await b.read(), baseline, now: Date.now() });
		expect([...new Set(after.conflicts.map((c) => c.reason))].sort()).toEqual([
			'ambiguous-match',
			'both-changed',
			'changed-vs-removed',
			'name-collision'
		]);
		expect(after.counts.person.remove).toBe(5);
	});
});
