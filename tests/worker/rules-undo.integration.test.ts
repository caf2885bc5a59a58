/**
 * A rule's journal and undo through the RulesDO: a failed undo can be tried again, a read that
 * lacks the group does not make the rule forget what it added, and undo stays in the run's group.
 */
import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RuleRunSummary, RuleView } from '$lib/api/rules';
import { ConnectorError, type Connector } from '../../worker/connectors/types';
import type { RulesDO } from '../../worker/rules/rules-do';
import { api, expectJson, tokenFor, unique } from './support';
import { districtSystem, enabledRule, finishRule, membersOf } from '../support/rules';

let owner: string;
beforeAll(async () => {
	owner = await tokenFor('owner');
});

/** The RulesDO's own connector per system, kept while a test swaps in another. */
const realConnectors = new Map<string, RulesDO['deps']['connector']>();

/** The system read through `read` instead of as it is (undefined: as it is again). */
async function readAs(systemId: string, read?: (real: Connector) => Connector['read']): Promise<void> {
	await runInDurableObject(env.RULES.getByName(systemId), async (instance: RulesDO) => {
		const real = realConnectors.get(systemId) ?? instance.deps.connector;
		realConnectors.set(systemId, real);
		instance.deps.connector = read
			? async (id) => {
					const c = await real(id);
					const swapped: Connector = Object.create(c);
					swapped.read = read(c);
					return swapped;
				}
			: real;
		await instance.forgetSnapshot();
	});
}

const ruleView = (id: string) => expectJson<RuleView>(api(`/api/rules/${id}`, { token: owner }), 200);

describe('rule undo and journal', () => {
	it('an undo that failed before changing anything can be tried again', async () => {
		const prefix = unique('u');
		const system = await districtSystem(prefix);
		const mg = `${prefix}-mg`;
		const rule = await enabledRule(owner, system.id, mg);
		const [applied] = await expectJson<RuleRunSummary[]>(api(`/api/rules/${rule.id}/runs`, { token: owner }), 200);
		expect(applied.tally.done).toBe(1);

		await readAs(system.id, () => async () => {
			throw new ConnectorError({
				code: 'unreachable',
				system: system.id,
				detail: 'down for maintenance',
				retryable: true
			});
		});
		const undo = await expectJson<RuleRunSummary>(
			api(`/api/rules/${rule.id}/runs/${applied.id}/undo`, { token: owner, body: {} }),
			202
		);
		expect(await finishRule(system.id, rule.id, undo.id)).toMatchObject({ status: 'failed', tally: { done: 0 } });
		expect(await membersOf(system.id, mg)).toEqual({ [`${prefix}-m1`]: 'manager', [`${prefix}-s1`]: 'member' });

		// The system is back: the run was never undone, so undoing it again is allowed.
		await readAs(system.id);
		const again = await api(`/api/rules/${rule.id}/runs/${applied.id}/undo`, { token: owner, body: {} });
		expect(again.status, await again.clone().text()).toBe(202);
	});

	it('a read that lacks the group fails the run and leaves the journal as it was', async () => {
		const prefix = unique('g');
		const system = await districtSystem(prefix);
		const mg = `${prefix}-mg`;
		const rule = await enabledRule(owner, system.id, mg);
		expect((await ruleView(rule.id)).owned).toBe(1);

		await readAs(system.id, (real) => async (signal) => {
			const snap = await real.read(signal);
			return {
				...snap,
				groups: snap.groups.filter((g) => g.id !== mg),
				memberships: snap.memberships.filter((m) => m.groupId !== mg)
			};
		});
		const run = await expectJson<RuleRunSummary>(
			api(`/api/rules/${rule.id}/run`, { token: owner, body: { dryRun: false } }),
			202
		);
		expect(await finishRule(system.id, rule.id, run.id)).toMatchObject({ status: 'failed' });
		await readAs(system.id);

		// The group is readable again: the rule still owns the member it added.
		expect((await ruleView(rule.id)).owned).toBe(1);
	});

	it('undoing a run after the rule moved to another group changes nothing in the new group', async () => {
		const prefix = unique('m');
		const system = await districtSystem(prefix);
		const mg = `${prefix}-mg`;
		const kg = `${prefix}-kg`;
		const rule = await enabledRule(owner, system.id, mg);
		const off = await expectJson<RuleView>(
			api(`/api/rules/${rule.id}/disable`, { token: owner, body: { removeMembers: true } }),
			200
		);
		const removal = await finishRule(system.id, rule.id, off.running!);
		expect(removal).toMatchObject({ status: 'done', counts: { remove: 1 } });
		// The rule owns nothing now, so it may be pointed at another group.
		await expectJson(api(`/api/rules/${rule.id}`, { method: 'PATCH', token: owner, body: { groupId: kg } }), 200);
		expect(await membersOf(system.id, kg)).toEqual({});

		const undo = await expectJson<RuleRunSummary>(
			api(`/api/rules/${rule.id}/runs/${removal.id}/undo`, { token: owner, body: {} }),
			202
		);
		await finishRule(system.id, rule.id, undo.id);
		// Ada was taken out of the staff group: undoing that never puts her in the students' group.
		expect(await membersOf(system.id, kg)).toEqual({});
	});
});
