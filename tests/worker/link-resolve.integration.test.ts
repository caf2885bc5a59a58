/**
 * A two-way link between two sandbox directories: a conflict blocks enabling, a resolution made
 * against records that changed since comes back stale (and is not stored), a fresh one is
 * accepted, sync is enabled, the run writes both sides, and undo puts both sides back.
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { STEP, type Conflict, type Person, type Reconciliation, type Resolution, type Snapshot } from '$lib/core';
import type { SystemView } from '../../worker/account/account-do';
import type { LinkView, RunSummary } from '../../worker/link/types';
import { sandboxStub } from '../../worker/systems/connect';
import { finish, sandboxSystem } from '../support/links';
import { api, expectJson, tokenFor } from './support';

const person = (
	id: string,
	displayName: string,
	email: string,
	extra: Partial<Person> & { userName?: string } = {}
) => ({ id, displayName, email, active: true, ...extra });

let owner: string;
let reviewer: string;
let a: SystemView;
let b: SystemView;
let linkId: string;
let conflict: Conflict;

const snapshot = (system: SystemView): Promise<Snapshot> => sandboxStub(env, system.id).snapshot();
const byEmail = (snap: Snapshot, email: string) => snap.people.find((p) => p.email === email);

beforeAll(async () => {
	[owner, reviewer] = await Promise.all([tokenFor('owner'), tokenFor('reviewer')]);
	a = await sandboxSystem({
		people: [
			person('a-ann', 'Ann Smith', 'ann@example.org', { phone: '+31 1' }),
			// Two accounts share one mailbox: matching by email is ambiguous.
			person('a-bob1', 'Bob One', 'bob@example.org', { userName: 'bob1' }),
			person('a-bob2', 'Bob Two', 'bob@example.org', { userName: 'bob2' }),
			person('a-cleo', 'Cleo', 'cleo@example.org')
		],
		groups: [],
		memberships: []
	});
	b = await sandboxSystem({
		people: [
			person('b-ann', 'Ann Smith', 'ann@example.org', { phone: '+31 2' }),
			person('b-bob', 'Bob', 'bob@example.org'),
			person('b-dan', 'Dan', 'dan@example.org')
		],
		groups: [],
		memberships: []
	});
	const view = await expectJson<LinkView>(
		api('/api/links', {
			token: owner,
			body: {
				name: 'Ops ⇄ Team',
				mode: 'two-way',
				systems: { a: a.id, b: b.id },
				kinds: ['person'],
				match: { person: 'email' }
			}
		}),
		201
	);
	linkId = view.config.id;
});

describe('a two-way link with a conflict', () => {
	it('reconciles to an ambiguous match that requires action', async () => {
		const rec = await expectJson<Reconciliation>(
			api(`/api/links/${linkId}/reconcile`, { method: 'POST', token: reviewer }),
			200
		);
		expect(rec.conflicts.map((c) => c.reason)).toEqual(['ambiguous-match']);
		conflict = rec.conflicts[0];
		expect(conflict.records.map((r) => r.id).sort()).toEqual(['a-bob1', 'a-bob2', 'b-bob']);
		expect(rec.requiresAction).toBe(1);
	});

	it('refuses to enable sync while a conflict requires action (409)', async () => {
		const res = await expectJson(api(`/api/links/${linkId}/enable`, { method: 'POST', token: owner }), 409);
		expect(res).toMatchObject({ error: 'requires-action', requiresAction: 1 });
		expect((await expectJson<LinkView>(api(`/api/links/${linkId}`, { token: reviewer }), 200)).status).toMatchObject({
			enabled: false,
			requiresAction: 1
		});
	});

	it('returns a resolution made against records that changed since, and does not store it', async () => {
		const resolution: Resolution = {
			conflictId: conflict.id,
			choice: 'ignore',
			against: conflict.records,
			by: 'someone else',
			at: '2027-01-01T00:00:00.000Z'
		};
		// Meanwhile, one of the records changes.
		await sandboxStub(env, a.id).applyOps([
			{
				key: 'edit',
				side: 'a',
				step: STEP.people,
				type: 'update-person',
				target: { id: 'a-bob2' },
				values: { displayName: 'Robert Two' },
				before: {}
			}
		]);
		const answer = await expectJson<{
			accepted: string[];
			stale: {
				resolution: Resolution;
				changed: { then: { id: string; version: string }; now?: { version: string } }[];
			}[];
		}>(api(`/api/links/${linkId}/resolutions`, { token: reviewer, body: { resolutions: [resolution] } }), 200);
		expect(answer.accepted).toEqual([]);
		expect(answer.stale).toHaveLength(1);
		expect(answer.stale[0].resolution).toMatchObject({ conflictId: conflict.id, at: '2027-01-01T00:00:00.000Z' });
		// The edge records who sent it, whatever the body claimed.
		expect(answer.stale[0].resolution.by).toMatch(/^reviewer/);
		expect(answer.stale[0].changed).toHaveLength(1);
		expect(answer.stale[0].changed[0].then.id).toBe('a-bob2');
		expect(answer.stale[0].changed[0].now!.version).not.toBe(answer.stale[0].changed[0].then.version);
		expect(await expectJson(api(`/api/links/${linkId}/resolutions`, { token: reviewer }), 200)).toEqual([]);
	});

	it('validates resolutions (400) and needs a reviewer (403)', async () => {
		const viewer = await tokenFor('viewer');
		expect((await api(`/api/links/${linkId}/resolutions`, { token: viewer, body: { resolutions: [] } })).status).toBe(
			403
		);
		const bad = await expectJson(
			api(`/api/links/${linkId}/resolutions`, {
				token: reviewer,
				body: { resolutions: [{ conflictId: conflict.id, choice: 'maybe', against: [] }] }
			}),
			400
		);
		expect(bad).toMatchObject({ error: 'invalid', issues: [{ field: 'choice' }] });
		expect((await api(`/api/links/${linkId}/resolutions`, { token: reviewer, body: { nope: 1 } })).status).toBe(400);
	});

	it('accepts a resolution made against current data; sync can then be enabled', async () => {
		const rec = await expectJson<Reconciliation>(
			api(`/api/links/${linkId}/reconcile`, { method: 'POST', token: reviewer }),
			200
		);
		const fresh = rec.conflicts.find((c) => c.id === conflict.id)!;
		const answer = await expectJson<{ accepted: string[]; stale: unknown[] }>(
			api(`/api/links/${linkId}/resolutions`, {
				token: reviewer,
				body: { resolutions: [{ conflictId: fresh.id, choice: 'ignore', against: fresh.records }] }
			}),
			200
		);
		expect(answer).toEqual({ accepted: [conflict.id], stale: [] });
		const stored = await expectJson<Resolution[]>(api(`/api/links/${linkId}/resolutions`, { token: reviewer }), 200);
		expect(stored).toMatchObject([
			{ conflictId: conflict.id, choice: 'ignore', by: expect.stringMatching(/^reviewer/) }
		]);
		const view = await expectJson<LinkView>(api(`/api/links/${linkId}/enable`, { method: 'POST', token: owner }), 200);
		expect(view.status).toMatchObject({ enabled: true, requiresAction: 0 });
	});

	let run: RunSummary;
	it('runs: both sides get what they lack, the first sync takes side A values, the ignored accounts are left alone', async () => {
		run = await expectJson<RunSummary>(
			api(`/api/links/${linkId}/runs`, { token: owner, body: { dryRun: false } }),
			202
		);
		const done = await finish(linkId, run.id);
		expect(done).toMatchObject({ status: 'done', tally: { failed: 0, skipped: 0, pending: 0 } });
		const [sa, sb] = await Promise.all([snapshot(a), snapshot(b)]);
		expect(byEmail(sa, 'dan@example.org')).toBeDefined();
		expect(byEmail(sb, 'cleo@example.org')).toBeDefined();
		expect(byEmail(sb, 'ann@example.org')!.phone).toBe('+31 1');
		expect(sb.people.filter((p) => p.email === 'bob@example.org')).toHaveLength(1);
		expect(sa.people.filter((p) => p.email === 'bob@example.org')).toHaveLength(2);
	});

	it('undoes the run on both sides', async () => {
		const undo = await expectJson<RunSummary>(
			api(`/api/links/${linkId}/runs/${run.id}/undo`, { method: 'POST', token: owner }),
			202
		);
		const done = await finish(linkId, undo.id);
		expect(done.tally).toMatchObject({ failed: 0, pending: 0 });
		const [sa, sb] = await Promise.all([snapshot(a), snapshot(b)]);
		expect(byEmail(sa, 'dan@example.org')).toBeUndefined();
		expect(byEmail(sb, 'cleo@example.org')).toBeUndefined();
		expect(byEmail(sb, 'ann@example.org')!.phone).toBe('+31 2');
		// The baseline went back with it: the next plan is the first sync again.
		const rec = await expectJson<Reconciliation>(
			api(`/api/links/${linkId}/reconcile`, { method: 'POST', token: reviewer }),
			200
		);
		expect(rec.plan.counts.byType).toMatchObject({ 'create-person': 2, 'update-person': 1 });
	});
});
