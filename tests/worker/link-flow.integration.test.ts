/**
 * The whole provisioning flow through the API, against real systems: a sandbox directory (the
 * built-in SCIM server) as the source and SCIMMY (a real SCIM 2.0 server on 127.0.0.1) as the
 * target. One link, step after step, each test building on the previous one.
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { STEP, type Op, type Reconciliation } from '$lib/core';
import type { SystemView } from '../../worker/account/account-do';
import type { LinkView, RunDetails, RunSummary, StagedDeletes } from '../../worker/link/types';
import { sandboxStub } from '../../worker/systems/connect';
import { finish, readEvents, roster, sandboxSystem, scimmy, scimReset, scimState, scimSystem } from '../support/links';
import { api, expectJson, tokenFor } from './support';

const target = scimmy('flow');
const people = roster('fl', 12, 3);
// SCIMMY refuses an employee number with letters: this one person fails, the run goes on.
people.people[11].employeeNumber = 'X-11';

let owner: string;
let reviewer: string;
let viewer: string;
let source: SystemView;
let sink: SystemView;
let linkId: string;

const activeUsers = async () => (await scimState(target)).users.filter((u) => u.active !== false);

beforeAll(async () => {
	await scimReset(target);
	[owner, reviewer, viewer] = await Promise.all([tokenFor('owner'), tokenFor('reviewer'), tokenFor('viewer')]);
	source = await sandboxSystem(people, 'HR directory');
	sink = await scimSystem(owner, target);
});

describe('a provisioning link, sandbox to SCIMMY', () => {
	it('checks the caller on every link route (401 without a token, 403 below the role)', async () => {
		const body = { name: 'x', mode: 'provision', systems: { a: source.id, b: sink.id } };
		expect((await api('/api/links', { body })).status).toBe(401);
		expect((await api('/api/links', { body, token: 'not-a-token' })).status).toBe(401);
		expect((await api('/api/links', { body, token: viewer })).status).toBe(403);
		expect((await api('/api/links', { body, token: reviewer })).status).toBe(403);
		expect((await api('/api/links/lnk_nope', { token: viewer })).status).toBe(404);
		expect((await api('/api/links', {})).status).toBe(401);
	});

	it.each(['/plan', '/runs', '/runs?limit=1.5', '/runs/run_1'])(
		'answers a read of an unknown link (%s) with a 404 that names the link',
		async (path) => {
			const res = await api(`/api/links/lnk_nope${path}`, { token: viewer });
			expect(res.status).toBe(404);
			expect(((await res.json()) as { message: string }).message).toBe('There is no link "lnk_nope".');
		}
	);

	it('refuses to link systems in different regions (422) and bad configurations (400)', async () => {
		const far = await scimSystem(owner, target, 'us');
		const res = await expectJson(
			api('/api/links', {
				token: owner,
				body: { name: 'Across', mode: 'provision', systems: { a: source.id, b: far.id } }
			}),
			422
		);
		expect(res).toMatchObject({ error: 'region-mismatch' });
		const bad = await expectJson(
			api('/api/links', {
				token: owner,
				body: { name: 'Bad', mode: 'sideways', systems: { a: source.id, b: sink.id } }
			}),
			400
		);
		expect(bad).toMatchObject({ error: 'invalid', issues: [{ field: 'mode' }] });
		const unknown = await expectJson(
			api('/api/links', {
				token: owner,
				body: { name: 'Ghost', mode: 'provision', systems: { a: source.id, b: 'sys_nope' } }
			}),
			400
		);
		expect(unknown.message).toContain('sys_nope');
	});

	it('creates the link (owner), registers it with the account, lists it', async () => {
		const view = await expectJson<LinkView>(
			api('/api/links', {
				token: owner,
				body: {
					name: 'HR to SCIMMY',
					mode: 'provision',
					systems: { a: source.id, b: sink.id },
					match: { person: 'externalId', group: 'externalId' },
					limits: { person: { count: 3, percent: 50 }, membership: { count: 100, percent: 100 } },
					schedule: { timeZone: 'Europe/Amsterdam', hour: 2, enabled: true }
				}
			}),
			201
		);
		linkId = view.config.id;
		expect(view).toMatchObject({
			config: { mode: 'provision', enabled: false, retentionDays: 30 },
			status: { enabled: false, staged: 0, requiresAction: 0 }
		});
		expect((await env.ACCOUNT.getByName('account').listLinks()).map((l) => l.id)).toContain(linkId);
		const list = await expectJson<LinkView[]>(api('/api/links', { token: viewer }), 200);
		expect(list.map((l) => l.config.id)).toContain(linkId);
		const renamed = await expectJson<LinkView>(
			api(`/api/links/${linkId}`, { method: 'PATCH', token: owner, body: { name: 'HR → SCIMMY' } }),
			200
		);
		expect(renamed.config.name).toBe('HR → SCIMMY');
		expect((await api(`/api/links/${linkId}`, { method: 'PATCH', token: reviewer, body: { name: 'no' } })).status).toBe(
			403
		);
	});

	it('reads both snapshots through the edge, without credentials', async () => {
		const res = await api(`/api/links/${linkId}/snapshots`, { token: viewer });
		expect(res.status).toBe(200);
		const text = await res.text();
		expect(text).not.toContain(target.token);
		const { a, b } = JSON.parse(text);
		expect(a.people).toHaveLength(12);
		expect(a.groups).toHaveLength(3);
		expect(b.people).toHaveLength(0);
	});

	it('reconciles (reviewer): the plan is stored and answers GET /plan', async () => {
		expect((await api(`/api/links/${linkId}/plan`, { token: viewer })).status).toBe(404);
		expect((await api(`/api/links/${linkId}/reconcile`, { method: 'POST', token: viewer })).status).toBe(403);
		const rec = await expectJson<Reconciliation>(
			api(`/api/links/${linkId}/reconcile`, { method: 'POST', token: reviewer }),
			200
		);
		expect(rec.counts.person.create).toBe(12);
		expect(rec.counts.group.create).toBe(3);
		expect(rec.requiresAction).toBe(0);
		expect(rec.plan.counts.byType).toMatchObject({
			'create-person': 12,
			'create-group': 3,
			'add-membership': 12,
			invite: 12
		});
		const stored = await expectJson<Reconciliation>(api(`/api/links/${linkId}/plan`, { token: viewer }), 200);
		expect(stored).toEqual(rec);
	});

	it('answers the plan, its snapshots and a system snapshot conditionally (ETag, 304 to a holder)', async () => {
		const first = await api(`/api/links/${linkId}/plan`, { token: viewer });
		const planTag = first.headers.get('etag')!;
		expect(planTag).toMatch(/^"plan-[0-9a-f-]{36}"$/);
		const plan = await first.json();
		const held = (tag: string, path = 'plan') =>
			api(`/api/links/${linkId}/${path}`, { token: viewer, headers: { 'if-none-match': tag } });
		const unchanged = await held(planTag);
		expect(unchanged.status).toBe(304);
		expect(await unchanged.text()).toBe('');
		expect(unchanged.headers.get('etag')).toBe(planTag);
		// A list, a weak form: either names it; an unknown tag or garbage gets the plan.
		expect((await held(`"x", W/${planTag}`)).status).toBe(304);
		expect(await expectJson(held('"plan-other"'), 200)).toEqual(plan);
		expect(await expectJson(held('not a tag'), 200)).toEqual(plan);

		// A caller that takes gzip gets the same plan packed, under the same tag, and still a 304.
		const gzipped = (headers: Record<string, string>) => api(`/api/links/${linkId}/plan`, { token: viewer, headers });
		for (const accept of ['gzip', 'br, gzip;q=0.5', 'gzip, deflate, br']) {
			const packed = await gzipped({ 'accept-encoding': accept });
			expect(packed.status).toBe(200);
			expect(packed.headers.get('content-encoding')).toBe('gzip');
			expect(packed.headers.get('etag')).toBe(planTag);
			// Unpacked on the way, as a browser does: a body that was not gzip would fail here.
			expect(await packed.json()).toEqual(plan);
		}
		for (const accept of ['identity', 'gzip;q=0', 'deflate'])
			expect((await gzipped({ 'accept-encoding': accept })).headers.get('content-encoding')).toBeNull();
		expect((await gzipped({ 'accept-encoding': 'gzip', 'if-none-match': planTag })).status).toBe(304);

		const snaps = await api(`/api/links/${linkId}/snapshots`, { token: viewer });
		const snapTag = snaps.headers.get('etag')!;
		expect(((await snaps.json()) as { a: unknown }).a).toBeDefined();
		expect(snapTag).toBe(planTag.replace('plan-', 'snapshots-'));
		expect((await held(snapTag, 'snapshots')).status).toBe(304);
		const packedSnaps = await api(`/api/links/${linkId}/snapshots`, {
			token: viewer,
			headers: { 'accept-encoding': 'gzip' }
		});
		expect(packedSnaps.headers.get('content-encoding')).toBe('gzip');
		expect(await packedSnaps.json()).toEqual(
			await expectJson(api(`/api/links/${linkId}/snapshots`, { token: viewer }), 200)
		);

		// A new plan is a new tag: the old one gets the whole new plan.
		await expectJson(api(`/api/links/${linkId}/reconcile`, { method: 'POST', token: reviewer }), 200);
		const again = await held(planTag);
		expect(again.headers.get('etag')).not.toBe(planTag);
		expect((await expectJson<Reconciliation>(again, 200)).linkId).toBe(linkId);
		expect((await expectJson<{ a: unknown }>(held(snapTag, 'snapshots'), 200)).a).toBeDefined();

		// A system's snapshot: weak, by the records' version (a later read differs in takenAt only).
		const read = await api(`/api/systems/${source.id}/snapshot`, { token: viewer });
		const { version } = (await read.json()) as { version: string };
		expect(read.headers.get('etag')).toBe(`W/"${version}"`);
		const heldRead = await api(`/api/systems/${source.id}/snapshot`, {
			token: viewer,
			headers: { 'if-none-match': `W/"${version}"` }
		});
		expect(heldRead.status).toBe(304);
		expect(await heldRead.text()).toBe('');
		const packedRead = await api(`/api/systems/${source.id}/snapshot`, {
			token: viewer,
			headers: { 'accept-encoding': 'gzip' }
		});
		expect(packedRead.headers.get('content-encoding')).toBe('gzip');
		expect(packedRead.headers.get('etag')).toBe(`W/"${version}"`);
		expect(await packedRead.json()).toMatchObject({ version, people: expect.any(Array) });
	});

	it('enables sync (owner only) and schedules the nightly run in the link time zone', async () => {
		expect((await api(`/api/links/${linkId}/enable`, { method: 'POST', token: reviewer })).status).toBe(403);
		const view = await expectJson<LinkView>(api(`/api/links/${linkId}/enable`, { method: 'POST', token: owner }), 200);
		expect(view.status).toMatchObject({ enabled: true, requiresAction: 0 });
		// 02:00 in Amsterdam is 00:00 or 01:00 UTC.
		expect(view.status.nextRunAt).toMatch(/T0[01]:00:00\.000Z$/);
	});

	it('dry-runs (reviewer): the plan is recorded, nothing is written', async () => {
		const started = await expectJson<RunSummary>(
			api(`/api/links/${linkId}/runs`, { token: reviewer, body: { dryRun: true } }),
			202
		);
		expect(started).toMatchObject({
			dryRun: true,
			status: 'running',
			startedBy: { kind: 'person', subject: expect.stringMatching(/^reviewer/) }
		});
		const done = await finish(linkId, started.id);
		expect(done).toMatchObject({ status: 'done', counts: { total: 39 } });
		const details = await expectJson<RunDetails>(
			api(`/api/links/${linkId}/runs/${started.id}?limit=5`, { token: viewer }),
			200
		);
		expect(details.ops).toHaveLength(5);
		expect(details.ops.every((o) => o.outcome === undefined)).toBe(true);
		expect((await scimState(target)).users).toHaveLength(0);
	});

	let realRun: RunSummary;
	it('runs for real (owner; a reviewer may not), one run at a time, with progress events', async () => {
		expect((await api(`/api/links/${linkId}/runs`, { token: reviewer, body: { dryRun: false } })).status).toBe(403);
		realRun = await expectJson<RunSummary>(
			api(`/api/links/${linkId}/runs`, { token: owner, body: { dryRun: false } }),
			202
		);
		const second = await expectJson(api(`/api/links/${linkId}/runs`, { token: owner, body: { dryRun: true } }), 409);
		expect(second).toMatchObject({ error: 'conflict', running: realRun.id });
		const res = await api(`/api/links/${linkId}/runs/${realRun.id}/events`, { token: viewer });
		expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
		const [events, done] = await Promise.all([readEvents(res), finish(linkId, realRun.id)]);
		expect(events.length).toBeGreaterThanOrEqual(1);
		expect(events.every((e) => e.event === 'progress')).toBe(true);
		const last = events[events.length - 1].data;
		// Some operations failed and the others were done: partly done, not done.
		expect(last).toEqual({ status: 'partial', tally: done.tally });
		const doneCounts = events.map((e) => e.data.tally.done);
		expect([...doneCounts].sort((x, y) => x - y)).toEqual(doneCounts);
		// One person failed (employee number with letters); their membership and invite were skipped.
		expect(done.tally).toEqual({ total: 39, done: 36, failed: 1, skipped: 2, staged: 0, pending: 0 });
		expect(done.durationMs).toBeGreaterThanOrEqual(0);
	});

	it('wrote the target: people, communities, memberships and managers', async () => {
		const state = await scimState(target);
		expect(state.users.map((u) => u.externalId).sort()).toEqual(
			people.people
				.slice(0, 11)
				.map((p) => p.externalId)
				.sort()
		);
		expect(state.groups).toHaveLength(3);
		const members = state.groups.flatMap((g) => (g.members ?? []).map((m: { value: string }) => m.value));
		expect(members).toHaveLength(11);
		expect(new Set(members).size).toBe(11);
	});

	it('records each outcome, the failure naming the record and field, and the invitations as notices', async () => {
		const details = await expectJson<RunDetails>(
			api(`/api/links/${linkId}/runs/${realRun.id}`, { token: viewer }),
			200
		);
		expect(details.ops).toHaveLength(39);
		const failed = details.ops.filter((o) => o.outcome?.status === 'failed');
		expect(failed).toHaveLength(1);
		expect(failed[0].op.type).toBe('create-person');
		expect(failed[0].outcome!.error).toMatch(/employeeNumber/);
		const notices = await env.LINKS.getByName(linkId).notices(realRun.id);
		expect(notices).toHaveLength(11);
		expect(notices[0]).toMatchObject({
			type: 'invite',
			system: sink.id,
			payload: { email: expect.stringMatching(/@example\.org$/) }
		});
		const runs = await expectJson<RunSummary[]>(api(`/api/links/${linkId}/runs`, { token: viewer }), 200);
		expect(runs.map((r) => r.dryRun)).toEqual([false, true]);
		const view = await expectJson<LinkView>(api(`/api/links/${linkId}`, { token: viewer }), 200);
		expect(view.status.lastRun?.id).toBe(realRun.id);
		expect(view.status.running).toBeUndefined();
	});

	it('a second run converges: only the failed person is tried again', async () => {
		const again = await expectJson<RunSummary>(
			api(`/api/links/${linkId}/runs`, { token: owner, body: { dryRun: true } }),
			202
		);
		const done = await finish(linkId, again.id);
		const details = await expectJson<RunDetails>(api(`/api/links/${linkId}/runs/${again.id}`, { token: viewer }), 200);
		expect(details.ops.map((o) => o.op.type).sort()).toEqual(['add-membership', 'create-person', 'invite']);
		expect(done.counts.total).toBe(3);
	});

	let staged: StagedDeletes;
	it('stages removals above the limit, and lists them', async () => {
		// Five people leave the source; the link's limit is three.
		const gone: Op[] = people.people.slice(0, 5).map((p, i) => ({
			key: `gone-${i}`,
			side: 'a',
			step: STEP.peopleRemovals,
			type: 'remove-person',
			target: { id: p.id },
			soft: false,
			before: p,
			beforeMembers: []
		}));
		expect((await sandboxStub(env, source.id).applyOps(gone)).applied).toBe(5);
		const rec = await expectJson<Reconciliation>(
			api(`/api/links/${linkId}/reconcile`, { method: 'POST', token: reviewer }),
			200
		);
		expect(rec.conflicts.filter((c) => c.reason === 'threshold')).toHaveLength(1);
		const view = await expectJson<LinkView>(api(`/api/links/${linkId}`, { token: viewer }), 200);
		// The five removals, and each person's one membership, which waits with its removal.
		expect(view.status).toMatchObject({ requiresAction: 1, staged: 10 });
		const list = await expectJson<StagedDeletes[]>(api(`/api/links/${linkId}/staged`, { token: viewer }), 200);
		expect(list).toHaveLength(1);
		staged = list[0];
		expect(staged).toMatchObject({ kind: 'person', side: 'b', count: 5, limit: { count: 3, percent: 50 } });
		expect(staged.ops.map((o) => o.type)).toEqual(Array(5).fill('remove-person'));
	});

	it('rejected removals stay staged and no longer require action', async () => {
		expect(
			(await api(`/api/links/${linkId}/staged/${staged.conflictId}/reject`, { method: 'POST', token: reviewer })).status
		).toBe(403);
		expect((await api(`/api/links/${linkId}/staged/nope/reject`, { method: 'POST', token: owner })).status).toBe(404);
		const view = await expectJson<LinkView>(
			api(`/api/links/${linkId}/staged/${staged.conflictId}/reject`, { method: 'POST', token: owner }),
			200
		);
		expect(view.status.requiresAction).toBe(0);
		const list = await expectJson<StagedDeletes[]>(api(`/api/links/${linkId}/staged`, { token: viewer }), 200);
		expect(list[0].decision).toBe('rejected');
		const run = await expectJson<RunSummary>(api(`/api/links/${linkId}/runs`, { token: owner, body: {} }), 202);
		const done = await finish(linkId, run.id);
		expect(done.tally.staged).toBe(10);
		expect(await activeUsers()).toHaveLength(11);
	});

	let approvedRun: RunSummary;
	it('approved removals are applied by the next run (soft: deactivated)', async () => {
		const view = await expectJson<LinkView>(
			api(`/api/links/${linkId}/staged/${staged.conflictId}/approve`, { method: 'POST', token: owner }),
			200
		);
		expect(view.status.requiresAction).toBe(0);
		const resolutions = await expectJson<{ conflictId: string; choice: string }[]>(
			api(`/api/links/${linkId}/resolutions`, { token: viewer }),
			200
		);
		expect(resolutions).toContainEqual(
			expect.objectContaining({ conflictId: staged.conflictId, choice: 'approve-deletes' })
		);
		approvedRun = await expectJson<RunSummary>(api(`/api/links/${linkId}/runs`, { token: owner, body: {} }), 202);
		const done = await finish(linkId, approvedRun.id);
		// The person with a bad employee number is still tried (and fails) each run.
		expect(done).toMatchObject({ status: 'partial', tally: { staged: 0, failed: 1 } });
		expect(done.counts.byType['remove-person']).toBe(5);
		const active = await activeUsers();
		expect(active.map((u) => u.externalId).sort()).toEqual(
			people.people
				.slice(5, 11)
				.map((p) => p.externalId)
				.sort()
		);
	});

	it('undoes the run (owner): a new run restores the target, once', async () => {
		expect(
			(await api(`/api/links/${linkId}/runs/${approvedRun.id}/undo`, { method: 'POST', token: reviewer })).status
		).toBe(403);
		const undo = await expectJson<RunSummary>(
			api(`/api/links/${linkId}/runs/${approvedRun.id}/undo`, { method: 'POST', token: owner }),
			202
		);
		// Five people restored, and the membership each lost with its removal given back.
		expect(undo).toMatchObject({ undoOf: approvedRun.id, startedBy: { kind: 'undo' }, counts: { total: 10 } });
		const done = await finish(linkId, undo.id);
		expect(done).toMatchObject({ status: 'done', tally: { done: 10, failed: 0 } });
		expect(await activeUsers()).toHaveLength(11);
		const undone = await expectJson<RunDetails>(
			api(`/api/links/${linkId}/runs/${approvedRun.id}`, { token: viewer }),
			200
		);
		expect(undone.undoneBy).toBe(undo.id);
		expect(
			(await api(`/api/links/${linkId}/runs/${approvedRun.id}/undo`, { method: 'POST', token: owner })).status
		).toBe(409);
		expect((await api(`/api/links/${linkId}/runs/${undo.id}/undo`, { method: 'POST', token: owner })).status).toBe(409);
	});

	it('after the undo the baseline is back: the removals are proposed (and staged) again', async () => {
		const rec = await expectJson<Reconciliation>(
			api(`/api/links/${linkId}/reconcile`, { method: 'POST', token: reviewer }),
			200
		);
		expect(rec.plan.counts.byType['remove-person']).toBe(5);
	});

	it('disables, refuses to delete while running, deletes (owner)', async () => {
		const view = await expectJson<LinkView>(api(`/api/links/${linkId}/disable`, { method: 'POST', token: owner }), 200);
		expect(view.status.enabled).toBe(false);
		expect(view.status.nextRunAt).toBeUndefined();
		const run = await expectJson<RunSummary>(
			api(`/api/links/${linkId}/runs`, { token: owner, body: { dryRun: true } }),
			202
		);
		expect((await api(`/api/links/${linkId}`, { method: 'DELETE', token: owner })).status).toBe(409);
		await finish(linkId, run.id);
		expect((await api(`/api/links/${linkId}`, { method: 'DELETE', token: reviewer })).status).toBe(403);
		expect((await api(`/api/links/${linkId}`, { method: 'DELETE', token: owner })).status).toBe(204);
		expect((await api(`/api/links/${linkId}`, { token: viewer })).status).toBe(404);
		expect((await env.ACCOUNT.getByName('account').listLinks()).map((l) => l.id)).not.toContain(linkId);
	});
});
