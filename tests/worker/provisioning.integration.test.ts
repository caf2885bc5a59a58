/**
 * Provisioning as admins know it, through the API in workerd: a run's operations come with the
 * names of their records; a move between communities is a transfer with its notice; invitations
 * and notices are listed with their state; a removed person has "restorable until" and can be
 * restored by an owner within retention (a journaled, undoable run), and not after.
 */
import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { addLocalDays, type Op, type Reconciliation } from '../../src/lib/core';
import { describeOp } from '../../src/lib/api/run-names';
import type { NoticeView, RemovedPerson } from '../../src/lib/api/types';
import type { SystemView } from '../../worker/account/account-do';
import type { LinkDO } from '../../worker/link/link-do';
import type { RunDetails, RunSummary } from '../../worker/link/types';
import { sandboxStub } from '../../worker/systems/connect';
import { finish, memberMove, newLink, roster, sandboxSystem } from '../support/links';
import { api, expectJson, tokenFor } from './support';

// 20 people: two leaving stay under the link's 20 % limit on shrinking.
const records = roster('prv', 20, 2);
const [g0, g1] = records.groups;
const person = (i: number) => records.people[i];

let owner: string;
let reviewer: string;
let viewer: string;
let source: SystemView;
let target: SystemView;
let linkId: string;

const systems = () => ({ a: source.name, b: target.name });

async function realRun(): Promise<RunSummary> {
	const run = await expectJson<RunSummary>(
		api(`/api/links/${linkId}/runs`, { token: owner, body: { dryRun: false } }),
		202
	);
	return finish(linkId, run.id);
}

const details = (runId: string) =>
	expectJson<RunDetails>(api(`/api/links/${linkId}/runs/${runId}?limit=500`, { token: viewer }), 200);

/** The target's record of a source person (matched on email). */
async function targetPerson(i: number) {
	const snapshot = await sandboxStub(env, target.id).snapshot();
	return snapshot.people.find((p) => p.email === person(i).email)!;
}

const setNow = (now: number) =>
	runInDurableObject(env.LINKS.getByName(linkId), (instance: LinkDO) => {
		instance.deps.now = () => now;
	});

beforeAll(async () => {
	[owner, reviewer, viewer] = await Promise.all([tokenFor('owner'), tokenFor('reviewer'), tokenFor('viewer')]);
	source = await sandboxSystem(records, 'HR people');
	target = await sandboxSystem({ people: [], groups: [], memberships: [] }, 'Team app');
	linkId = await newLink(owner, { mode: 'provision', systems: { a: source.id, b: target.id } });
	await expectJson(api(`/api/links/${linkId}/enable`, { method: 'POST', token: owner }), 200);
});

describe('provisioning, named', () => {
	let first: RunSummary;

	it("a run's operations come with the names of their records, and the person who started it by label", async () => {
		first = await realRun();
		expect(first.status).toBe('done');
		expect(first.startedBy).toEqual({ kind: 'person', subject: expect.stringMatching(/^owner-/) });
		const run = await details(first.id);
		const words = run.ops.map((o) => describeOp(o.op, run.names, systems()));
		const invites = run.ops.filter((o) => o.op.type === 'invite');
		expect(invites).toHaveLength(20);
		for (const i of [0, 5]) {
			expect(words).toContainEqual({ action: 'Invite', text: `${person(i).displayName} to Team app` });
			expect(words).toContainEqual({ action: 'Create', text: `${person(i).displayName} in Team app` });
		}
		expect(words).toContainEqual({ action: 'Create group', text: `${g0.name} in Team app` });
		// No operation is worded with an id.
		for (const w of words) expect(w.text).not.toMatch(/prv-[pg]\d|the new/);
	});

	it('invitations are listed with their state: queued once a run recorded them', async () => {
		const notices = await expectJson<NoticeView[]>(api(`/api/links/${linkId}/notices`, { token: viewer }), 200);
		const invites = notices.filter((n) => n.type === 'invite');
		expect(invites).toHaveLength(20);
		for (const n of invites) {
			const p = records.people.find((r) => r.displayName === n.name)!;
			expect(n).toMatchObject({ state: 'queued', system: target.id, email: p.email, runId: first.id });
			expect(n.person).toBe((await targetPerson(records.people.indexOf(p))).id);
		}
	});

	it('a move between communities is a transfer with its notice, in the plan and in the notices', async () => {
		// Person 2 moves from community 0 to 1; persons 4 and 5 leave the source.
		const mover = person(2);
		expect(records.memberships.find((m) => m.personId === mover.id)?.groupId).toBe(g0.id);
		const changes: Op[] = [
			...memberMove(mover.id, g0.id, g1.id, 'mv'),
			...[4, 5].map((i): Op => ({
				type: 'remove-person',
				key: `gone-${i}`,
				side: 'a',
				step: 5,
				target: { id: person(i).id },
				soft: false,
				before: person(i),
				beforeMembers: []
			}))
		];
		expect((await sandboxStub(env, source.id).applyOps(changes)).failed).toEqual([]);

		const plan = await expectJson<Reconciliation>(
			api(`/api/links/${linkId}/reconcile`, { method: 'POST', token: reviewer }),
			200
		);
		const pair = plan.pairs.find((p) => p.kind === 'person' && p.a === mover.id);
		expect(pair).toMatchObject({
			situation: 'update',
			note: 'transfer',
			transfer: { from: [g0.name], to: [g1.name] }
		});
		const notices = await expectJson<NoticeView[]>(api(`/api/links/${linkId}/notices`, { token: viewer }), 200);
		expect(notices.filter((n) => n.state === 'planned')).toEqual([
			expect.objectContaining({
				type: 'notify-transfer',
				name: mover.displayName,
				email: mover.email,
				from: [g0.name],
				to: [g1.name]
			})
		]);
	});

	let removedAt: string;

	it('a removed person is listed with "restorable until" the end of retention', async () => {
		const second = await realRun();
		expect(second.status).toBe('done');
		const run = await details(second.id);
		const words = run.ops.map((o) => describeOp(o.op, run.names, systems()));
		expect(words).toContainEqual({ action: 'Deactivate', text: `${person(5).displayName} in Team app (restorable)` });
		expect(words).toContainEqual({
			action: 'Remove from group',
			text: `${person(2).displayName} from ${g0.name} in Team app`
		});
		expect(words).toContainEqual({
			action: 'Add to group',
			text: `${person(2).displayName} to ${g1.name} in Team app`
		});

		const removed = await expectJson<RemovedPerson[]>(api(`/api/links/${linkId}/removed`, { token: viewer }), 200);
		expect(removed.map((r) => r.name).sort()).toEqual([person(4).displayName, person(5).displayName]);
		const five = removed.find((r) => r.name === person(5).displayName)!;
		expect(five).toMatchObject({
			side: 'b',
			system: target.id,
			email: person(5).email,
			state: 'removed',
			restorable: true
		});
		expect(five.id).toBe((await targetPerson(5)).id);
		removedAt = five.removedAt!;
		expect(five.restorableUntil).toBe(new Date(addLocalDays(Date.parse(removedAt), 30, 'UTC')).toISOString());
		// No nightly run is scheduled on this link: nothing says when it would be anonymized.
		expect(five.anonymizedOn).toBeUndefined();
		expect((await targetPerson(5)).active).toBe(false);

		const notices = await expectJson<NoticeView[]>(api(`/api/links/${linkId}/notices`, { token: viewer }), 200);
		expect(notices.find((n) => n.type === 'notify-transfer')).toMatchObject({
			state: 'queued',
			runId: second.id,
			name: person(2).displayName
		});
	});

	let restore: RunSummary;

	it('an owner restores within retention: one journaled operation, the person active again and no longer removed by sync', async () => {
		const five = (await targetPerson(5)).id;
		const path = `/api/links/${linkId}/removed/${encodeURIComponent(five)}/restore`;
		expect((await api(path, { method: 'POST' })).status).toBe(401);
		expect((await api(path, { method: 'POST', token: viewer })).status).toBe(403);
		expect((await api(path, { method: 'POST', token: reviewer })).status).toBe(403);
		restore = await expectJson<RunSummary>(api(path, { method: 'POST', token: owner }), 202);
		expect(restore.startedBy).toEqual({ kind: 'person', subject: expect.stringMatching(/^owner-/) });
		restore = await finish(linkId, restore.id);
		expect(restore).toMatchObject({ status: 'done', tally: { total: 1, done: 1 } });
		const run = await details(restore.id);
		expect(run.ops.map((o) => describeOp(o.op, run.names, systems()))).toEqual([
			{ action: 'Restore', text: `${person(5).displayName} in Team app` }
		]);
		expect((await targetPerson(5)).active).toBe(true);
		const removed = await expectJson<RemovedPerson[]>(api(`/api/links/${linkId}/removed`, { token: viewer }), 200);
		expect(removed.map((r) => r.name)).toEqual([person(4).displayName]);

		// Undone like any run: the person is deactivated again and back among the removed, dates kept.
		const undo = await expectJson<RunSummary>(
			api(`/api/links/${linkId}/runs/${restore.id}/undo`, { method: 'POST', token: owner }),
			202
		);
		expect((await finish(linkId, undo.id)).status).toBe('done');
		expect((await targetPerson(5)).active).toBe(false);
		const again = await expectJson<RemovedPerson[]>(api(`/api/links/${linkId}/removed`, { token: viewer }), 200);
		expect(again.find((r) => r.id === five)).toMatchObject({ removedAt, restorable: true });
		restore = await finish(linkId, (await expectJson<RunSummary>(api(path, { method: 'POST', token: owner }), 202)).id);
		expect(restore.status).toBe('done');
		expect((await targetPerson(5)).active).toBe(true);
		// Restored by hand, the person is the target's own now: the next run leaves them active.
		const next = await realRun();
		expect(next.status).toBe('done');
		expect((await targetPerson(5)).active).toBe(true);
		expect((await api(path, { method: 'POST', token: owner })).status).toBe(404);
	});

	it('after retention a removed person can no longer be restored', async () => {
		const four = (await targetPerson(4)).id;
		await setNow(Date.parse(removedAt) + 31 * 86_400_000);
		try {
			const removed = await expectJson<RemovedPerson[]>(api(`/api/links/${linkId}/removed`, { token: viewer }), 200);
			expect(removed).toEqual([expect.objectContaining({ id: four, restorable: false })]);
			const refused = await expectJson(
				api(`/api/links/${linkId}/removed/${encodeURIComponent(four)}/restore`, { method: 'POST', token: owner }),
				409
			);
			expect(refused.message).toContain('restorable until');
		} finally {
			await setNow(Date.now());
			await runInDurableObject(env.LINKS.getByName(linkId), (instance: LinkDO) => {
				instance.deps.now = () => Date.now();
			});
		}
	});
});
