/**
 * The edge reconciles in parts (snapshots in SQLite, a part of the people at a time) and answers
 * what it answers in one part: on the seeded sandboxes, which show every situation and conflict
 * reason, first with no baseline, then after a run and the seed's drift. A real run made in small
 * parts converges: reconciled again, it proposes nothing.
 */
import { env, runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { reconcile, STEP, type LinkConfig, type Reconciliation, type Resolution, type Snapshot } from '$lib/core';
import type { LinkDO } from '../../worker/link/link-do';
import type { SystemView } from '../../worker/account/account-do';
import { drift, seedOps, seedTeam } from '../../worker/sandbox/seed';
import type { LinkView, RunSummary } from '../../worker/link/types';
import { sandboxStub } from '../../worker/systems/connect';
import { finish, roster, sandboxSystem } from '../support/links';
import { answer, normalized } from '../support/plans';
import { api, expectJson, tokenFor } from './support';

let owner: string;
let reviewer: string;
let a: SystemView;
let b: SystemView;
let linkId: string;

const OPEN = { count: 100_000, percent: 100 };

/** One instant for every reconciliation: removals carry the time they were planned at. */
const NOW = Date.parse('2026-11-21T12:00:00Z');

/** Sets how many people the link's Durable Object reconciles per part (and stops its clock). */
const partSize = (n: number) =>
	runInDurableObject(env.LINKS.getByName(linkId), (instance: LinkDO) => {
		instance.deps.peoplePerPart = n;
		instance.deps.now = () => NOW;
	});

const reconcileWith = async (peoplePerPart: number): Promise<Reconciliation> => {
	await partSize(peoplePerPart);
	return expectJson<Reconciliation>(api(`/api/links/${linkId}/reconcile`, { method: 'POST', token: reviewer }), 200);
};

const storedPlan = () => expectJson<Reconciliation>(api(`/api/links/${linkId}/plan`, { token: reviewer }), 200);

/**
 * The core's reconcile over the snapshots, baseline and resolutions the link's Durable Object
 * holds: what the edge's plan must equal, whatever its parts.
 */
const coreReconcile = async () => {
	// The records as the link serves them (its current reads), whichever rows hold them.
	const read = await expectJson<Record<'a' | 'b', Snapshot>>(
		api(`/api/links/${linkId}/snapshots`, { token: reviewer }),
		200
	);
	return runInDurableObject(env.LINKS.getByName(linkId), (_instance: LinkDO, state) => {
		const sql = state.storage.sql;
		const meta = <T>(key: string) =>
			JSON.parse(sql.exec<{ value: string }>('SELECT value FROM meta WHERE key = ?', key).one().value) as T;
		const versions = meta<{ a: string; b: string }>('versions');
		// What each system holds, as the edge discovered it: the fields the plan may carry.
		const held = meta<Record<'a' | 'b', { fields?: string[] }>>('snapshots');
		const side = (s: 'a' | 'b'): Snapshot => ({
			system: s,
			takenAt: '',
			version: versions[s],
			...(held[s].fields ? { fields: held[s].fields } : {}),
			people: read[s].people,
			groups: read[s].groups,
			memberships: read[s].memberships
		});
		const config = meta<LinkConfig>('config');
		const entries = sql
			.exec<{ entry: string }>('SELECT entry FROM baseline')
			.toArray()
			.map((r) => JSON.parse(r.entry));
		const resolutions = sql
			.exec<{ resolution: string }>('SELECT resolution FROM resolutions')
			.toArray()
			.map((r) => JSON.parse(r.resolution));
		return reconcile({
			link: config,
			a: side('a'),
			b: side('b'),
			baseline: { linkId: config.id, entries },
			resolutions,
			now: NOW
		});
	});
};

/**
 * In parts of 25 people (the seed has a few hundred) and in one part: what the core's reconcile
 * answers over the same records, as answered and as stored.
 */
async function expectSamePlans(): Promise<Reconciliation> {
	for (const size of [1_000_000, 25]) {
		const answered = await reconcileWith(size);
		const whole = normalized(await coreReconcile());
		expect(normalized(answered)).toEqual(whole);
		expect(normalized(await storedPlan())).toEqual(whole);
	}
	return storedPlan();
}

beforeAll(async () => {
	[owner, reviewer] = await Promise.all([tokenFor('owner'), tokenFor('reviewer')]);
	a = await sandboxSystem(seedOps(), 'Operations Center (parts)');
	b = await sandboxSystem(seedTeam(), 'Team Manager (parts)');
	const view = await expectJson<LinkView>(
		api('/api/links', {
			token: owner,
			body: {
				name: 'Ops ⇄ Team in parts',
				mode: 'two-way',
				systems: { a: a.id, b: b.id },
				match: { person: 'email', group: 'externalId' },
				fieldMap: [{ a: 'rank', b: 'grade' }],
				limits: { person: OPEN, group: OPEN, membership: OPEN }
			}
		}),
		201
	);
	linkId = view.config.id;
});

describe('reconciling in parts at the edge', () => {
	it('plans the first reconciliation in parts as it does whole', async () => {
		const rec = await expectSamePlans();
		expect(rec.plan.next.length).toBeGreaterThan(100);
		expect(rec.conflicts.length).toBeGreaterThan(0);
	});

	it('runs in parts, then plans the drift in parts as it does whole', { timeout: 30_000 }, async () => {
		const first = await reconcileWith(25);
		const resolutions: Resolution[] = first.conflicts.flatMap(
			(c) => answer(c, c.reason === 'ambiguous-match' || c.reason === 'name-collision' ? 'ignore' : 'take-a') ?? []
		);
		await expectJson(api(`/api/links/${linkId}/resolutions`, { token: reviewer, body: { resolutions } }), 200);
		await expectJson<LinkView>(api(`/api/links/${linkId}/enable`, { method: 'POST', token: owner }), 200);
		const run = await expectJson<RunSummary>(
			api(`/api/links/${linkId}/runs`, { token: owner, body: { dryRun: false } }),
			202
		);
		expect(await finish(linkId, run.id)).toMatchObject({ status: 'done', tally: { failed: 0 } });

		const edits = drift();
		await sandboxStub(env, a.id).applyOps(edits.ops);
		await sandboxStub(env, b.id).applyOps(edits.team);
		const rec = await expectSamePlans();
		expect(rec.plan.ops.length).toBeGreaterThan(0);
		expect(new Set(rec.conflicts.map((c) => c.reason))).toContain('both-changed');
	});

	it('serves the snapshots the current plan was made from', async () => {
		const plan = await storedPlan();
		const snaps = await expectJson<Record<'a' | 'b', Snapshot>>(
			api(`/api/links/${linkId}/snapshots`, { token: reviewer }),
			200
		);
		expect({ a: snaps.a.version, b: snaps.b.version }).toEqual(plan.versions);
		for (const [side, system] of [
			['a', a],
			['b', b]
		] as const) {
			const now = await sandboxStub(env, system.id).snapshot();
			expect(snaps[side].people.map((p) => p.id).sort()).toEqual(now.people.map((p) => p.id).sort());
			expect(snaps[side].groups.length).toBe(now.groups.length);
			expect(snaps[side].memberships.length).toBe(now.memberships.length);
		}
	});

	it('converges: a run made in parts leaves nothing to do but the conflicts', async () => {
		await partSize(25);
		const run = await expectJson<RunSummary>(
			api(`/api/links/${linkId}/runs`, { token: owner, body: { dryRun: false } }),
			202
		);
		expect(await finish(linkId, run.id)).toMatchObject({ status: 'done', tally: { failed: 0 } });
		const again = await reconcileWith(25);
		expect(again.plan.ops).toEqual([]);
		expect(normalized(await reconcileWith(1_000_000))).toEqual(normalized(again));
	});
});

describe('a provisioning link, run in parts', () => {
	let hr: SystemView;
	let team: SystemView;
	let link: string;

	const run = async () => {
		const started = await expectJson<RunSummary>(
			api(`/api/links/${link}/runs`, { token: owner, body: { dryRun: false } }),
			202
		);
		return finish(link, started.id);
	};

	beforeAll(async () => {
		hr = await sandboxSystem(roster('pp', 60, 4), 'HR (parts)');
		team = await sandboxSystem({ people: [], groups: [], memberships: [] }, 'Team (parts)');
		const view = await expectJson<LinkView>(
			api('/api/links', {
				token: owner,
				body: {
					name: 'HR → Team in parts',
					mode: 'provision',
					systems: { a: hr.id, b: team.id },
					match: { person: 'email', group: 'externalId' },
					limits: { person: OPEN, group: OPEN, membership: OPEN }
				}
			}),
			201
		);
		link = view.config.id;
		await runInDurableObject(env.LINKS.getByName(link), (instance: LinkDO) => {
			instance.deps.peoplePerPart = 7;
		});
		await expectJson(api(`/api/links/${link}/enable`, { method: 'POST', token: owner }), 200);
		expect(await run()).toMatchObject({ status: 'done', tally: { failed: 0 } });
	});

	it('recreates an account deleted by hand once, and lets its old pairing go', async () => {
		const target = await sandboxStub(env, team.id).snapshot();
		expect(target.people).toHaveLength(60);
		const gone = target.people[0];
		await sandboxStub(env, team.id).applyOps([
			{
				key: 'by-hand',
				side: 'b',
				step: STEP.peopleRemovals,
				type: 'remove-person',
				target: { id: gone.id },
				soft: false,
				before: gone,
				beforeMembers: []
			}
		]);
		const rec = await expectJson<Reconciliation>(
			api(`/api/links/${link}/reconcile`, { method: 'POST', token: reviewer }),
			200
		);
		expect(rec.plan.ops.filter((o) => o.type === 'create-person')).toHaveLength(1);
		expect(rec.plan.keep.some((e) => e.b === gone.id)).toBe(false);
		expect(await run()).toMatchObject({ status: 'done', tally: { failed: 0 } });
		const again = await expectJson<Reconciliation>(
			api(`/api/links/${link}/reconcile`, { method: 'POST', token: reviewer }),
			200
		);
		expect(again.plan.ops).toEqual([]);
		expect((await sandboxStub(env, team.id).snapshot()).people).toHaveLength(60);
	});
});
