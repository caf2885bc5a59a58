/**
 * Rules apply on every snapshot the edge takes of their system: after a link's run that read it,
 * and hourly from the cron, so a person new in the system joins their groups the same day.
 * These only queue the application in each system's RulesDO; its alarm does the work.
 */
import type { RuleOwned } from '$lib/core';
import type { Env } from '../env';
import { account } from '../account/account-do';
import { rulesOf } from './rules-do';

/** Queues an application of the enabled rules of every system that has rules. */
export async function applyRulesEverywhere(
	env: Env,
	trigger: 'snapshot' | 'schedule'
): Promise<{ systems: number; failed: number }> {
	const systems = await account(env).ruleSystems();
	const results = await Promise.allSettled(systems.map((id) => rulesOf(env, id).applyAll(trigger)));
	return { systems: systems.length, failed: results.filter((r) => r.status === 'rejected').length };
}

/** After a link's run: the rules of both its systems apply to what the run left. */
export async function applyRulesAfterLinkRun(
	env: Pick<Env, 'RULES' | 'ACCOUNT'>,
	systems: { a: string; b: string }
): Promise<void> {
	const withRules = new Set(await account(env).ruleSystems());
	await Promise.allSettled(
		[systems.a, systems.b].filter((id) => withRules.has(id)).map((id) => rulesOf(env, id).applyAll('snapshot'))
	);
}

/** What a link's plan leaves alone: the memberships the rules of its two systems own. */
export async function ruleOwnedFor(
	env: Pick<Env, 'RULES' | 'ACCOUNT'>,
	systems: { a: string; b: string }
): Promise<RuleOwned> {
	const withRules = new Set(await account(env).ruleSystems());
	const [a, b] = await Promise.all(
		[systems.a, systems.b].map((id) => (withRules.has(id) ? rulesOf(env, id).owned() : Promise.resolve([])))
	);
	return { a, b };
}
