/**
 * Access for synced people through the API, between two sandboxes (the built-in SCIM servers,
 * reached by the scim connector): the settings validated at the edge, the preview's counts, the
 * grant written as the sandbox's access flag, journaled and undone, and revoked on removal.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Reconciliation } from '$lib/core';
import type { SystemView } from '../../worker/account/account-do';
import type { LinkView, RunSummary } from '../../worker/link/types';
import { sandboxStub } from '../../worker/systems/connect';
import { finish, newLink, roster, sandboxSystem } from '../support/links';
import { api, expectJson, tokenFor } from './support';
import { env } from 'cloudflare:workers';

const ops = roster('ax', 4, 2);
let owner: string;
let reviewer: string;
let a: SystemView;
let b: SystemView;
let linkId: string;

const bPeople = async () => (await sandboxStub(env, b.id).snapshot()).people;
const withAccess = async () =>
	(await bPeople())
		.filter((p) => p.access === true)
		.map((p) => p.email)
		.sort();

async function reconcile(): Promise<Reconciliation> {
	return expectJson<Reconciliation>(api(`/api/links/${linkId}/reconcile`, { token: reviewer, body: {} }), 200);
}

async function runNow(): Promise<RunSummary> {
	const run = await expectJson<RunSummary>(
		api(`/api/links/${linkId}/runs`, { token: owner, body: { dryRun: false } }),
		202
	);
	return finish(linkId, run.id);
}

beforeAll(async () => {
	[owner, reviewer] = await Promise.all([tokenFor('owner'), tokenFor('reviewer')]);
	a = await sandboxSystem(ops, 'Operations Center');
	b = await sandboxSystem({ people: [], groups: [], memberships: [] }, 'Team Manager');
	// A roster of four: one removal is a quarter of it, which the default limits would stage.
	const open = { count: 500, percent: 100 };
	linkId = await newLink(owner, {
		mode: 'two-way',
		systems: { a: a.id, b: b.id },
		limits: { person: open, group: open, membership: open }
	});
});

describe('granting access to synced people', () => {
	it('the sandbox says it keeps access per person', async () => {
		const caps = await expectJson(api(`/api/systems/${b.id}/capabilities`, { token: owner }), 200);
		expect(caps).toMatchObject({ access: 'extension' });
		const read = await expectJson(api(`/api/systems/${a.id}/snapshot`, { token: owner }), 200);
		expect(read.people.every((p: { access?: boolean }) => p.access === undefined)).toBe(true);
	});

	it('refuses bad access settings, naming the field, and changes nothing', async () => {
		const bad = await expectJson(
			api(`/api/links/${linkId}`, {
				method: 'PATCH',
				token: owner,
				body: { access: { grant: 'all', people: { 'ax-p1': true } } }
			}),
			400
		);
		expect(bad.issues.map((i: { field: string }) => i.field).sort()).toEqual(['access.grant', 'access.people.ax-p1']);
		const none = await expectJson(
			api(`/api/links/${linkId}`, { method: 'PATCH', token: owner, body: { access: { grant: 'groups' } } }),
			400
		);
		expect(none.issues).toEqual([expect.objectContaining({ field: 'access.groups' })]);
		expect(
			(
				await expectJson(
					api(`/api/links/${linkId}`, { method: 'PATCH', token: reviewer, body: { access: { grant: 'everyone' } } }),
					403
				)
			).error
		).toBe('forbidden');
		const view = await expectJson<LinkView>(api(`/api/links/${linkId}`, { token: owner }), 200);
		expect(view.config.access).toBeUndefined();
	});

	it('previews who gains access, grants it in a run, and journals each grant', async () => {
		const view = await expectJson<LinkView>(
			api(`/api/links/${linkId}`, {
				method: 'PATCH',
				token: owner,
				// Everyone synced, but the review said no for one person.
				body: { access: { side: 'b', grant: 'everyone', people: { 'a:ax-p3': false } } }
			}),
			200
		);
		expect(view.config.access).toEqual({ side: 'b', grant: 'everyone', groups: [], people: { 'a:ax-p3': false } });
		const plan = await reconcile();
		expect(plan.plan.counts.byType['grant-access']).toBe(3);
		expect(plan.pairs.filter((p) => p.access === 'grant').map((p) => p.a)).toEqual(['ax-p0', 'ax-p1', 'ax-p2']);
		await expectJson(api(`/api/links/${linkId}/enable`, { token: owner, body: {} }), 200);
		const run = await runNow();
		expect(run.status).toBe('done');
		expect(await withAccess()).toEqual(['ax.p0@example.org', 'ax.p1@example.org', 'ax.p2@example.org']);
		const details = await expectJson(api(`/api/links/${linkId}/runs/${run.id}`, { token: owner }), 200);
		const grants = details.ops.filter((o: { op: { type: string } }) => o.op.type === 'grant-access');
		expect(grants).toHaveLength(3);
		expect(grants.every((o: { outcome: { status: string } }) => o.outcome.status === 'done')).toBe(true);
		// Nothing left to do: the baseline records the grants.
		expect((await reconcile()).plan.counts.byType['grant-access']).toBeUndefined();
	});

	it('undoes the grants like any operation', async () => {
		const runs = await expectJson<RunSummary[]>(api(`/api/links/${linkId}/runs`, { token: owner }), 200);
		const granted = runs.find((r) => !r.dryRun && r.status === 'done')!;
		const undo = await expectJson<RunSummary>(
			api(`/api/links/${linkId}/runs/${granted.id}/undo`, { token: owner, body: {} }),
			202
		);
		expect((await finish(linkId, undo.id)).status).toBe('done');
		const people = await bPeople();
		// The undo took the people it created back out, and their access with them.
		expect(people.filter((p) => p.access === true)).toEqual([]);
	});

	it('grants again, then revokes when a person is removed, and when the rule changes', async () => {
		const plan = await reconcile();
		expect(plan.plan.counts.byType['grant-access']).toBe(3);
		await runNow();
		expect(await withAccess()).toHaveLength(3);

		// Removed in Operations Center: removed in Team Manager, access revoked first.
		const gone = (await sandboxStub(env, a.id).snapshot()).people.find((p) => p.id === 'ax-p0')!;
		await sandboxStub(env, a.id).applyOps([
			{
				key: 'test-remove',
				side: 'a',
				step: 5,
				type: 'remove-person',
				target: { id: gone.id },
				soft: false,
				before: gone,
				beforeMembers: []
			}
		]);
		const removal = await reconcile();
		expect(removal.plan.counts.byType['revoke-access']).toBe(1);
		const run = await runNow();
		const details = await expectJson(api(`/api/links/${linkId}/runs/${run.id}`, { token: owner }), 200);
		expect(details.ops.map((o: { op: { type: string } }) => o.op.type)).toEqual(['revoke-access', 'remove-person']);
		expect(await withAccess()).toEqual(['ax.p1@example.org', 'ax.p2@example.org']);

		// Nobody: sync takes back what it granted, and only that.
		const b1 = (await bPeople()).find((p) => p.email === 'ax.p3@example.org')!;
		await sandboxStub(env, b.id).applyOps([
			{ key: 'by-hand', side: 'b', step: 2, type: 'grant-access', target: { id: b1.id } }
		]);
		await expectJson(
			api(`/api/links/${linkId}`, { method: 'PATCH', token: owner, body: { access: { grant: 'nobody' } } }),
			200
		);
		expect((await reconcile()).plan.counts.byType['revoke-access']).toBe(2);
		await runNow();
		expect(await withAccess()).toEqual(['ax.p3@example.org']);
	});
});
