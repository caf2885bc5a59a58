/** Undoing a link's run never changes a membership a rule owns (the link leaves the rules' memberships alone). */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Reconciliation } from '$lib/core';
import type { RuleView } from '$lib/api/rules';
import type { RunSummary } from '../../worker/link/types';
import { api, expectJson, tokenFor, unique } from './support';
import { finish, newLink, sandboxSystem } from '../support/links';
import { district, districtSystem, drainRules, finishRule, membersOf } from '../support/rules';

let owner: string;
beforeAll(async () => {
	owner = await tokenFor('owner');
});
const OPEN = { count: 1_000_000, percent: 100 };
const OPEN_LIMITS = { person: OPEN, group: OPEN, membership: OPEN };

describe('link undo and rules', () => {
	it('undoing a link run that removed a member never changes the role the rule gave them since', async () => {
		const prefix = unique('lu');
		const target = await districtSystem(prefix);
		const mg = `${prefix}-mg`;
		const ada = district(prefix).people[0];
		const hr = await sandboxSystem({
			people: [{ ...ada, id: `${prefix}-hr-ada`, externalId: `${prefix}-hr-ada` }],
			groups: [{ id: `${prefix}-hg`, externalId: mg, name: 'North staff alerts', kind: 'message-group' }],
			memberships: [{ groupId: `${prefix}-hg`, personId: `${prefix}-hr-ada`, role: 'manager' }]
		});
		const linkId = await newLink(owner, {
			mode: 'provision',
			systems: { a: hr.id, b: target.id },
			limits: OPEN_LIMITS
		});
		await expectJson(api(`/api/links/${linkId}/enable`, { method: 'POST', token: owner }), 200);
		const runLink = async () => {
			await expectJson<Reconciliation>(api(`/api/links/${linkId}/reconcile`, { method: 'POST', token: owner }), 200);
			const started = await expectJson<RunSummary>(
				api(`/api/links/${linkId}/runs`, { token: owner, body: { dryRun: false } }),
				202
			);
			return finish(linkId, started.id);
		};
		expect(await runLink()).toMatchObject({ status: 'done' });
		expect(await membersOf(target.id, mg)).toMatchObject({ [ada.id]: 'manager' });

		// HR takes Ada out of the group: the link's run R removes her membership (the link's own).
		await env.SANDBOXES.getByName(hr.id).applyOps([
			{
				type: 'remove-membership',
				key: 'hr',
				side: 'b',
				step: 4,
				group: { id: `${prefix}-hg` },
				person: { id: `${prefix}-hr-ada` },
				before: 'manager'
			}
		]);
		const removal = await runLink();
		expect(removal).toMatchObject({ status: 'done' });
		expect(await membersOf(target.id, mg)).not.toHaveProperty(ada.id);
		await drainRules(target.id);

		// A rule for north staff, as member, adds her back: the rule's membership now.
		const rule = await expectJson<RuleView>(
			api(`/api/systems/${target.id}/rules`, {
				token: owner,
				body: {
					name: 'North staff',
					groupId: mg,
					scope: 'buildings',
					buildings: ['north'],
					memberTypes: ['staff'],
					role: 'member',
					enabled: true
				}
			}),
			201
		);
		await finishRule(target.id, rule.id, rule.running!);
		expect(await membersOf(target.id, mg)).toMatchObject({ [ada.id]: 'member' });
		expect((await expectJson<RuleView>(api(`/api/rules/${rule.id}`, { token: owner }), 200)).owned).toBe(1);

		// Undoing R must leave the rule's membership as the rule made it.
		const undo = await expectJson<RunSummary>(
			api(`/api/links/${linkId}/runs/${removal.id}/undo`, { token: owner, body: {} }),
			202
		);
		await finish(linkId, undo.id);
		expect(await membersOf(target.id, mg)).toMatchObject({ [ada.id]: 'member' });
	});
});
