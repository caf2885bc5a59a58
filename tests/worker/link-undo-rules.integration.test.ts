/** Undoing a link's run never changes a membership a rule owns (the link leaves the rules' memberships alone). */
import { beforeAll, describe, expect, it } from 'vitest';
import type { RuleView } from '$lib/api/rules';
import type { RunSummary } from '../../worker/link/types';
import { api, expectJson, tokenFor, unique } from './support';
import { finish } from '../support/links';
import { district, districtSystem, drainRules, enabledRule, hrLinkedTo, membersOf } from '../support/rules';

let owner: string;
beforeAll(async () => {
	owner = await tokenFor('owner');
});

describe('link undo and rules', () => {
	it('undoing a link run that removed a member never changes the role the rule gave them since', async () => {
		const prefix = unique('lu');
		const target = await districtSystem(prefix);
		const mg = `${prefix}-mg`;
		const ada = district(prefix).people[0];
		const { linkId, runLink, leaveInHr } = await hrLinkedTo(owner, prefix, target, 'manager');
		expect(await runLink()).toMatchObject({ status: 'done' });
		expect(await membersOf(target.id, mg)).toMatchObject({ [ada.id]: 'manager' });

		// HR takes Ada out of the group: the link's run R removes her membership (the link's own).
		await leaveInHr();
		const removal = await runLink();
		expect(removal).toMatchObject({ status: 'done' });
		expect(await membersOf(target.id, mg)).not.toHaveProperty(ada.id);
		await drainRules(target.id);

		// A rule for north staff, as member, adds her back: the rule's membership now.
		const rule = await enabledRule(owner, target.id, mg);
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
