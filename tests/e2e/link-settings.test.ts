/**
 * Changing a link after setup on a phone (Pixel 7, touch): the owner opens its settings, changes
 * the field that matches people, the nightly hour and a deletion limit, previews the change (the
 * settings in words, the plan now and after, per situation) and applies it; then what happens to
 * someone who leaves, the same way. What the preview says
 * is checked against the edge's current plan and its own dry run; once applied, the edge holds the
 * new settings and its plan is the one the preview showed.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { LinkConfig, Reconciliation, Situation } from '$lib/core';
import type { LinkChangePreview } from '$lib/api/link-change';
import type { SystemCapabilities } from '$lib/api/types';
import { type PersistentBrowser } from '../support/browser';
import { seriousViolations, shot } from '../support/pwa';
import { signedIn } from '../support/sign-in';

const baseURL = inject('baseURL');
const token = inject('ownerToken');
const LABEL: Record<string, Situation> = {
	'In sync': 'in-sync',
	Update: 'update',
	Create: 'create',
	Remove: 'remove',
	'Requiring action': 'conflict'
};

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
	const res = await fetch(`${baseURL}/api${path}`, {
		method,
		headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
		body: body ? JSON.stringify(body) : undefined
	});
	expect(res.status, await res.clone().text()).toBeLessThan(300);
	return res.json() as Promise<T>;
}

describe("changing a link's settings, previewed first, on a phone", () => {
	let browser: PersistentBrowser;
	let page: Page;
	let linkId: string;
	const name = `Ops ⇄ Team (settings ${Date.now()})`;
	const findings: string[] = [];

	async function screen(shotName: string) {
		await page.waitForTimeout(150);
		for (const scheme of ['light', 'dark'] as const) {
			await page.emulateMedia({ colorScheme: scheme });
			await shot(page, `phone-${shotName}-${scheme}`);
			for (const v of await seriousViolations(page)) findings.push(`${shotName} [${scheme}]: ${v}`);
		}
		await page.emulateMedia({ colorScheme: 'light' });
	}

	/** The rows of a kind's plan table: situation -> [now, after], as the screen shows them. */
	async function planRows(kind: 'person' | 'group'): Promise<Record<string, [number, number]>> {
		const rows = await page
			.getByTestId(`plan-${kind}`)
			.locator('tbody tr')
			.evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('th, td')].map((c) => c.textContent!.trim())));
		return Object.fromEntries(
			rows.map(([label, now, after]) => [
				LABEL[label],
				[Number(now.replace(/\D/g, '')), Number(after.replace(/\D/g, ''))]
			])
		);
	}
	const nonZero = (counts: Record<Situation, number>, other: Record<Situation, number>) =>
		Object.keys(counts).filter((s) => counts[s as Situation] || other[s as Situation]);

	beforeAll(async () => {
		const view = await call<{ config: LinkConfig }>('POST', '/links', {
			name,
			mode: 'two-way',
			systems: { a: 'sandbox-ops', b: 'sandbox-team' },
			match: { person: 'email', group: 'externalId' },
			schedule: { timeZone: 'UTC', hour: 2, enabled: true }
		});
		linkId = view.config.id;
		await call('POST', `/links/${linkId}/reconcile`);
		({ browser, page } = await signedIn(baseURL, token));
	});
	afterAll(async () => {
		await browser?.close();
	});

	const PATCH = {
		schedule: { timeZone: 'UTC', hour: 3, enabled: true },
		limits: {
			person: { count: 50, percent: 20 },
			group: { count: 500, percent: 20 },
			membership: { count: 500, percent: 20 }
		},
		match: { person: 'employeeNumber', group: 'externalId' }
	} as const;
	let shownAfter: Record<string, [number, number]> = {};

	it('previews the change: the settings in words, and the plan now and after as the edge has them', async () => {
		await page.goto(`${baseURL}/links/${encodeURIComponent(linkId)}`);
		await page.getByRole('link', { name: 'Settings' }).tap();
		await page.getByRole('heading', { name: 'Link settings', level: 1 }).waitFor();
		await page.getByLabel(/^Field that matches people/).selectOption('employeeNumber');
		await page.getByLabel('At', { exact: true }).selectOption('3');
		await page.getByLabel('People removals, count').fill('50');
		await screen('link-settings');
		await page.getByRole('button', { name: 'Preview the change' }).tap();
		const card = page.getByTestId('change-preview');
		await card.waitFor({ timeout: 60_000 });
		expect(await card.getByTestId('change-lines').locator('li').allInnerTexts()).toEqual([
			'People matched by Email → Employee number',
			'Nightly run: 02:00 nightly, UTC → 03:00 nightly, UTC',
			'People removals staged above 500 or 20 % → 50 or 20 %'
		]);
		// Sync is off, so no nightly run is planned either way, and none is shown.
		expect(await card.getByTestId('next-run').count()).toBe(0);

		// "Now" is the link's current plan; "After" is what the edge's own dry run of this change says.
		const current = await call<Reconciliation>('GET', `/links/${linkId}/plan`);
		const dry = await call<LinkChangePreview>('PATCH', `/links/${linkId}?dryRun=true`, PATCH);
		for (const kind of ['person', 'group'] as const) {
			const rows = await planRows(kind);
			const now = current.counts[kind];
			const after = dry.plan!.after.counts[kind];
			expect(Object.keys(rows).sort()).toEqual(nonZero(now, after).sort());
			for (const [s, [n, a]] of Object.entries(rows)) {
				expect(n, `${kind} ${s} now`).toBe(now[s as Situation]);
				expect(a, `${kind} ${s} after`).toBe(after[s as Situation]);
			}
			if (kind === 'person') shownAfter = rows;
		}
		// The match field matters here: the plan is not the same under it.
		expect(dry.plan!.after.counts.person).not.toEqual(dry.plan!.before.counts.person);
		const totals = await card.getByTestId('plan-totals').innerText();
		expect(totals).toContain(`${dry.plan!.before.plan.total} → ${dry.plan!.after.plan.total}`);

		// Previewed, not applied.
		const link = await call<{ config: LinkConfig }>('GET', `/links/${linkId}`);
		expect(link.config.match.person).toBe('email');
		expect(link.config.schedule.hour).toBe(2);
		await screen('link-settings-preview');
	});

	it('applied: the edge holds the new settings, and its plan is the one the preview showed', async () => {
		await page.getByRole('button', { name: 'Apply this change' }).tap();
		await page.waitForURL(`${baseURL}/links/${encodeURIComponent(linkId)}`, { timeout: 60_000 });
		const link = await call<{ config: LinkConfig }>('GET', `/links/${linkId}`);
		expect(link.config.match).toEqual(PATCH.match);
		expect(link.config.schedule).toEqual(PATCH.schedule);
		expect(link.config.limits.person).toEqual(PATCH.limits.person);
		const plan = await call<Reconciliation>('GET', `/links/${linkId}/plan`);
		expect(Object.keys(shownAfter).length).toBeGreaterThan(0);
		for (const [s, [, after]] of Object.entries(shownAfter)) expect(plan.counts.person[s as Situation]).toBe(after);
	});

	it('someone who leaves: no warning where both systems can deactivate; deleting instead, previewed and applied', async () => {
		await page.getByRole('link', { name: 'Settings' }).tap();
		await page.getByRole('heading', { name: 'Link settings', level: 1 }).waitFor();
		// The screen warns only about a system the edge says cannot deactivate: both sandboxes can.
		const caps = await Promise.all(
			['sandbox-ops', 'sandbox-team'].map((id) => call<SystemCapabilities>('GET', `/systems/${id}/capabilities`))
		);
		expect(caps.map((c) => c.softRemove)).toEqual([true, true]);
		expect(await page.getByTestId('no-deactivation').count()).toBe(0);
		expect(await page.getByLabel(/^Restorable for/).inputValue()).toBe('30');

		await page.getByRole('radio', { name: /Delete them at once/ }).check();
		expect(await page.getByLabel(/^Restorable for/).count()).toBe(0);
		await screen('link-settings-leaving');
		await page.getByRole('button', { name: 'Preview the change' }).tap();
		const card = page.getByTestId('change-preview');
		await card.waitFor({ timeout: 60_000 });
		expect(await card.getByTestId('change-lines').locator('li').allInnerTexts()).toEqual([
			'Someone who leaves is deactivated, restorable → deleted, not restorable'
		]);
		await page.getByRole('button', { name: 'Apply this change' }).tap();
		await page.waitForURL(`${baseURL}/links/${encodeURIComponent(linkId)}`, { timeout: 60_000 });
		const link = await call<{ config: LinkConfig }>('GET', `/links/${linkId}`);
		expect(link.config).toMatchObject({ removeMode: 'delete', retentionDays: 30 });
	});

	it('no serious axe violation on these screens', () => {
		expect(findings).toEqual([]);
	});
});
