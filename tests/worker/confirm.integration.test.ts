/**
 * What an owner confirms before anything is written, through the API: a run's preview (POST
 * …/runs/preview), an undo's preview (GET …/runs/:runId/undo, and an undo that applies exactly
 * what was previewed), and creations above the link's creation limit, staged like removals until
 * an owner approves them. Sandbox to sandbox; each test builds on the previous one.
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LinkView, RunPreview, RunSummary, StagedDeletes, UndoPreview } from '$lib/api/types';
import { sandboxStub } from '../../worker/systems/connect';
import { finish, newLink, roster, sandboxSystem } from '../support/links';
import { api, expectJson, tokenFor } from './support';

const people = roster('cf', 6, 2);
const newcomers = roster('nw', 10, 2);
// The newcomers join the teams the first six are in (same ids as the first roster's groups).
const joining = {
	people: newcomers.people,
	groups: [],
	memberships: newcomers.people.map((p, i) => ({
		groupId: people.groups[i % 2].id,
		personId: p.id,
		role: 'member' as const
	}))
};

let owner: string;
let reviewer: string;
let viewer: string;
let sourceId: string;
let targetId: string;
let linkId: string;

const targetPeople = async () => (await sandboxStub(env, targetId).snapshot()).people.filter((p) => p.active);

beforeAll(async () => {
	[owner, reviewer, viewer] = await Promise.all([tokenFor('owner'), tokenFor('reviewer'), tokenFor('viewer')]);
	sourceId = (await sandboxSystem(people, 'HR')).id;
	targetId = (await sandboxSystem({ people: [], groups: [], memberships: [] }, 'Team')).id;
	linkId = await newLink(owner, {
		mode: 'provision',
		systems: { a: sourceId, b: targetId },
		match: { person: 'externalId', group: 'externalId' },
		creationLimits: { person: { count: 3, percent: 100 }, group: { count: 500, percent: 100 } }
	});
});

describe('previews and creation limits', () => {
	let firstRun: RunSummary;

	it('previews a run (reviewer and up): counts per type, the first operations by name, what cannot be reversed', async () => {
		expect((await api(`/api/links/${linkId}/runs/preview`, { method: 'POST' })).status).toBe(401);
		expect((await api(`/api/links/${linkId}/runs/preview`, { method: 'POST', token: viewer })).status).toBe(403);
		const preview = await expectJson<RunPreview>(
			api(`/api/links/${linkId}/runs/preview`, { method: 'POST', token: reviewer }),
			200
		);
		// A first sync is not limited: the owner reviews it when setting the link up.
		expect(preview.staged).toEqual([]);
		expect(preview.counts.byType).toMatchObject({ 'create-person': 6, 'create-group': 2, invite: 6 });
		expect(preview.counts.staged).toBe(0);
		expect(preview.irreversible).toEqual([
			{ type: 'invite', reason: 'a notice that was sent cannot be unsent', count: 6 }
		]);
		expect(preview.ops).toHaveLength(preview.counts.total);
		expect(preview.more).toBe(0);
		// Memberships and invitations name the people they concern, created by the same run.
		const invite = preview.ops.find((o) => o.type === 'invite')!;
		expect('createdBy' in (invite as { person: object }).person).toBe(true);
		expect(Object.values(preview.names.created)).toContain(people.people[0].displayName);
		const plan = await expectJson<{ plan: { counts: unknown } }>(
			api(`/api/links/${linkId}/plan`, { token: viewer }),
			200
		);
		expect(plan.plan.counts).toEqual(preview.counts);
	});

	it('the first run creates everyone', async () => {
		await expectJson<LinkView>(api(`/api/links/${linkId}/enable`, { method: 'POST', token: owner }), 200);
		firstRun = await expectJson<RunSummary>(api(`/api/links/${linkId}/runs`, { token: owner, body: {} }), 202);
		expect(await finish(linkId, firstRun.id)).toMatchObject({ status: 'done', tally: { done: 20, staged: 0 } });
		expect(await targetPeople()).toHaveLength(6);
	});

	let staged: StagedDeletes;
	it('creations above the limit are staged, with what waits with them', async () => {
		expect(await sandboxStub(env, sourceId).seed(joining, { append: true })).toBe(true);
		const preview = await expectJson<RunPreview>(
			api(`/api/links/${linkId}/runs/preview`, { method: 'POST', token: owner }),
			200
		);
		expect(preview.staged).toEqual([
			expect.objectContaining({ action: 'create', kind: 'person', side: 'b', count: 10 })
		]);
		expect(preview.counts.byType['create-person']).toBe(10);
		expect(preview.counts.staged).toBe(10);
		expect(preview.requiresAction).toBe(1);
		// Nothing of the staged creations is listed as what runs.
		expect(preview.ops.filter((o) => o.type === 'create-person')).toEqual([]);
		const list = await expectJson<StagedDeletes[]>(api(`/api/links/${linkId}/staged`, { token: viewer }), 200);
		expect(list).toHaveLength(1);
		staged = list[0];
		expect(staged).toMatchObject({
			action: 'create',
			kind: 'person',
			side: 'b',
			count: 10,
			total: 6,
			limit: { count: 3, percent: 100 },
			waiting: { invite: 10, 'add-membership': 10 }
		});
		expect(staged.ops.map((o) => (o.type === 'create-person' ? o.record.displayName : o.type)).sort()).toEqual(
			newcomers.people.map((p) => p.displayName).sort()
		);
		const run = await expectJson<RunSummary>(api(`/api/links/${linkId}/runs`, { token: owner, body: {} }), 202);
		const done = await finish(linkId, run.id);
		// The creations, their invitations and memberships wait: staged, not failed or skipped.
		expect(done.tally).toMatchObject({ staged: 30, failed: 0, skipped: 0 });
		expect(await targetPeople()).toHaveLength(6);
	});

	let approvedRun: RunSummary;
	it('an owner approves them (approve-creates): the next run creates them', async () => {
		const path = `/api/links/${linkId}/staged/${encodeURIComponent(staged.conflictId)}/approve`;
		expect((await api(path, { method: 'POST', token: reviewer })).status).toBe(403);
		const view = await expectJson<LinkView>(api(path, { method: 'POST', token: owner }), 200);
		expect(view.status.requiresAction).toBe(0);
		const resolutions = await expectJson<{ conflictId: string; choice: string }[]>(
			api(`/api/links/${linkId}/resolutions`, { token: viewer }),
			200
		);
		expect(resolutions).toContainEqual(
			expect.objectContaining({ conflictId: staged.conflictId, choice: 'approve-creates' })
		);
		expect(
			(await expectJson<StagedDeletes[]>(api(`/api/links/${linkId}/staged`, { token: viewer }), 200))[0].decision
		).toBe('approved');
		approvedRun = await expectJson<RunSummary>(api(`/api/links/${linkId}/runs`, { token: owner, body: {} }), 202);
		expect(await finish(linkId, approvedRun.id)).toMatchObject({ status: 'done', tally: { staged: 0, done: 30 } });
		expect(await targetPeople()).toHaveLength(16);
	});

	let undoPreview: UndoPreview;
	it('previews the undo (owner only): what it reverses by name, and the invitations it cannot unsend', async () => {
		const path = `/api/links/${linkId}/runs/${approvedRun.id}/undo`;
		expect((await api(path)).status).toBe(401);
		expect((await api(path, { token: viewer })).status).toBe(403);
		expect((await api(path, { token: reviewer })).status).toBe(403);
		expect((await api(`/api/links/${linkId}/runs/no-such-run/undo`, { token: owner })).status).toBe(404);
		undoPreview = await expectJson<UndoPreview>(api(path, { token: owner }), 200);
		expect(undoPreview.runId).toBe(approvedRun.id);
		expect(undoPreview.counts.byType).toEqual({ 'remove-person': 10, 'remove-membership': 10 });
		expect(undoPreview.irreversible).toEqual([
			{ type: 'invite', reason: 'a notice that was sent cannot be unsent', count: 10 }
		]);
		const removed = undoPreview.ops
			.filter((o) => o.type === 'remove-person')
			.map((o) => ('id' in o.target ? undoPreview.names.people.b[o.target.id] : undefined));
		expect(removed.sort()).toEqual(newcomers.people.map((p) => p.displayName).sort());
		// A preview writes nothing: the run is still undoable and the target unchanged.
		expect(await targetPeople()).toHaveLength(16);
	});

	it('undoes exactly what was previewed, or nothing', async () => {
		const path = `/api/links/${linkId}/runs/${approvedRun.id}/undo`;
		const stale = await expectJson(api(path, { method: 'POST', token: owner, body: { expect: 'not-this' } }), 409);
		expect(stale).toMatchObject({ error: 'conflict', digest: undoPreview.digest });
		expect((await api(path, { method: 'POST', token: owner, body: { expect: 1 } })).status).toBe(400);
		const undo = await expectJson<RunSummary>(
			api(path, { method: 'POST', token: owner, body: { expect: undoPreview.digest } }),
			202
		);
		expect(undo.counts).toEqual(undoPreview.counts);
		expect(await finish(linkId, undo.id)).toMatchObject({ status: 'done', tally: { done: 20, failed: 0 } });
		expect(await targetPeople()).toHaveLength(6);
		// Undone, it cannot be undone (or previewed) again.
		expect((await api(path, { token: owner })).status).toBe(409);
	});
});
