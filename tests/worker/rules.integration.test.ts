/**
 * The rules routes through the real Worker, each with its role check: owners change rules,
 * reviewers preview and dry-run, viewers read. Runs apply to a sandbox district and are read back.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { RuleActionPreview, RulePreview, RuleRunDetails, RuleRunSummary, RuleView } from '$lib/api/rules';
import { env } from 'cloudflare:workers';
import { createSandbox } from '../../worker/sandbox/provision';
import { DISTRICT_PEOPLE_MAP, seedDistrict } from '../../worker/sandbox/seed-district';
import { ORIGIN, api, expectJson, tokenFor, unique } from './support';
import { districtSystem, finishRule, membersOf, northStaff } from '../support/rules';

let owner: string;
let reviewer: string;
let viewer: string;
beforeAll(async () => {
	[owner, reviewer, viewer] = await Promise.all([tokenFor('owner'), tokenFor('reviewer'), tokenFor('viewer')]);
});

async function setup() {
	const prefix = unique('d');
	const system = await districtSystem(prefix);
	return { prefix, system, mg: `${prefix}-mg`, kg: `${prefix}-kg` };
}

describe('rules routes', () => {
	it('create, read, preview, enable, run, disable with removal, undo — with every role checked', async () => {
		const { prefix, system, mg } = await setup();
		const base = `/api/systems/${system.id}/rules`;

		// Reviewers preview a rule before it exists; viewers cannot.
		await expectJson(api(`${base}/preview`, { token: viewer, body: northStaff(mg) }), 403);
		const before = await expectJson<RulePreview>(
			api(`${base}/preview?q=ada`, { token: reviewer, body: northStaff(mg) }),
			200
		);
		expect(before).toMatchObject({ wanted: 2, joining: 1, alreadyMembers: 1, total: 1, warnings: [] });
		expect(before.people).toEqual([
			expect.objectContaining({ id: `${prefix}-s1`, name: 'Ada North', change: 'join', role: 'member' })
		]);

		// Only owners create.
		await expectJson(api(base, { token: reviewer, body: northStaff(mg) }), 403);
		const created = await expectJson<RuleView>(api(base, { token: owner, body: northStaff(mg) }), 201);
		expect(created).toMatchObject({ systemId: system.id, groupName: 'North staff alerts', enabled: false, owned: 0 });
		expect(await expectJson<RuleView[]>(api(base, { token: viewer }), 200)).toEqual([
			expect.objectContaining({ id: created.id })
		]);
		expect(await expectJson<RuleView>(api(`/api/rules/${created.id}`, { token: viewer }), 200)).toMatchObject({
			name: 'North staff'
		});

		// A dry run is a reviewer's; a real run of a rule that is off is refused.
		const dry = await expectJson<RuleRunSummary>(
			api(`/api/rules/${created.id}/run`, { token: reviewer, body: { dryRun: true } }),
			200
		);
		expect(dry).toMatchObject({ dryRun: true, status: 'done', counts: { add: 1, remove: 0, role: 0 } });
		await expectJson(api(`/api/rules/${created.id}/run`, { token: reviewer, body: { dryRun: false } }), 403);
		await expectJson(api(`/api/rules/${created.id}/run`, { token: owner, body: { dryRun: false } }), 409);
		expect(await membersOf(system.id, mg)).toEqual({ [`${prefix}-m1`]: 'manager' });

		// Enabling applies at once.
		await expectJson(
			api(`/api/rules/${created.id}`, { method: 'PATCH', token: reviewer, body: { enabled: true } }),
			403
		);
		const on = await expectJson<RuleView>(
			api(`/api/rules/${created.id}`, { method: 'PATCH', token: owner, body: { enabled: true } }),
			200
		);
		expect(on.enabled).toBe(true);
		const applied = await finishRule(system.id, created.id, on.running!);
		expect(applied).toMatchObject({ status: 'done', trigger: 'person', tally: { done: 1, failed: 0 } });
		expect(await membersOf(system.id, mg)).toEqual({ [`${prefix}-m1`]: 'manager', [`${prefix}-s1`]: 'member' });
		const details = await expectJson<RuleRunDetails>(
			api(`/api/rules/${created.id}/runs/${applied.id}`, { token: viewer }),
			200
		);
		expect(details.ops).toEqual([
			expect.objectContaining({ personName: 'Ada North', outcome: expect.objectContaining({ status: 'done' }) })
		]);
		expect((await expectJson<RuleView>(api(`/api/rules/${created.id}`, { token: viewer }), 200)).owned).toBe(1);

		// Progress events end with the run's final tally.
		const events = await api(`/api/rules/${created.id}/runs/${applied.id}/events`, { token: viewer });
		expect(events.headers.get('content-type')).toContain('text/event-stream');
		expect(await events.text()).toContain('"status":"done"');

		// Turning it off with removal: the dry run counts first, then exactly its member goes.
		const counted = await expectJson<RuleActionPreview>(
			api(`/api/rules/${created.id}/disable`, { token: reviewer, body: { removeMembers: true, dryRun: true } }),
			200
		);
		expect(counted).toMatchObject({ remove: 1, add: 0, people: [expect.objectContaining({ id: `${prefix}-s1` })] });
		await expectJson(api(`/api/rules/${created.id}/disable`, { token: reviewer, body: { removeMembers: true } }), 403);
		const off = await expectJson<RuleView>(
			api(`/api/rules/${created.id}/disable`, { token: owner, body: { removeMembers: true } }),
			200
		);
		expect(off.enabled).toBe(false);
		const removal = await finishRule(system.id, created.id, off.running!);
		expect(removal).toMatchObject({ trigger: 'disable', status: 'done', counts: { remove: 1 } });
		expect(await membersOf(system.id, mg)).toEqual({ [`${prefix}-m1`]: 'manager' });

		// Undo of the removal adds the member back; undone twice is refused.
		const undoCount = await expectJson<RuleActionPreview>(
			api(`/api/rules/${created.id}/runs/${removal.id}/undo`, { token: reviewer, body: { dryRun: true } }),
			200
		);
		expect(undoCount).toMatchObject({ add: 1, remove: 0 });
		await expectJson(api(`/api/rules/${created.id}/runs/${removal.id}/undo`, { token: reviewer, body: {} }), 403);
		const undo = await expectJson<RuleRunSummary>(
			api(`/api/rules/${created.id}/runs/${removal.id}/undo`, { token: owner, body: {} }),
			202
		);
		expect(await finishRule(system.id, created.id, undo.id)).toMatchObject({
			trigger: 'undo',
			undoOf: removal.id,
			status: 'done'
		});
		expect(await membersOf(system.id, mg)).toEqual({ [`${prefix}-m1`]: 'manager', [`${prefix}-s1`]: 'member' });
		await expectJson(api(`/api/rules/${created.id}/runs/${removal.id}/undo`, { token: owner, body: {} }), 409);

		const runs = await expectJson<RuleRunSummary[]>(api(`/api/rules/${created.id}/runs`, { token: viewer }), 200);
		expect(runs.map((r) => r.trigger)).toEqual(['undo', 'disable', 'person', 'person']);
		expect(runs[0].startedBy).toBeTruthy();

		// Off, it can be deleted (by an owner); its id is then unknown.
		await expectJson(api(`/api/rules/${created.id}`, { method: 'DELETE', token: reviewer }), 403);
		expect((await api(`/api/rules/${created.id}`, { method: 'DELETE', token: owner })).status).toBe(204);
		await expectJson(api(`/api/rules/${created.id}`, { token: viewer }), 404);
	});

	it('turning off without removal keeps every member and lets go of them', async () => {
		const { prefix, system, mg } = await setup();
		const rule = await expectJson<RuleView>(
			api(`/api/systems/${system.id}/rules`, { token: owner, body: { ...northStaff(mg), enabled: true } }),
			201
		);
		await finishRule(system.id, rule.id, rule.running!);
		const counted = await expectJson<RuleActionPreview>(
			api(`/api/rules/${rule.id}/disable`, { token: owner, body: { removeMembers: false, dryRun: true } }),
			200
		);
		expect(counted).toMatchObject({ remove: 0, add: 0 });
		const off = await expectJson<RuleView>(
			api(`/api/rules/${rule.id}/disable`, { token: owner, body: { removeMembers: false } }),
			200
		);
		expect(off).toMatchObject({ enabled: false, owned: 0, lastRun: { trigger: 'disable', status: 'done' } });
		expect(await membersOf(system.id, mg)).toEqual({ [`${prefix}-m1`]: 'manager', [`${prefix}-s1`]: 'member' });
	});

	it('previews a saved rule with an edit and names its warnings', async () => {
		const { system, mg, kg } = await setup();
		const staff = await expectJson<RuleView>(
			api(`/api/systems/${system.id}/rules`, { token: owner, body: { ...northStaff(mg), enabled: true } }),
			201
		);
		await finishRule(system.id, staff.id, staff.running!);
		const students = {
			name: 'North students',
			groupId: kg,
			scope: 'buildings',
			buildings: ['north'],
			memberTypes: ['student'],
			role: 'member'
		};
		const p = await expectJson<RulePreview>(
			api(`/api/systems/${system.id}/rules/preview`, { token: reviewer, body: students }),
			200
		);
		expect(p.warnings.map((w) => w.code)).toEqual(['no-staff-manager']);
		expect(p.warnings[0].message).toMatch(/by hand/);
		const nobody = await expectJson<RulePreview>(
			api(`/api/rules/${staff.id}/preview`, { token: reviewer, body: { buildings: ['west'] } }),
			200
		);
		expect(nobody).toMatchObject({
			wanted: 0,
			leaving: 1,
			warnings: [expect.objectContaining({ code: 'matches-nobody' })]
		});
		const rival = await expectJson<RuleView>(
			api(`/api/systems/${system.id}/rules`, {
				token: owner,
				body: { ...northStaff(mg), name: 'Managers', role: 'manager', enabled: true }
			}),
			201
		);
		const disagree = await expectJson<RulePreview>(
			api(`/api/rules/${staff.id}/preview`, { token: reviewer, body: {} }),
			200
		);
		expect(disagree.warnings).toEqual([expect.objectContaining({ code: 'role-disagreement', ruleIds: [rival.id] })]);
	});

	it('refuses what is not a rule, naming the field, the system and the group', async () => {
		const { system, mg } = await setup();
		const base = `/api/systems/${system.id}/rules`;
		const bad = await expectJson(api(base, { token: owner, body: { ...northStaff(mg), memberTypes: [] } }), 400);
		expect(bad.issues[0].field).toBe('memberTypes');
		await expectJson(api(base, { token: owner, body: { ...northStaff(mg), buildings: [] } }), 400);
		const noGroup = await expectJson(api(base, { token: owner, body: northStaff('nope') }), 400);
		expect(noGroup.message).toContain(system.id);
		expect(noGroup.message).toContain('"nope"');
		await expectJson(api('/api/systems/sys_none/rules', { token: viewer }), 404);
		await expectJson(api('/api/rules/rul_none', { token: viewer }), 404);
		const on = await expectJson<RuleView>(api(base, { token: owner, body: { ...northStaff(mg), enabled: true } }), 201);
		const off = await expectJson(
			api(`/api/rules/${on.id}`, { method: 'PATCH', token: owner, body: { enabled: false } }),
			400
		);
		expect(off.message).toContain('disable');
		await expectJson(api(`/api/rules/${on.id}`, { method: 'DELETE', token: owner }), 409);
		// A system with rules is not deleted from under them.
		const inUse = await expectJson(api(`/api/systems/${system.id}`, { method: 'DELETE', token: owner }), 409);
		expect(inUse).toMatchObject({ error: 'conflict', rules: [on.id] });
	});
});

describe('the demo district', () => {
	it('can be tried at once: its first message group is students without a staff manager', async () => {
		const id = unique('sys-demo');
		await createSandbox(env, { id, name: 'Lakeside', region: 'eu', origin: ORIGIN, records: seedDistrict() });
		await expectJson(
			api(`/api/systems/${id}`, { method: 'PATCH', token: owner, body: { peopleMap: DISTRICT_PEOPLE_MAP } }),
			200
		);
		const snap = await env.SANDBOXES.getByName(id).snapshot();
		const first = snap.groups.find((g) => g.kind === 'message-group')!;
		expect(first.name).toBe('Lakeside High students');
		const p = await expectJson<RulePreview>(
			api(`/api/systems/${id}/rules/preview`, {
				token: reviewer,
				body: {
					name: first.name,
					groupId: first.id,
					scope: 'buildings',
					buildings: ['Lakeside High'],
					memberTypes: ['student'],
					role: 'member'
				}
			}),
			200
		);
		expect(p).toMatchObject({ joining: 30, alreadyMembers: 0 });
		expect(p.warnings.map((w) => w.code)).toEqual(['no-staff-manager']);
	});
});
