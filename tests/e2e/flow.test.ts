/**
 * The whole flow on the built-in sandbox systems, on a phone (Pixel 7, touch), as a person does
 * it: sign in, connect a system, set up a link (Groups first, then Personnel), review, go offline,
 * resolve every conflict, reload the page offline, come back online and watch the outbox empty,
 * Reload, enable sync, run, follow the progress, see the result. Each screen gets a screenshot
 * (light and dark) and an axe-core check.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { DEVICES, launchPersistentBrowser, type PersistentBrowser } from '../support/browser';
import { seriousViolations, shot, smallTargets } from '../support/pwa';

const baseURL = inject('baseURL');
const token = inject('ownerToken');

describe('the whole flow, on a phone', () => {
	let browser: PersistentBrowser;
	let page: Page;
	const axeFindings: string[] = [];
	const tinyTargets: string[] = [];

	/** Screenshots in light and dark, axe in both, and the touch-target check. */
	async function screen(name: string, fullPage = true) {
		await page.waitForTimeout(150); // let transitions settle
		for (const scheme of ['light', 'dark'] as const) {
			await page.emulateMedia({ colorScheme: scheme });
			await shot(page, `phone-${name}-${scheme}`, fullPage);
			for (const v of await seriousViolations(page)) axeFindings.push(`${name} [${scheme}]: ${v}`);
		}
		await page.emulateMedia({ colorScheme: 'light' });
		for (const t of await smallTargets(page)) tinyTargets.push(`${name}: ${t}`);
	}

	beforeAll(async () => {
		browser = await launchPersistentBrowser(DEVICES.phone);
		page = browser.context.pages()[0] ?? (await browser.context.newPage());
	});
	afterAll(async () => {
		await browser?.close();
	});

	it('signs in with a token', async () => {
		await page.goto(baseURL);
		await page.getByLabel('Access token').waitFor();
		await screen('sign-in');
		await page.getByLabel('Access token').fill('not-a-token');
		await page.getByRole('button', { name: 'Sign in' }).tap();
		await expect.poll(() => page.getByRole('alert').textContent()).toContain('unknown, revoked or expired');
		await page.getByLabel('Access token').fill(token);
		await page.getByRole('button', { name: 'Sign in' }).tap();
		await page.getByRole('heading', { name: 'Links', level: 1 }).waitFor();
		expect(await page.getByRole('navigation', { name: 'Main' }).textContent()).toContain('Systems');
		await screen('links-empty');
	});

	it('lists the sandbox systems and connects one; its token is never shown again', async () => {
		await page.getByRole('link', { name: 'Systems' }).tap();
		await page.getByRole('heading', { name: 'Operations Center' }).waitFor();
		expect(await page.locator('main').textContent()).toContain('Team Manager');
		await page.getByRole('button', { name: 'Connect a system' }).tap();
		await page.getByLabel('Name').fill('Training portal');
		await page.getByLabel('Connector').selectOption('scim');
		await page.getByLabel(/Base URL/).fill('https://training.example.org/scim/v2');
		await page.getByLabel(/Region/).fill('eu');
		await page.getByLabel(/Access token/).fill('s3cret-scim-token');
		await screen('connect-system');
		await page.getByRole('button', { name: 'Connect', exact: true }).tap();
		await page.getByRole('heading', { name: 'Training portal' }).waitFor();
		expect(await page.content()).not.toContain('s3cret-scim-token');
		expect(await page.locator('main').textContent()).toContain('stored (never shown)');
		await screen('systems');
	});

	it('sets up a link: systems and mode, Groups, then Personnel, then schedule and limits', async () => {
		await page.getByRole('link', { name: 'Links' }).tap();
		await page.getByRole('link', { name: 'Set up a link' }).tap();
		await page.getByLabel('Link name').fill('Operations ⇄ Team');
		await page.getByLabel('First system', { exact: true }).selectOption({ label: 'Operations Center (eu)' });
		await page.getByLabel('Second system', { exact: true }).selectOption({ label: 'Team Manager (eu)' });
		await screen('setup-1-systems');
		await page.getByRole('button', { name: 'Next' }).tap();
		await page.getByRole('heading', { name: '2. Groups' }).waitFor();
		await screen('setup-2-groups');
		await page.getByRole('button', { name: 'Next' }).tap();
		await page.getByRole('heading', { name: '3. Personnel' }).waitFor();
		await page.getByLabel(/Field that matches people/).waitFor();
		const options = await page.getByLabel(/Field that matches people/).locator('option').allTextContents();
		expect(options).toContain('Email');
		await page.getByLabel(/Field that matches people/).selectOption({ label: 'Email' });
		await screen('setup-3-personnel');
		await page.getByRole('button', { name: 'Next' }).tap();
		await page.getByLabel(/Time zone/).selectOption('Europe/Amsterdam');
		await page.getByRole('spinbutton', { name: 'person removals, count' }).fill('50');
		await screen('setup-4-schedule');
		await page.getByRole('button', { name: 'Next' }).tap();
		expect(await page.locator('dl.facts').textContent()).toContain('Europe/Amsterdam');
		await screen('setup-5-confirm');
		await page.getByRole('button', { name: 'Create link and review' }).tap();
		await page.getByTestId('requires-action').waitFor({ timeout: 30_000 });
	});

	it('reviews: counts per situation, a searchable list, a conflict side by side', async () => {
		expect(await page.getByTestId('requires-action').textContent()).toMatch(/\d+ requiring action/);
		expect(await page.getByTestId('plan-source').textContent()).toContain('computed by the edge');
		expect(await page.getByRole('button', { name: 'Enable sync' }).count()).toBe(0);
		await screen('review');
		await page.getByLabel('Search by name or id').fill('zzzz-nobody');
		await expect.poll(() => page.getByTestId('row-count').textContent()).toBe('0 pairs');
		await page.getByLabel('Search by name or id').fill('');
		await page.getByLabel('Situation').selectOption('conflict');
		await expect.poll(() => page.getByTestId('row-count').textContent()).toMatch(/^[1-9]\d* pairs?$/);
	});

	it('offline: resolves every conflict, survives a reload, sends the outbox when back online', async () => {
		await browser.context.setOffline(true);
		await expect.poll(() => page.getByRole('status').first().textContent()).toContain('Offline');
		// Answer until nothing requires action (an answer can uncover another conflict).
		let conflicts = 0;
		while ((await page.getByTestId('requires-action').count()) > 0 && conflicts < 10) {
			await resolveFirstConflict(page, conflicts === 0 ? 'conflict-detail' : undefined);
			conflicts++;
		}
		await expect.poll(() => page.getByTestId('outbox-count').textContent()).toBe(`${conflicts} waiting`);
		await expect.poll(() => page.getByTestId('plan-source').textContent()).toContain('Local preview');
		await expect.poll(() => page.getByTestId('requires-action').count()).toBe(0);
		await screen('review-offline-resolved');

		// A reload while offline: the service worker serves the app, IndexedDB the review and outbox.
		await page.reload();
		await page.getByTestId('plan-source').waitFor({ timeout: 30_000 });
		expect(await page.getByTestId('plan-source').textContent()).toContain('Local preview');
		await expect.poll(() => page.getByRole('status').first().textContent()).toContain('Offline');
		expect(await page.getByTestId('outbox-count').textContent()).toBe(`${conflicts} waiting`);
		expect(await page.getByTestId('outbox-waiting').textContent()).toContain(`${conflicts} answers wait`);
		await screen('review-offline-reloaded');

		await browser.context.setOffline(false);
		await expect.poll(() => page.getByTestId('outbox-count').count(), { timeout: 20_000 }).toBe(0);
	});

	it('Reload has the edge reconcile; nothing requires action; sync is enabled', async () => {
		await page.getByRole('button', { name: 'Reload' }).tap();
		await expect.poll(() => page.getByTestId('plan-source').textContent(), { timeout: 30_000 }).toContain('computed by the edge');
		await page.getByTestId('ready').waitFor({ timeout: 15_000 }).catch(async (e) => {
			await shot(page, 'phone-review-not-ready');
			throw e;
		});
		await page.getByRole('button', { name: 'Enable sync' }).waitFor({ timeout: 15_000 });
		await screen('review-ready');
		await page.getByRole('button', { name: 'Enable sync' }).tap();
		await page.getByRole('button', { name: 'Disable sync' }).waitFor();
	});

	it('runs: starts a run, follows its progress, lists its operations; history has a chart', async () => {
		await page.getByRole('link', { name: 'Runs' }).tap();
		await page.getByRole('heading', { name: 'Runs', level: 1 }).waitFor();
		await page.getByRole('button', { name: 'Run now' }).tap();
		await page.getByRole('progressbar').waitFor();
		await screen('run-progress');
		await expect.poll(() => page.getByTestId('run-status').textContent(), { timeout: 45_000 }).toBe('done');
		await page.getByRole('heading', { name: 'Operations' }).waitFor();
		expect(await page.locator('.ops li').count()).toBeGreaterThan(0);
		expect(await page.getByRole('button', { name: 'Undo this run' }).count()).toBe(1);
		await screen('run-done', false);
		// An owner undoes it: a new run applies the inverse operations from the journal.
		const firstRun = page.url();
		await page.getByRole('button', { name: 'Undo this run' }).tap();
		await page.waitForURL((url) => url.href !== firstRun);
		await page.locator('.badge', { hasText: /^undo$/ }).waitFor();
		await expect.poll(() => page.getByTestId('run-status').textContent(), { timeout: 45_000 }).not.toBe('running');
		await page.getByRole('link', { name: '← Runs' }).tap();
		await page.getByRole('img', { name: /Last 2 runs/ }).waitFor();
		expect(await page.getByText('undone').count()).toBeGreaterThan(0);
		await screen('runs');
	});

	it('is installable, and every screen is accessible and touch-sized', async () => {
		const cdp = await browser.context.newCDPSession(page);
		await expect
			.poll(async () => (await cdp.send('Page.getInstallabilityErrors')).installabilityErrors, { timeout: 15_000 })
			.toEqual([]);
		expect(axeFindings).toEqual([]);
		expect(tinyTargets).toEqual([]);
	});
});

/**
 * Opens the first conflict in the list and answers it: a same-named group is linked to its
 * namesake; people that match ambiguously are created as new; both-changed takes a side.
 */
async function resolveFirstConflict(page: Page, screenshot?: string) {
	await page.getByLabel('Situation').selectOption('conflict');
	const first = page.getByRole('list', { name: 'Pairs' }).getByRole('button').first();
	await first.waitFor();
	await first.tap();
	const detail = page.locator('article.detail');
	await detail.waitFor();
	if (screenshot) {
		await page.waitForTimeout(150);
		await shot(page, `phone-${screenshot}-light`);
	}
	const before = await page.getByTestId('plan-source').textContent();
	const reason = await detail.locator('#reason-title').textContent();
	if (reason?.includes('Same name')) {
		await detail.getByRole('button', { name: 'Link these two' }).tap();
	} else if (reason?.includes('More than one match')) {
		await detail.getByRole('button', { name: 'Create as new' }).tap();
	} else {
		await detail.getByRole('button').filter({ hasText: /^Take / }).first().tap();
	}
	await expect.poll(() => page.getByRole('status').filter({ hasText: 'Saved on this device' }).count()).toBe(1);
	await expect.poll(() => page.getByTestId('plan-source').textContent()).not.toBe(before);
}
