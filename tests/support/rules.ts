/** Helpers for the rules' workerd tests: a small district in a sandbox, and driving rule runs to their end. */
import { env } from 'cloudflare:workers';
import { runDurableObjectAlarm } from 'cloudflare:test';
import type { Group, Membership, Person, Reconciliation } from '$lib/core';
import type { RuleRunSummary, RuleView } from '$lib/api/rules';
import type { SystemView } from '../../worker/account/account-do';
import type { RunSummary } from '../../worker/link/types';
import { api, expectJson } from '../worker/support';
import { finish, newLink, sandboxSystem } from './links';

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

/** The rule most tests make: north staff, as members of `groupId`. */
export const northStaff = (groupId: string) => ({
	name: 'North staff',
	groupId,
	scope: 'buildings',
	buildings: ['north'],
	memberTypes: ['staff'],
	role: 'member'
});

/** A rule made turned on (north staff as members, unless `extra` says otherwise), once its first run is over. */
export async function enabledRule(
	owner: string,
	systemId: string,
	groupId: string,
	extra: Record<string, unknown> = {}
): Promise<RuleView> {
	const rule = await expectJson<RuleView>(
		api(`/api/systems/${systemId}/rules`, {
			token: owner,
			body: { ...northStaff(groupId), enabled: true, ...extra }
		}),
		201
	);
	await finishRule(systemId, rule.id, rule.running!);
	return rule;
}

const OPEN = { count: 1_000_000, percent: 100 };

/**
 * An HR source holding Ada (the district's first person) in the group the district calls mg (same
 * external id) with `role`, and an enabled provisioning link from it to `target`: its limits open
 * (removing HR's one membership is a 100 % fall the guard would stop, which is not what is tested).
 * `runLink` reconciles and runs it to its end; `leaveInHr` takes Ada out of HR's group.
 */
export async function hrLinkedTo(
	owner: string,
	prefix: string,
	target: SystemView,
	role: 'member' | 'manager'
): Promise<{ hr: SystemView; linkId: string; runLink: () => Promise<RunSummary>; leaveInHr: () => Promise<void> }> {
	const ada = district(prefix).people[0];
	const hr = await sandboxSystem({
		people: [{ ...ada, id: `${prefix}-hr-ada`, externalId: `${prefix}-hr-ada` }],
		groups: [{ id: `${prefix}-hg`, externalId: `${prefix}-mg`, name: 'North staff alerts', kind: 'message-group' }],
		memberships: [{ groupId: `${prefix}-hg`, personId: `${prefix}-hr-ada`, role }]
	});
	const linkId = await newLink(owner, {
		mode: 'provision',
		systems: { a: hr.id, b: target.id },
		limits: { person: OPEN, group: OPEN, membership: OPEN }
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
	/** HR takes Ada out of the group. */
	const leaveInHr = async () => {
		await env.SANDBOXES.getByName(hr.id).applyOps([
			{
				type: 'remove-membership',
				key: 'hr',
				side: 'b',
				step: 4,
				group: { id: `${prefix}-hg` },
				person: { id: `${prefix}-hr-ada` },
				before: role
			}
		]);
	};
	return { hr, linkId, runLink, leaveInHr };
}
