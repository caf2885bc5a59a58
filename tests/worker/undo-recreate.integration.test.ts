/**
 * Undoing a hard removal on a system that assigns its own ids: the person is created again under
 * a new id (SCIMMY, like most SCIM servers, ignores the id asked for), and the baseline the undo
 * puts back names that id. Had it named the old one, the next run would take the person for
 * deleted on the target and create them a second time.
 */
import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Op, Reconciliation } from '$lib/core';
import { STEP } from '$lib/core/ops';
import type { RunSummary } from '../../worker/link/types';
import { sandboxStub } from '../../worker/systems/connect';
import {
	finish,
	interceptWrites,
	newLink,
	roster,
	sandboxSystem,
	scimmy,
	scimReset,
	scimState,
	scimSystem
} from '../support/links';
import { ops } from '../support/scim-ops';
import { api, expectJson, tokenFor } from './support';

const target = scimmy('undo');
const people = roster('ur', 4, 1);
const open = { count: 500, percent: 100 };
let owner: string;
let linkId: string;
let sourceId: string;

const run = async () => {
	const started = await expectJson<RunSummary>(api(`/api/links/${linkId}/runs`, { token: owner, body: {} }), 202);
	return finish(linkId, started.id);
};
const usersOnTarget = async () => (await scimState(target)).users;

beforeAll(async () => {
	await scimReset(target);
	owner = await tokenFor('owner');
	const source = await sandboxSystem(people);
	sourceId = source.id;
	const sink = await scimSystem(owner, target);
	linkId = await newLink(owner, {
		mode: 'provision',
		systems: { a: source.id, b: sink.id },
		match: { person: 'externalId', group: 'externalId' },
		removeMode: 'delete',
		limits: { person: open, group: open, membership: open }
	});
	await expectJson(api(`/api/links/${linkId}/reconcile`, { method: 'POST', token: owner }), 200);
	await expectJson(api(`/api/links/${linkId}/enable`, { method: 'POST', token: owner }), 200);
	expect(await run()).toMatchObject({ status: 'done' });
	expect(await usersOnTarget()).toHaveLength(4);
});

describe('undoing a hard removal on a system that assigns ids', () => {
	it('puts the pair back under the id the person was created with again', async () => {
		const gone = people.people[3];
		expect((await sandboxStub(env, sourceId).applyOps([ops.removePerson(gone.id, false)])).applied).toBe(1);
		const removed = await run();
		expect(removed).toMatchObject({ status: 'done' });
		expect(removed.counts.byType['remove-person']).toBe(1);
		const before = (await usersOnTarget()).map((u) => u.id);
		expect(before).toHaveLength(3);

		// The person comes back in the source, and the removal is undone on the target.
		const { id: _id, ...record } = gone;
		const back: Op = {
			key: 'back-ur-3',
			side: 'a',
			step: STEP.people,
			type: 'create-person',
			record,
			restoreId: gone.id
		};
		expect((await sandboxStub(env, sourceId).applyOps([back])).applied).toBe(1);
		const undo = await expectJson<RunSummary>(
			api(`/api/links/${linkId}/runs/${removed.id}/undo`, { method: 'POST', token: owner }),
			202
		);
		expect(await finish(linkId, undo.id)).toMatchObject({ status: 'done' });
		const after = await usersOnTarget();
		expect(after).toHaveLength(4);
		const again = after.find((u) => !before.includes(u.id))!;
		expect(again.externalId).toBe(gone.externalId);

		// The next plan sees the pair in sync under the new id: no second create, no removal.
		const rec = await expectJson<Reconciliation>(
			api(`/api/links/${linkId}/reconcile`, { method: 'POST', token: owner }),
			200
		);
		expect(rec.plan.ops.filter((op) => op.type === 'create-person' || op.type === 'remove-person')).toEqual([]);
		expect(rec.pairs.find((p) => p.kind === 'person' && p.a === gone.id)).toMatchObject({ b: again.id });
	});
});

describe('an undo its target refuses', () => {
	// The undo's removals all fail: the people the run made are still on the target, so the pairs
	// the run wrote stay. Reverted anyway, the next plan would adopt them, and the run, marked
	// undone, could not be undone again.
	it('leaves the baseline as it was, and the next plan has nothing to adopt', { timeout: 60_000 }, async () => {
		const from = await sandboxSystem(roster('uf', 3, 1));
		const to = await sandboxSystem({ people: [], groups: [], memberships: [] });
		const id = await newLink(owner, {
			mode: 'provision',
			systems: { a: from.id, b: to.id },
			match: { person: 'externalId', group: 'externalId' },
			removeMode: 'delete',
			limits: { person: open, group: open, membership: open }
		});
		await expectJson(api(`/api/links/${id}/enable`, { method: 'POST', token: owner }), 200);
		const first = await expectJson<RunSummary>(api(`/api/links/${id}/runs`, { token: owner, body: {} }), 202);
		expect(await finish(id, first.id)).toMatchObject({ status: 'done' });
		const baseline = () =>
			runInDurableObject(env.LINKS.getByName(id), (_i, state) =>
				state.storage.sql.exec('SELECT kind, a, b, entry FROM baseline ORDER BY kind, a').toArray()
			);
		const before = await baseline();
		expect(before).toHaveLength(4);

		await interceptWrites(id, to.id, async () => {
			throw new Error('503 target unavailable');
		});
		const undo = await expectJson<RunSummary>(
			api(`/api/links/${id}/runs/${first.id}/undo`, { method: 'POST', token: owner }),
			202
		);
		const ended = await finish(id, undo.id);
		expect(ended.tally.done).toBe(0);
		expect(await baseline()).toEqual(before);
		const plan = await expectJson<Reconciliation>(
			api(`/api/links/${id}/reconcile`, { method: 'POST', token: owner }),
			200
		);
		expect(plan.plan.ops.filter((o) => o.type === 'adopt-person' || o.type === 'adopt-group')).toEqual([]);
	});
});
