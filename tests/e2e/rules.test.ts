/**
 * Auto synchronization on a phone (Pixel 7, touch), on the demo's messaging sandbox, as an admin
 * does it: open a system's message groups, set up a rule on a group (Buildings, Student, Member),
 * read its preview and its warning, save it turned on, see it apply; a new person arrives in the
 * directory and joins on the next application; turn it off removing the members it added; undo
 * that. Whatever the screen says (counts, names, states) is checked against what the edge answers
 * in the same test. Each screen gets axe-core in light and dark, and the touch-target check.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import type {
	RuleActionPreview,
	RuleConfig,
	RulePreview,
	RuleRunDetails,
	RuleRunSummary,
	RuleView
} from '../../src/lib/api/rules';
import type { Snapshot } from '../../src/lib/core';
import { DEVICES, launchPersistentBrowser, type PersistentBrowser } from '../support/browser';
import { seriousViolations, shot, smallTargets } from '../support/pwa';
import { signIn } from '../support/sign-in';
import { edgeApi } from '../support/edge-api';

const baseURL = inject('baseURL');
const token = inject('ownerToken');
const api = edgeApi(baseURL, token);

/** The Rostersync User extension the sandbox declares (buildings live there). */
const USER_EXT = 'urn:rostersync:params:scim:schemas:extension:2.0:User';

/** Whom the group holds now, read from the system through the edge: person id → role. */
async function members(systemId: string, groupId: string): Promise<Map<string, string>> {
	const snap = await api<Snapshot>(`/systems/${systemId}/snapshot`);
	return new Map(snap.memberships.filter((m) => m.groupId === groupId).map((m) => [m.personId, m.role]));
}

describe('auto synchronization, on a phone', () => {
	let browser: PersistentBrowser;
	let page: Page;
	const axeFindings: string[] = [];
	const tinyTargets: string[] = [];

	/** The system, group and building the test works on, chosen from the demo as the edge holds it. */
	let systemId = '';
	let group = { id: '', name: '' };
	let building = '';
	let config: RuleConfig;
	let rule: RuleView;
	let firstRun: RuleRunSummary;
	let newcomer = { id: '', name: '' };

	async function screen(name: string) {
		await page.waitForTimeout(150); // let transitions settle
		for (const scheme of ['light', 'dark'] as const) {
			await page.emulateMedia({ colorScheme: scheme });
			await shot(page, `phone-rules-${name}-${scheme}`);
			for (const v of await seriousViolations(page)) axeFindings.push(`${name} [${scheme}]: ${v}`);
		}
		await page.emulateMedia({ colorScheme: 'light' });
		for (const t of await smallTargets(page)) tinyTargets.push(`${name}: ${t}`);
	}

	/** The newest run in the rule's list, once it has finished; checked against the edge's list. */
	async function newestRunSettled(): Promise<RuleRunSummary> {
		await expect
			.poll(
				async () => {
					await page.reload();
					await page.getByRole('heading', { name: 'Runs' }).waitFor();
					const first = page.getByTestId('rule-run').first();
					return (await first.count()) ? first.locator('[data-status]').getAttribute('data-status') : 'none';
				},
				{ timeout: 60_000, interval: 1_000 }
			)
			.toMatch(/^(done|partial|failed)$/);
		const runs = await api<RuleRunSummary[]>(`/rules/${rule.id}/runs`);
		const shown = page.getByTestId('rule-run').first();
		expect(await shown.getAttribute('data-run')).toBe(runs[0].id);
		expect(await shown.locator('[data-status]').getAttribute('data-status')).toBe(runs[0].status);
		const { add, remove, role } = runs[0].counts;
		expect(await shown.getByTestId('rule-run-counts').innerText()).toBe(
			`${add} added · ${remove} removed · ${role} role ${role === 1 ? 'change' : 'changes'}`
		);
		return runs[0];
	}

	beforeAll(async () => {
		browser = await launchPersistentBrowser(DEVICES.phone);
		page = browser.context.pages()[0] ?? (await browser.context.newPage());
		// The demo's messaging sandbox: the system whose people have buildings and member types.
		const systems = await api<{ id: string; name: string; connector: string }[]>('/systems');
		const district = systems.find((s) => s.connector === 'sandbox' && /district|school/i.test(s.name));
		if (!district) throw new Error(`no school-district sandbox among ${systems.map((s) => s.name).join(', ')}`);
		systemId = district.id;
		const snap = await api<Snapshot>(`/systems/${systemId}/snapshot`);
		const rules = await api<RuleView[]>(`/systems/${systemId}/rules`);
		// A building's student group, left empty for a rule to fill (no staff manager: the warning).
		const g = snap.groups.find(
			(x) => x.kind === 'message-group' && / students$/.test(x.name) && !rules.some((r) => r.groupId === x.id)
		);
		if (!g) throw new Error(`${district.name} has no building's student group without a rule`);
		group = { id: g.id, name: g.name };
		building = g.name.replace(/ students$/, '');
		expect(snap.people.some((p) => p.memberType === 'student' && p.buildings?.includes(building))).toBe(true);
		config = {
			name: g.name,
			groupId: g.id,
			scope: 'buildings',
			buildings: [building],
			memberTypes: ['student'],
			role: 'member'
		};
	});
	afterAll(async () => {
		await browser?.close();
	});

	it("signs in and opens the district's message groups from Systems", async () => {
		await signIn(page, baseURL, token);
		await page.getByRole('link', { name: 'Systems' }).tap();
		const systems = await api<{ id: string; name: string }[]>('/systems');
		const name = systems.find((s) => s.id === systemId)!.name;
		await page.getByRole('article', { name }).getByRole('link', { name: 'Message groups' }).tap();
		await page.getByRole('heading', { name: 'Message groups', level: 1 }).waitFor();
		const card = page.getByRole('article', { name: group.name, exact: true });
		await card.waitFor();
		expect(await card.innerText()).toContain('Auto synchronization: Off');
		await screen('groups');
		await card.getByRole('link', { name: 'Turn on auto synchronization' }).tap();
		await page.getByRole('heading', { name: 'Set up auto synchronization' }).waitFor();
	});

	it('sets it up in the words admins know, and previews it: counts, the warning, a searchable list', async () => {
		await page.getByLabel('Message group').waitFor();
		expect(await page.getByLabel('Message group').inputValue()).toBe(group.id);
		expect(await page.getByLabel('Rule name').inputValue()).toBe(group.name);
		await page.getByRole('radio', { name: /^Buildings/ }).check();
		await page
			.getByRole('checkbox', { name: new RegExp(`^${building.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `) })
			.check();
		await page.getByRole('checkbox', { name: 'Staff', exact: true }).uncheck();
		await page.getByRole('checkbox', { name: 'Student', exact: true }).check();
		await page.getByRole('radio', { name: /^Member / }).check();
		await page.getByRole('button', { name: 'Preview', exact: true }).tap();
		await page.getByTestId('preview-counts').waitFor({ timeout: 30_000 });

		const edge = await api<RulePreview>(`/systems/${systemId}/rules/preview?limit=100`, {
			method: 'POST',
			body: config
		});
		expect(edge.joining).toBeGreaterThan(0);
		expect(await page.getByTestId('preview-joining').innerText()).toBe(edge.joining.toLocaleString('en-US'));
		expect(await page.getByTestId('preview-leaving').innerText()).toBe(String(edge.leaving));
		expect(await page.getByTestId('preview-roles').innerText()).toBe(String(edge.roleChanges));
		expect(await page.getByTestId('preview-already').innerText()).toBe(String(edge.alreadyMembers));
		expect(await page.getByTestId('preview-count').innerText()).toBe(
			`${edge.total} ${edge.total === 1 ? 'person' : 'people'} concerned`
		);
		// The student group has no staff manager: the warning says so and what to do.
		const warning = edge.warnings.find((w) => w.code === 'no-staff-manager');
		expect(warning).toBeDefined();
		const shown = page.locator('[data-testid="rule-warning"][data-code="no-staff-manager"]');
		expect(await shown.innerText()).toContain(warning!.message);
		// The list shows the people, searchable by name.
		const someone = edge.people.find((p) => p.change === 'join')!;
		await page.getByRole('list', { name: 'People concerned' }).getByText(edge.people[0].name).waitFor();
		await screen('preview');
		await page.getByLabel('Search people by name, email or building').fill(someone.name);
		const searched = await api<RulePreview>(
			`/systems/${systemId}/rules/preview?limit=100&q=${encodeURIComponent(someone.name)}`,
			{ method: 'POST', body: config }
		);
		await expect
			.poll(() => page.getByTestId('preview-count').innerText())
			.toBe(`${searched.total} ${searched.total === 1 ? 'person' : 'people'} match “${someone.name}”`);
		const row = page.getByTestId('preview-person').filter({ hasText: someone.name });
		expect(await row.innerText()).toContain('joins');
	});

	it('saves it turned on: it applies at once, and what it added is what the preview said', async () => {
		const joining = Number((await page.getByTestId('preview-joining').innerText()).replace(/\D/g, ''));
		await page.getByRole('button', { name: 'Save and turn on' }).tap();
		await page.getByRole('switch', { name: 'Auto synchronization' }).waitFor({ timeout: 30_000 });
		const ruleId = decodeURIComponent(page.url().split('/').pop()!);
		rule = await api<RuleView>(`/rules/${ruleId}`);
		expect(rule).toMatchObject({ ...config, enabled: true });
		expect(await page.getByRole('switch', { name: 'Auto synchronization' }).getAttribute('aria-checked')).toBe('true');
		firstRun = await newestRunSettled();
		expect(firstRun.status).toBe('done');
		expect(firstRun.counts.add).toBe(joining);
		rule = await api<RuleView>(`/rules/${ruleId}`);
		expect(rule.owned).toBe(joining);
		expect(await page.getByTestId('rule-owned').innerText()).toBe(
			`${joining} ${joining === 1 ? 'person' : 'people'} added by this rule`
		);
		await screen('rule-on');
		// Its run lists each person by name, each joined.
		await page.getByTestId('rule-run').first().getByRole('link').tap();
		await page.getByRole('heading', { name: 'Operations' }).waitFor({ timeout: 30_000 });
		const details = await api<RuleRunDetails>(`/rules/${rule.id}/runs/${firstRun.id}`);
		const ops = page.getByTestId('rule-op');
		expect(await ops.count()).toBe(Math.min(details.ops.length, 200));
		for (const [i, o] of details.ops.slice(0, 5).entries()) {
			expect(await ops.nth(i).innerText()).toContain(o.personName);
			expect(await ops.nth(i).getAttribute('data-status')).toBe(o.outcome?.status);
		}
		await screen('run');
		await page.getByRole('link', { name: '← Rule' }).tap();
	});

	it('a new student arrives in the directory and joins on the next application', async () => {
		// An outside SCIM client (the district's SIS) adds a student to the chosen building.
		const scim = await api<{ baseUrl: string; token: string }>(`/sandbox/${systemId}/token`, { method: 'POST' });
		const stamp = Date.now().toString(36);
		const res = await fetch(`${baseURL}/api/sandbox/${systemId}/scim/v2/Users`, {
			method: 'POST',
			headers: { authorization: `Bearer ${scim.token}`, 'content-type': 'application/scim+json' },
			body: JSON.stringify({
				schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', USER_EXT],
				userName: `new.student.${stamp}@example.org`,
				displayName: `Nova Newcomer ${stamp}`,
				name: { givenName: 'Nova', familyName: `Newcomer ${stamp}` },
				emails: [{ value: `new.student.${stamp}@example.org`, primary: true }],
				userType: 'student',
				active: true,
				[USER_EXT]: { buildings: [building] }
			})
		});
		expect(res.status).toBe(201);
		const created = (await res.json()) as { id: string; displayName: string };
		newcomer = { id: created.id, name: created.displayName };

		await page.getByRole('button', { name: 'Apply now' }).tap();
		await page.getByTestId('run-status').waitFor({ timeout: 30_000 });
		await expect
			.poll(() => page.getByTestId('run-status').getAttribute('data-status'), { timeout: 60_000 })
			.toBe('done');
		const op = page.getByTestId('rule-op').filter({ hasText: newcomer.name });
		await op.waitFor();
		expect(await op.innerText()).toContain('joins as Member');
		const runId = decodeURIComponent(page.url().split('/').pop()!);
		const details = await api<RuleRunDetails>(`/rules/${rule.id}/runs/${runId}`);
		expect(details.ops.map((o) => [o.personName, o.op.type, o.outcome?.status])).toEqual([
			[newcomer.name, 'add-membership', 'done']
		]);
		expect(await page.getByTestId('run-counts').innerText()).toBe('1 added · 0 removed · 0 role changes');
		expect((await members(systemId, group.id)).get(newcomer.id)).toBe('member');
		await page.getByRole('link', { name: '← Rule' }).tap();
		rule = await api<RuleView>(`/rules/${rule.id}`);
		await expect.poll(() => page.getByTestId('rule-owned').innerText()).toBe(`${rule.owned} people added by this rule`);
	});

	it('turning it off asks: keep or remove, each with how many people it touches; removal removes exactly those', async () => {
		const before = await members(systemId, group.id);
		await page.getByRole('switch', { name: 'Auto synchronization' }).tap();
		await page.getByTestId('disable-choices').waitFor({ timeout: 30_000 });
		const keep = await api<RuleActionPreview>(`/rules/${rule.id}/disable`, {
			method: 'POST',
			body: { removeMembers: false, dryRun: true }
		});
		const remove = await api<RuleActionPreview>(`/rules/${rule.id}/disable`, {
			method: 'POST',
			body: { removeMembers: true, dryRun: true }
		});
		expect(keep.remove).toBe(0);
		expect(remove.remove).toBe(rule.owned);
		expect(await page.getByTestId('disable-keep').innerText()).toContain(
			`Removes nobody: the ${rule.owned} people it added stay`
		);
		expect(await page.getByTestId('disable-remove').innerText()).toContain(
			`Removes exactly the ${remove.remove} people this rule added`
		);
		await screen('disable');
		await page.getByRole('button', { name: `Remove the ${remove.remove} people it added` }).tap();
		await expect
			.poll(
				async () =>
					(await page.getByRole('alert').count())
						? await page.getByRole('alert').innerText()
						: await page.getByRole('switch', { name: 'Auto synchronization' }).getAttribute('aria-checked'),
				{ timeout: 30_000 }
			)
			.toBe('false')
			.catch(async (e) => {
				await shot(page, 'phone-rules-disable-failed');
				throw e;
			});
		const run = await newestRunSettled();
		expect(run).toMatchObject({ trigger: 'disable', status: 'done' });
		expect(run.counts.remove).toBe(remove.remove);
		const after = await members(systemId, group.id);
		// Exactly the rule's members left; everyone who was there before the rule stays.
		expect(before.size - after.size).toBe(remove.remove);
		expect(after.has(newcomer.id)).toBe(false);
		const firstDetails = await api<RuleRunDetails>(`/rules/${rule.id}/runs/${firstRun.id}?limit=1000`);
		const added = new Set(
			firstDetails.ops.flatMap((o) => ('person' in o.op && 'id' in o.op.person ? [o.op.person.id] : []))
		);
		for (const [id] of after) expect(added.has(id)).toBe(false);
		expect((await api<RuleView>(`/rules/${rule.id}`)).owned).toBe(0);
		expect(await page.getByTestId('rule-owned').innerText()).toBe('0 people added by this rule');
		await screen('rule-off');
	});

	it('undo of the removal says what it reverses, asks to confirm, and brings exactly those back', async () => {
		const removedBefore = await members(systemId, group.id);
		await page.getByTestId('rule-run').first().getByRole('link').tap();
		await page.getByRole('button', { name: 'Undo this run' }).tap();
		await page.getByTestId('undo-preview').waitFor({ timeout: 30_000 });
		const runId = decodeURIComponent(page.url().split('/').pop()!);
		const edge = await api<RuleActionPreview>(`/rules/${rule.id}/runs/${runId}/undo`, {
			method: 'POST',
			body: { dryRun: true }
		});
		expect(edge.add).toBeGreaterThan(0);
		expect(await page.locator('#undo-summary').innerText()).toBe(
			`Undo adds back ${edge.add} ${edge.add === 1 ? 'person' : 'people'} it removed.`
		);
		expect(await page.getByTestId('undo-preview').innerText()).toContain(edge.people[0].name);
		await screen('undo-confirm');
		await page.getByRole('button', { name: 'Yes, undo this run' }).tap();
		await page.waitForURL((url) => !url.pathname.endsWith(runId));
		await page.locator('.badge', { hasText: /^undo$/ }).waitFor({ timeout: 60_000 });
		await expect
			.poll(() => page.getByTestId('run-status').getAttribute('data-status'), { timeout: 60_000 })
			.toBe('done');
		const undoId = decodeURIComponent(page.url().split('/').pop()!);
		const undo = await api<RuleRunSummary>(`/rules/${rule.id}/runs/${undoId}`);
		expect(undo.undoOf).toBe(runId);
		expect(await page.getByTestId('run-counts').innerText()).toBe(
			`${undo.counts.add} added · ${undo.counts.remove} removed · ${undo.counts.role} role ${undo.counts.role === 1 ? 'change' : 'changes'}`
		);
		expect(undo.counts.add).toBe(edge.add);
		const after = await members(systemId, group.id);
		expect(after.size - removedBefore.size).toBe(edge.add);
		expect(after.get(newcomer.id)).toBe('member');
		await screen('undo-done');
	});

	it('turning it on again previews first what applying it would do, and Cancel changes nothing', async () => {
		await page.getByRole('link', { name: '← Rule' }).tap();
		await page.getByRole('switch', { name: 'Auto synchronization' }).tap();
		await page.getByRole('heading', { name: 'Turn auto synchronization on?' }).waitFor({ timeout: 30_000 });
		const edge = await api<RulePreview>(`/rules/${rule.id}/preview?limit=100`, {
			method: 'POST',
			body: { enabled: true }
		});
		expect(await page.getByTestId('preview-joining').innerText()).toBe(String(edge.joining));
		expect(await page.getByTestId('preview-already').innerText()).toBe(String(edge.alreadyMembers));
		await screen('enable-preview');
		await page.getByRole('button', { name: 'Cancel', exact: true }).tap();
		expect(await page.getByRole('switch', { name: 'Auto synchronization' }).getAttribute('aria-checked')).toBe('false');
		expect((await api<RuleView>(`/rules/${rule.id}`)).enabled).toBe(false);
	});

	it('offline, the rule and its runs are still there, marked as stored, and nothing can be changed', async () => {
		await page.getByTestId('rule-owned').waitFor();
		const edgeRule = await api<RuleView>(`/rules/${rule.id}`);
		const edgeRuns = await api<RuleRunSummary[]>(`/rules/${rule.id}/runs`);
		await expect.poll(() => page.getByTestId('rule-run').count()).toBe(edgeRuns.length);
		await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
		await browser.context.setOffline(true);
		try {
			await page.reload();
			await page.getByText(/^Offline: showing what this device stored at/).waitFor({ timeout: 30_000 });
			expect(await page.getByTestId('rule-owned').innerText()).toBe(
				`${edgeRule.owned} ${edgeRule.owned === 1 ? 'person' : 'people'} added by this rule`
			);
			expect(await page.getByRole('switch', { name: 'Auto synchronization' }).getAttribute('aria-checked')).toBe(
				String(edgeRule.enabled)
			);
			expect(await page.getByRole('switch', { name: 'Auto synchronization' }).isDisabled()).toBe(true);
			expect(await page.getByRole('button', { name: 'Change settings' }).isDisabled()).toBe(true);
			expect(await page.getByTestId('rule-run').count()).toBe(edgeRuns.length);
			await page.getByText('Rules are changed online only').waitFor();
			await screen('rule-offline');
		} finally {
			await browser.context.setOffline(false);
		}
	});

	it.each([
		['viewer', [], ['Change settings', 'Preview', 'Dry run', 'Apply now', 'Delete rule']],
		['reviewer', ['Preview', 'Dry run'], ['Change settings', 'Apply now', 'Delete rule']]
	] as const)(
		'a %s reads the rule and its runs, with only the controls the role allows',
		async (role, shown, hidden) => {
			const issued = await api<{ token: string }>('/tokens', {
				method: 'POST',
				body: { name: `${role} on a phone`, role }
			});
			const other = await launchPersistentBrowser(DEVICES.phone);
			try {
				const them = other.context.pages()[0] ?? (await other.context.newPage());
				await them.goto(baseURL);
				await them.getByLabel('Access token').fill(issued.token);
				await them.getByRole('button', { name: 'Sign in' }).tap();
				await them.getByRole('heading', { name: 'Links', level: 1 }).waitFor();
				await them.goto(`${baseURL}/systems/${encodeURIComponent(systemId)}/rules/${encodeURIComponent(rule.id)}`);
				await them.getByTestId('auto-sync-state').waitFor({ timeout: 30_000 });
				const edge = await api<RuleView>(`/rules/${rule.id}`);
				expect(await them.getByTestId('auto-sync-state').innerText()).toBe(edge.enabled ? 'On' : 'Off');
				expect(await them.getByRole('switch').count()).toBe(0);
				for (const name of shown) expect(await them.getByRole('button', { name, exact: true }).count()).toBe(1);
				for (const name of hidden) expect(await them.getByRole('button', { name, exact: true }).count()).toBe(0);
				const runs = await api<RuleRunSummary[]>(`/rules/${rule.id}/runs`);
				expect(await them.getByTestId('rule-run').count()).toBe(runs.length);
			} finally {
				await other.close();
			}
		}
	);

	it('every screen is accessible in light and dark, and touch-sized', () => {
		expect(axeFindings).toEqual([]);
		expect(tinyTargets).toEqual([]);
	});
});
