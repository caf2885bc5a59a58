/**
 * Helpers for the link engine's workerd tests: systems (sandbox sources, SCIMMY targets reached over
 * 127.0.0.1), records, driving a run's alarms to the end, and reading its progress events.
 */
import { env } from 'cloudflare:workers';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { inject } from 'vitest';
import type { Group, LinkConfig, Membership, Op, Person } from '$lib/core';
import type { SystemView } from '../../worker/account/account-do';
import type { Connector } from '../../worker/connectors/types';
import type { LinkDO, LinkDeps } from '../../worker/link/link-do';
import type { LinkView, RunSummary } from '../../worker/link/types';
import { createSandbox } from '../../worker/sandbox/provision';
import type { SandboxRecords } from '../../worker/sandbox/sandbox-do';
import { ORIGIN, api, expectJson, unique } from '../worker/support';
import type { ScimmyName, ScimmyTarget } from './scimmy-target';

export type ScimResource = Record<string, any> & { id: string };
export interface ScimState {
	users: ScimResource[];
	groups: ScimResource[];
	log: string[];
}

export const scimmy = (name: ScimmyName): ScimmyTarget => inject('scimmy')[name];

export async function scimState(target: ScimmyTarget): Promise<ScimState> {
	return (await fetch(`${target.control}/state`)).json();
}

export async function scimReset(target: ScimmyTarget): Promise<void> {
	await fetch(`${target.control}/reset`, { method: 'POST' });
}

/** A seeded sandbox system (the built-in SCIM directory), created as POST /api/systems would. */
export async function sandboxSystem(
	records: SandboxRecords,
	name = unique('sandbox'),
	region = 'eu'
): Promise<SystemView> {
	const system = await createSandbox(env, { id: unique('sys-sbx'), name, region, origin: ORIGIN, records });
	if (!system) throw new Error('sandbox id taken');
	return system;
}

/** A SCIM system pointing at a SCIMMY target, through the API. */
export async function scimSystem(
	owner: string,
	target: ScimmyTarget,
	region = 'eu',
	name = unique('scimmy')
): Promise<SystemView> {
	return expectJson(
		api('/api/systems', {
			token: owner,
			body: { name, connector: 'scim', baseUrl: target.url, region, credentials: { token: target.token } }
		}),
		201
	);
}

/**
 * A link through the API, with no nightly schedule unless given (so only the test's runs write),
 * matching people on email and groups on their identifier unless told otherwise. Its id.
 */
export async function newLink(
	owner: string,
	body: Partial<LinkConfig> & Pick<LinkConfig, 'mode' | 'systems'>
): Promise<string> {
	const view = await expectJson<LinkView>(
		api('/api/links', {
			token: owner,
			body: {
				name: unique(body.mode),
				match: { person: 'email', group: 'externalId' },
				schedule: { timeZone: 'UTC', hour: 2, enabled: false },
				...body
			}
		}),
		201
	);
	return view.config.id;
}

/** The source operations that move a member from one group to another (keys prefixed `key`). */
export const memberMove = (personId: string, from: string, to: string, key = 'move'): Op[] => [
	{
		type: 'remove-membership',
		key: `${key}-out`,
		side: 'a',
		step: 4,
		group: { id: from },
		person: { id: personId },
		before: 'member'
	},
	{
		type: 'add-membership',
		key: `${key}-in`,
		side: 'a',
		step: 2,
		group: { id: to },
		person: { id: personId },
		role: 'member'
	}
];

/**
 * A directory of `n` people in `groups` communities: person i joins community i % groups (the
 * first member of each is its manager). Employee numbers are digits (SCIMMY insists).
 */
export function roster(
	prefix: string,
	n: number,
	groups: number
): SandboxRecords & { people: Person[]; groups: Group[]; memberships: Membership[] } {
	const people: Person[] = Array.from({ length: n }, (_, i) => ({
		id: `${prefix}-p${i}`,
		externalId: `${prefix}-E${i}`,
		displayName: `Person ${prefix} ${i}`,
		givenName: 'Person',
		familyName: `${prefix} ${i}`,
		email: `${prefix}.p${i}@example.org`,
		employeeNumber: String(10_000 + i),
		active: true
	}));
	const list: Group[] = Array.from({ length: groups }, (_, j) => ({
		id: `${prefix}-g${j}`,
		externalId: `${prefix}-G${j}`,
		name: `Team ${prefix} ${j}`,
		kind: 'community'
	}));
	const memberships: Membership[] = people.map((p, i) => ({
		groupId: list[i % groups].id,
		personId: p.id,
		role: i < groups ? 'manager' : 'member'
	}));
	return { people, groups: list, memberships };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits for a run to finish, firing the link's alarm when one is pending (alarms also fire on their
 * own under Miniflare; the LinkDO never runs two at once).
 */
export async function finish(linkId: string, runId: string, timeoutMs = 60_000): Promise<RunSummary> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		// A fresh stub each time: a stub to an object that was aborted stays broken.
		const stub = env.LINKS.getByName(linkId);
		let run: RunSummary | undefined;
		try {
			run = (await stub.runs(50)).find((r) => r.id === runId);
		} catch {
			await sleep(10);
			continue;
		}
		if (!run) throw new Error(`no run ${runId}`);
		if (run.status !== 'running') return run;
		try {
			if (!(await runDurableObjectAlarm(stub))) await sleep(10);
		} catch {
			// An alarm that crashed on purpose (tests that abort the object) may leave no alarm
			// behind: re-arm it as the hourly cron does for every link (ensureAlarm).
			await sleep(10);
			await env.LINKS.getByName(linkId)
				.ensureAlarm()
				.catch(() => undefined);
		}
		if (Date.now() > deadline)
			throw new Error(`run ${runId} still running after ${timeoutMs} ms: ${JSON.stringify(run.tally)}`);
	}
}

/** Every SSE event of a response body, until the server ends the stream. */
export async function readEvents(res: Response): Promise<{ event: string; data: any }[]> {
	const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
	let buffer = '';
	const events: { event: string; data: any }[] = [];
	for (;;) {
		const { done, value } = await reader.read();
		if (value) buffer += value;
		let at: number;
		while ((at = buffer.indexOf('\n\n')) >= 0) {
			const block = buffer.slice(0, at);
			buffer = buffer.slice(at + 2);
			const lines = block.split('\n');
			const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
			const data = lines.find((l) => l.startsWith('data: '))?.slice(6);
			if (event && data) events.push({ event, data: JSON.parse(data) });
		}
		if (done) return events;
	}
}

/**
 * Makes the link's current instance write to `systemId` one operation at a time (no batches)
 * through `apply`, which is handed the real connector's write and the instance's state (to abort
 * it, as a crash would). `deps` changes other settings of that instance (concurrency, attempts).
 */
export function interceptWrites(
	linkId: string,
	systemId: string,
	apply: (
		op: Parameters<Connector['apply']>[0],
		write: () => ReturnType<Connector['apply']>,
		state: DurableObjectState
	) => ReturnType<Connector['apply']>,
	deps: Partial<LinkDeps> = {}
): Promise<void> {
	return runInDurableObject(env.LINKS.getByName(linkId), (instance: LinkDO, state) => {
		const real = instance.deps.connector;
		instance.deps = {
			...instance.deps,
			...deps,
			connector: async (id, config) => {
				const c = await real(id, config);
				if (id !== systemId) return c;
				const wrapped: Connector = Object.create(c);
				Object.defineProperty(wrapped, 'batching', { value: undefined });
				Object.defineProperty(wrapped, 'applyBatch', { value: undefined });
				wrapped.apply = (op, resolve) => apply(op, () => c.apply(op, resolve), state);
				return wrapped;
			}
		};
	});
}
