/**
 * The pre-flight guard at the edge: a side whose count fell by more than the link's limit since
 * the last run fails the next reconciliation and run before any write, naming the counts, until an
 * owner confirms them. Sandbox to sandbox, through the API as an owner would.
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { STEP, type Op, type Person, type Reconciliation } from '$lib/core';
import type { LinkView, RunDetails, RunSummary } from '../../worker/link/types';
import { sandboxStub } from '../../worker/systems/connect';
import { finish, newLink, sandboxSystem } from '../support/links';
import { api, expectJson, tokenFor, unique } from './support';

const people: Person[] = Array.from({ length: 10 }, (_, i) => ({
	id: `g-p${i}`,
	externalId: `G-E${i}`,
	displayName: `Person ${i}`,
	email: `g.p${i}@example.org`,
	active: true
}));

let owner: string;
let reviewer: string;
let linkId: string;
let sourceId: string;
let targetId: string;

const targetPeople = async () => (await sandboxStub(env, targetId).snapshot()).people;

async function runForReal(): Promise<RunSummary> {
	const started = await expectJson<RunSummary>(
		api(`/api/links/${linkId}/runs`, { token: owner, body: { dryRun: false } }),
		202
	);
	return finish(linkId, started.id);
}

beforeAll(async () => {
	owner = await tokenFor('owner');
	reviewer = await tokenFor('reviewer');
	const source = await sandboxSystem({ people, groups: [], memberships: [] });
	const target = await sandboxSystem({ people: [], groups: [], memberships: [] });
	sourceId = source.id;
	targetId = target.id;
	linkId = await newLink(owner, { mode: 'provision', systems: { a: source.id, b: target.id }, kinds: ['person'] });
	await expectJson(api(`/api/links/${linkId}/enable`, { method: 'POST', token: owner }), 200);
	expect((await runForReal()).status).toBe('done');
	expect(await targetPeople()).toHaveLength(10);
});

describe('the pre-flight guard', () => {
	it('a source that lost 30 % of its people fails the run before any write, naming the counts', async () => {
		const gone: Op[] = people.slice(0, 3).map((p) => ({
			key: unique('gone'),
			side: 'a',
			step: STEP.peopleRemovals,
			type: 'remove-person',
			target: { id: p.id },
			soft: false,
			before: p,
			beforeMembers: []
		}));
		expect(await sandboxStub(env, sourceId).applyOps(gone)).toMatchObject({ applied: 3 });

		const res = await api(`/api/links/${linkId}/reconcile`, { method: 'POST', token: owner });
		expect(res.status).toBe(502);
		const body = (await res.json()) as { message: string; shrunk: unknown[] };
		expect(body.message).toContain('has 7 people where it had 10');
		expect(body.shrunk).toEqual([{ side: 'a', system: sourceId, kind: 'person', before: 10, after: 7 }]);

		const run = await runForReal();
		expect(run).toMatchObject({ status: 'failed', error: { code: 'shrunk' } });
		const details = await expectJson<RunDetails>(api(`/api/links/${linkId}/runs/${run.id}`, { token: owner }), 200);
		expect(details.ops).toEqual([]);
		expect((await targetPeople()).filter((p) => p.active)).toHaveLength(10);

		const view = await expectJson<LinkView>(api(`/api/links/${linkId}`, { token: owner }), 200);
		expect(view.status.shrunk).toEqual([{ side: 'a', system: sourceId, kind: 'person', before: 10, after: 7 }]);
	});

	it('only an owner confirms; then the removals are planned as usual (staged above the limit)', async () => {
		expect((await api(`/api/links/${linkId}/confirm-counts`, { method: 'POST', token: reviewer })).status).toBe(403);
		const view = await expectJson<LinkView>(
			api(`/api/links/${linkId}/confirm-counts`, { method: 'POST', token: owner }),
			200
		);
		expect(view.status.shrunk).toBeUndefined();
		const rec = await expectJson<Reconciliation>(
			api(`/api/links/${linkId}/reconcile`, { method: 'POST', token: owner }),
			200
		);
		// 3 of the 10 people the link owns is over the default 20 % removal limit: staged for an owner.
		expect(rec.conflicts.map((c) => [c.reason, c.staged?.count])).toEqual([['threshold', 3]]);
		expect((await api(`/api/links/${linkId}/confirm-counts`, { method: 'POST', token: owner })).status).toBe(404);
	});
});
