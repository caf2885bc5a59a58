/** Helpers for the rules' workerd tests: a small district in a sandbox, and driving rule runs to their end. */
import { env } from 'cloudflare:workers';
import { runDurableObjectAlarm } from 'cloudflare:test';
import type { Group, Membership, Person } from '$lib/core';
import type { RuleRunSummary } from '$lib/api/rules';
import type { SystemView } from '../../worker/account/account-do';
import { sandboxSystem } from './links';

/** Staff and students of two buildings; one message group with a manager added by hand. */
export function district(prefix: string): { people: Person[]; groups: Group[]; memberships: Membership[] } {
	const p = (id: string, name: string, memberType: 'staff' | 'student', buildings: string[]): Person => ({
		id: `${prefix}-${id}`,
		externalId: `${prefix}-${id}`,
		displayName: name,
		email: `${prefix}.${id}@district.example`,
		memberType,
		buildings,
		active: true
	});
	return {
		people: [
			p('s1', 'Ada North', 'staff', ['north']),
			p('s2', 'Ben South', 'staff', ['south']),
			p('k1', 'Cy North', 'student', ['north']),
			p('k2', 'Di South', 'student', ['south']),
			p('m1', 'Eve Manager', 'staff', ['north'])
		],
		groups: [
			{ id: `${prefix}-mg`, externalId: `${prefix}-mg`, name: 'North staff alerts', kind: 'message-group' },
			{ id: `${prefix}-kg`, externalId: `${prefix}-kg`, name: 'North students', kind: 'message-group' }
		],
		memberships: [{ groupId: `${prefix}-mg`, personId: `${prefix}-m1`, role: 'manager' }]
	};
}

export const districtSystem = (prefix: string): Promise<SystemView> => sandboxSystem(district(prefix));

/** The members of a sandbox group now (person id -> role). */
export async function membersOf(systemId: string, groupId: string): Promise<Record<string, string>> {
	const snap = await env.SANDBOXES.getByName(systemId).snapshot();
	return Object.fromEntries(
		snap.memberships
			.filter((m) => m.groupId === groupId)
			.map((m) => [m.personId, m.role])
			.sort(([a], [b]) => (a < b ? -1 : 1))
	);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Drives the system's RulesDO until the run has ended (alarms also fire on their own). */
export async function finishRule(
	systemId: string,
	ruleId: string,
	runId: string,
	timeoutMs = 25_000
): Promise<RuleRunSummary> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const stub = env.RULES.getByName(systemId);
		const run = (await stub.runs(ruleId, 200))?.find((r) => r.id === runId);
		if (!run) throw new Error(`no run ${runId}`);
		if (run.status !== 'running') return run;
		if (!(await runDurableObjectAlarm(stub))) await sleep(10);
		if (Date.now() > deadline) throw new Error(`run ${runId} still running`);
	}
}

/**
 * Works the system's RulesDO queue to its end, waiting for an alarm invocation already working it
 * (Miniflare fires alarms on its own too).
 */
export async function drainRules(systemId: string): Promise<void> {
	await env.RULES.getByName(systemId).drain();
}
