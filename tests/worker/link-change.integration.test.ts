/**
 * Changing a link after setup, previewed first (PATCH /api/links/:id?dryRun=true): the settings
 * that change, the next nightly run before and after, and the plan under the current settings and
 * under the changed ones; nothing is applied until the PATCH without dryRun, which then plans
 * under the new settings. Two sandbox directories, so nothing outside workerd is involved.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { LinkConfig, Person, Reconciliation } from '$lib/core';
import type { LinkChangePreview } from '$lib/api/link-change';
import type { LinkView } from '../../worker/link/types';
import { newLink, sandboxSystem } from '../support/links';
import { api, expectJson, tokenFor } from './support';

const run = crypto.randomUUID().slice(0, 6);
const person = (id: string, email: string, employeeNumber: string, displayName: string): Person => ({
	id: `${id}-${run}`,
	displayName,
	email: `${email}.${run}@example.org`,
	employeeNumber,
	active: true
});
// By email: 1 and 3 pair, 2 is on each side alone. By employee number: 1 and 2 pair, 3 is alone.
const A = [person('a1', 'ada', 'E1', 'Ada'), person('a2', 'bo', 'E2', 'Bo'), person('a3', 'cy', 'E3', 'Cy')];
const B = [person('b1', 'ada', 'E1', 'Ada'), person('b2', 'bo.dahl', 'E2', 'Bo Dahl'), person('b3', 'cy', 'E9', 'Cy')];

let owner: string;
let linkId: string;

const preview = (patch: Partial<LinkConfig>, token = owner) =>
	api(`/api/links/${linkId}?dryRun=true`, { method: 'PATCH', token, body: patch });
const plan = () => expectJson<Reconciliation>(api(`/api/links/${linkId}/plan`, { token: owner }), 200);
const link = () => expectJson<LinkView>(api(`/api/links/${linkId}`, { token: owner }), 200);

beforeAll(async () => {
	owner = await tokenFor('owner');
	const a = await sandboxSystem({ people: A, groups: [], memberships: [] });
	const b = await sandboxSystem({ people: B, groups: [], memberships: [] });
	linkId = await newLink(owner, {
		mode: 'two-way',
		systems: { a: a.id, b: b.id },
		kinds: ['person'],
		personFields: ['displayName', 'email', 'employeeNumber']
	});
	await expectJson(api(`/api/links/${linkId}/reconcile`, { method: 'POST', token: owner }), 200);
});

describe('a link change, previewed before it is applied', () => {
	it('a new match field: the plan now and under it, from the same reads; nothing applied', async () => {
		const answer = await expectJson<LinkChangePreview>(
			preview({ match: { person: 'employeeNumber', group: 'externalId' } }),
			200
		);
		expect(answer.changes).toEqual([
			{
				field: 'match',
				before: { person: 'email', group: 'externalId' },
				after: { person: 'employeeNumber', group: 'externalId' }
			}
		]);
		expect(answer.config.match.person).toBe('employeeNumber');
		expect(answer.planError).toBeUndefined();
		const { before, after } = answer.plan!;
		// By email: Ada in step, Cy's employee number taken from side A (the first-sync side), Bo
		// created on each side. By number: Ada in step, Bo's name and email taken from side A, Cy
		// created on each side.
		expect(before.counts.person).toMatchObject({ 'in-sync': 1, create: 2, update: 1 });
		expect(after.counts.person).toMatchObject({ 'in-sync': 1, create: 2, update: 1 });
		expect(after.plan.byType).toMatchObject({ 'create-person': 2, 'update-person': 1 });

		// Nothing applied: the setting is as it was, and the current plan is the one under it.
		expect((await link()).config.match.person).toBe('email');
		const current = await plan();
		expect(current.counts).toEqual(before.counts);
		expect(current.plan.counts).toEqual(before.plan);
	});

	it('the first-sync side: the same pairs, written the other way', async () => {
		const answer = await expectJson<LinkChangePreview>(
			preview({ match: { person: 'employeeNumber', group: 'externalId' }, authority: { default: 'b', fields: {} } }),
			200
		);
		expect(answer.changes.map((c) => c.field)).toEqual(['match', 'authority']);
		const { after } = answer.plan!;
		expect(after.counts.person).toMatchObject({ 'in-sync': 1, create: 2, update: 1 });
		// Bo's update goes to A now (B's values win), and each side still gets one create.
		expect(after.plan.bySide).toEqual({ a: 2, b: 1 });
	});

	it('a schedule change: the next run moves, no plan is made', async () => {
		await expectJson(
			api(`/api/links/${linkId}`, {
				method: 'PATCH',
				token: owner,
				body: { schedule: { timeZone: 'UTC', hour: 2, enabled: true } }
			}),
			200
		);
		// Nightly runs need sync on: a link with only in-step and create pairs can be enabled.
		await expectJson(api(`/api/links/${linkId}/enable`, { method: 'POST', token: owner }), 200);
		const beforeRun = (await link()).status.nextRunAt!;
		const answer = await expectJson<LinkChangePreview>(
			preview({ schedule: { timeZone: 'Europe/Oslo', hour: 3, enabled: true } }),
			200
		);
		expect(answer.changes.map((c) => c.field)).toEqual(['schedule']);
		expect(answer.plan).toBeUndefined();
		expect(answer.nextRunAt.before).toBe(beforeRun);
		// 03:00 in Oslo is 01:00 or 02:00 UTC (summer or winter), on the next day it is still ahead.
		const after = new Date(answer.nextRunAt.after!);
		expect(after.getTime()).toBeGreaterThan(Date.now());
		const oslo = new Intl.DateTimeFormat('en-GB', {
			timeZone: 'Europe/Oslo',
			hour: '2-digit',
			minute: '2-digit',
			hourCycle: 'h23'
		});
		expect(oslo.format(after)).toBe('03:00');
		expect((await link()).status.nextRunAt).toBe(beforeRun);
	});

	it("applied, the link plans under the new settings: the plan is the preview's", async () => {
		const answer = await expectJson<LinkChangePreview>(
			preview({ match: { person: 'employeeNumber', group: 'externalId' } }),
			200
		);
		const view = await expectJson<LinkView>(
			api(`/api/links/${linkId}`, {
				method: 'PATCH',
				token: owner,
				body: { match: { person: 'employeeNumber', group: 'externalId' } }
			}),
			200
		);
		expect(view.config.match.person).toBe('employeeNumber');
		const current = await plan();
		expect(current.counts).toEqual(answer.plan!.after.counts);
		expect(current.plan.counts).toEqual(answer.plan!.after.plan);
		expect(view.status.requiresAction).toBe(answer.plan!.after.requiresAction);
	});

	it('refuses what cannot change, naming the field, and applies nothing', async () => {
		const zone = await expectJson(preview({ schedule: { timeZone: 'Mars/Olympus', hour: 2, enabled: true } }), 400);
		expect(zone.issues).toEqual([expect.objectContaining({ field: expect.stringContaining('timeZone') })]);
		const systems = await expectJson(preview({ systems: { a: 'x', b: 'y' } }), 400);
		expect(systems.issues).toEqual([{ field: 'systems', message: 'cannot be changed: create another link' }]);
		const limits = await expectJson(preview({ limits: { person: { count: -1, percent: 20 } } } as never), 400);
		expect(limits.issues.length).toBeGreaterThan(0);
		await expectJson(api(`/api/links/${linkId}?dryRun=maybe`, { method: 'PATCH', token: owner, body: {} }), 400);
		expect((await link()).config.schedule.timeZone).toBe('UTC');
	});

	it('only an owner previews or changes a link', async () => {
		for (const role of ['viewer', 'reviewer'] as const) {
			const token = await tokenFor(role);
			await expectJson(preview({ name: 'no' }, token), 403);
		}
	});
});
