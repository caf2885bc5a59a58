/**
 * Reads for the rules screens, through the edge and remembered for offline (see cached.ts). Rules
 * change online only: a rule's preview must come from the edge's latest snapshot of its system,
 * so nothing about a rule is queued offline; the screens say so and disable the controls.
 */
import type { SystemView } from '$lib/api/types';
import type { RuleRunSummary, RuleView } from '$lib/api/rules';
import { ruleChoices, type RuleChoices } from '$lib/components/rules';
import { cached, type Cached } from './cached';
import { session } from './session.svelte';

export const ruleKeys = {
	list: (systemId: string) => `rules:${systemId}`,
	rule: (ruleId: string) => `rule:${ruleId}`,
	runs: (ruleId: string) => `rule-runs:${ruleId}`,
	run: (ruleId: string, runId: string) => `rule-run:${ruleId}:${runId}`,
	choices: (systemId: string) => `rule-choices:${systemId}`
};

export const systemsCached = (): Promise<Cached<SystemView[]>> => cached('systems', () => session.api.systems());

/**
 * The system's message groups and the buildings its people have, read from the system now. Only
 * these (small) choices are remembered, never the people themselves.
 */
export const choicesCached = (systemId: string): Promise<Cached<RuleChoices>> =>
	cached(ruleKeys.choices(systemId), async () => ruleChoices(await session.api.systemSnapshot(systemId)));

export const rulesCached = (systemId: string): Promise<Cached<RuleView[]>> =>
	cached(ruleKeys.list(systemId), () => session.api.rules(systemId));

export const ruleCached = (ruleId: string): Promise<Cached<RuleView>> =>
	cached(ruleKeys.rule(ruleId), () => session.api.rule(ruleId));

export const ruleRunsCached = (ruleId: string): Promise<Cached<RuleRunSummary[]>> =>
	cached(ruleKeys.runs(ruleId), () => session.api.ruleRuns(ruleId, 30));

/** The path of a rule's screens. */
export const rulePath = (systemId: string, ruleId?: string, runId?: string): string => {
	let p = `/systems/${encodeURIComponent(systemId)}/rules`;
	if (ruleId) p += `/${encodeURIComponent(ruleId)}`;
	if (runId) p += `/runs/${encodeURIComponent(runId)}`;
	return p;
};
