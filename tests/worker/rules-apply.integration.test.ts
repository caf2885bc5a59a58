/**
 * Rules applying over time in workerd: the hourly cron brings a new person into their group and
 * takes out one who left the rule's scope (never a member added by hand); an application with
 * nothing to do is not history; and a link and a rule on the same group never fight: after the
 * link's run the rule applies, and the link's plan leaves the rule's membership alone.
 */
import { env } from 'cloudflare:workers';
import { createExecutionContext, createScheduledController } from 'cloudflare:test';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Op } from '$lib/core';
import type { RuleRunSummary, RuleView } from '$lib/api/rules';
import type { Reconciliation } from '$lib/core';
import type { RunSummary } from '../../worker/link/types';
import worker from '../../worker/index';
import { api, expectJson, tokenFor } from './support';
import { finish, newLink, sandboxSystem } from '../support/links';
import { district, districtSystem, drainRules, enabledRule, hrLinkedTo, membersOf } from '../support/rules';
import { unique } from './support';

let owner: string;
beforeAll(async () => {
	owner = await tokenFor('owner');
});
afterEach(() => vi.restoreAllMocks());

/** The hourly cron, as Cloudflare calls it (SELF.scheduled() cannot be used under the pool). */
async function cron(): Promise<Record<string, unknown>> {
	const log = vi.spyOn(console, 'log').mockImplementation(() => {});
	await worker.scheduled(
		createScheduledController({ scheduledTime: Date.now(), cron: '0 * * * *' }),
		env,
		createExecutionContext()
	);
	const line = log.mock.calls.map((c) => JSON.parse(String(c[0]))).find((l) => l.event === 'scheduled');
	log.mockRestore();
	return line;
}

const sandboxOp = (systemId: string, op: Op) => env.SANDBOXES.getByName(systemId).applyOps([op]);

const runsOf = (ruleId: string) =>
	expectJson<RuleRunSummary[]>(api(`/api/rules/${ruleId}/runs`, { token: owner }), 200);

describe('rules applying', () => {
	it('hourly from the cron: a new person joins, one who left the scope leaves, a manual member stays', async () => {
		const prefix = unique('h');
		const system = await districtSystem(prefix);
		const mg = `${prefix}-mg`;
		const rule = await enabledRule(owner, system.id, mg);
		expect(await membersOf(system.id, mg)).toEqual({ [`${prefix}-m1`]: 'manager', [`${prefix}-s1`]: 'member' });

		// Nothing changed: the cron's application is not history.
		expect(await cron()).toMatchObject({ event: 'scheduled', rulesFailed: 0 });
		await drainRules(system.id);
		const rs = await runsOf(rule.id);
		if (rs.length > 1)
			console.error(
				JSON.stringify(await expectJson(api(`/api/rules/${rule.id}/runs/${rs[0].id}`, { token: owner }), 200))
			);
		expect((await runsOf(rule.id)).map((r) => r.trigger)).toEqual(['person']);

		// A new teacher arrives in the north building; Ada moves south; the manual manager moves south too.
		await sandboxOp(system.id, {
			type: 'create-person',
			key: 'new',
			side: 'b',
			step: 1,
			record: {
				displayName: 'Fay Newcomer',
				email: `${prefix}.new@district.example`,
				memberType: 'staff',
				buildings: ['north'],
				active: true
			},
			restoreId: `${prefix}-n1`
		});
		for (const id of ['s1', 'm1'])
			await sandboxOp(system.id, {
				type: 'update-person',
				key: `move-${id}`,
				side: 'b',
				step: 1,
				target: { id: `${prefix}-${id}` },
				values: { buildings: 'south' },
				before: {}
			});

		await cron();
		await drainRules(system.id);
		expect(await membersOf(system.id, mg)).toEqual({ [`${prefix}-m1`]: 'manager', [`${prefix}-n1`]: 'member' });
		const [scheduled] = await runsOf(rule.id);
		expect(scheduled).toMatchObject({ trigger: 'schedule', status: 'done', counts: { add: 1, remove: 1, role: 0 } });
		expect((await expectJson<RuleView>(api(`/api/rules/${rule.id}`, { token: owner }), 200)).owned).toBe(1);
	});

	it('a link and a rule on the same group: the link never removes the rule’s member, and the rule applies after the link’s run', async () => {
		const prefix = unique('l');
		const target = await districtSystem(prefix);
		const mg = `${prefix}-mg`;
		const ada = district(prefix).people[0];
		// The HR source: Ada, in the group the district calls mg (same external id).
		const { linkId, runLink, leaveInHr } = await hrLinkedTo(owner, prefix, target, 'member');

		// The link adds Ada first: the link's membership.
		expect(await runLink()).toMatchObject({ status: 'done' });
		expect(await membersOf(target.id, mg)).toMatchObject({ [ada.id]: 'member' });

		// Someone removes her by hand; the rule (north staff) wants her and adds her back: the rule's now.
		await sandboxOp(target.id, {
			type: 'remove-membership',
			key: 'hand',
			side: 'b',
			step: 4,
			group: { id: mg },
			person: { id: ada.id },
			before: 'member'
		});
		const rule = await enabledRule(owner, target.id, mg);
		expect((await expectJson<RuleView>(api(`/api/rules/${rule.id}`, { token: owner }), 200)).owned).toBe(1);

		// HR takes Ada out of the group: the link would remove her, but she is the rule's.
		await leaveInHr();
		const plan = await expectJson<Reconciliation>(
			api(`/api/links/${linkId}/reconcile`, { method: 'POST', token: owner }),
			200
		);
		expect(plan.plan.ops.filter((o) => o.type === 'remove-membership' || o.type === 'set-role')).toEqual([]);
		expect(await runLink()).toMatchObject({ status: 'done' });
		expect(await membersOf(target.id, mg)).toMatchObject({ [ada.id]: 'member' });

		// The link's run handed the district to its rules, which applied to what it left (nothing to do).
		await drainRules(target.id);
		expect((await runsOf(rule.id)).every((r) => r.status === 'done')).toBe(true);
		expect(await membersOf(target.id, mg)).toMatchObject({ [ada.id]: 'member' });
	});

	it('after a link run the rules of its systems apply: a person the link brings in joins the rule’s group', async () => {
		const prefix = unique('j');
		const target = await districtSystem(prefix);
		const kg = `${prefix}-kg`;
		const rule = await enabledRule(owner, target.id, kg, { name: 'North students', memberTypes: ['student'] });
		expect(await membersOf(target.id, kg)).toEqual({ [`${prefix}-k1`]: 'member' });
		// HR brings a new north student the district does not have yet.
		const hr = await sandboxSystem({
			people: [
				{
					id: `${prefix}-hr-z`,
					externalId: `${prefix}-hr-z`,
					displayName: 'Zed North',
					email: `${prefix}.z@district.example`,
					memberType: 'student',
					buildings: ['north'],
					active: true
				}
			],
			groups: [],
			memberships: []
		});
		const linkId = await newLink(owner, { mode: 'provision', systems: { a: hr.id, b: target.id } });
		await expectJson(api(`/api/links/${linkId}/enable`, { method: 'POST', token: owner }), 200);
		await expectJson(api(`/api/links/${linkId}/reconcile`, { method: 'POST', token: owner }), 200);
		const started = await expectJson<RunSummary>(
			api(`/api/links/${linkId}/runs`, { token: owner, body: { dryRun: false } }),
			202
		);
		expect(await finish(linkId, started.id)).toMatchObject({ status: 'done' });
		// The run is done before the link hands its systems to their rules (the same alarm, just
		// after): wait for the rule's application to be queued and worked.
		let applied: Awaited<ReturnType<typeof runsOf>>[number] | undefined;
		for (let i = 0; applied?.trigger !== 'snapshot' || applied.status === 'running'; i++) {
			if (i > 400) throw new Error(`the rule never applied after the link run: ${JSON.stringify(applied)}`);
			await new Promise((r) => setTimeout(r, 25));
			await drainRules(target.id);
			[applied] = await runsOf(rule.id);
		}
		expect(applied).toMatchObject({ trigger: 'snapshot', status: 'done', counts: { add: 1 } });
		expect(Object.keys(await membersOf(target.id, kg))).toHaveLength(2);
	});
});
