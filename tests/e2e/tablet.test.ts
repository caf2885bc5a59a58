/**
 * Every screen on a tablet (1024×1366, touch), light and dark: screenshots, axe-core, touch
 * targets. Uses its own provisioning link (HR export → Team Manager) so it stands alone.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { DEVICES, type PersistentBrowser } from '../support/browser';
import { seriousViolations, shot, smallTargets } from '../support/pwa';
import { signedIn } from '../support/sign-in';

const baseURL = inject('baseURL');
/** The seeded HR export's header row (worker/sandbox/seed.ts). */
const HR_HEADER = 'Employee ID,First name,Last name,Email,Mobile,Member type,Buildings,Communities,Functions,Grade\n';
const token = inject('ownerToken');

describe('every screen on a tablet', () => {
	let browser: PersistentBrowser;
	let page: Page;
	let linkId: string;
	const findings: string[] = [];

	async function screen(name: string) {
		await page.waitForTimeout(150);
		for (const scheme of ['light', 'dark'] as const) {
			await page.emulateMedia({ colorScheme: scheme });
			await shot(page, `tablet-${name}-${scheme}`, false);
			for (const v of await seriousViolations(page)) findings.push(`${name} [${scheme}]: ${v}`);
		}
		await page.emulateMedia({ colorScheme: 'light' });
		for (const t of await smallTargets(page)) findings.push(`${name}: small target ${t}`);
	}

	beforeAll(async () => {
		const res = await fetch(`${baseURL}/api/links`, {
			method: 'POST',
			headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
			body: JSON.stringify({
				name: 'HR → Team (tablet)',
				mode: 'provision',
				systems: { a: 'hr-export', b: 'sandbox-team' }
			})
		});
		expect(res.status).toBe(201);
		linkId = ((await res.json()) as { config: { id: string } }).config.id;
		({ browser, page } = await signedIn(baseURL, token, DEVICES.tablet));
	});
	afterAll(async () => {
		await browser?.close();
	});

	it('links, systems and the setup flow', async () => {
		await page.getByRole('heading', { name: 'HR → Team (tablet)' }).waitFor();
		await screen('links');
		await page.getByRole('link', { name: 'Systems' }).tap();
		await page.getByRole('heading', { name: 'HR export' }).waitFor();
		await screen('systems');
		// The upload form takes the whole row; nothing is sent here (the phone flow uploads).
		const hr = page.getByRole('article', { name: 'HR export' });
		await hr.getByRole('button', { name: 'Upload a new file' }).tap();
		await hr
			.getByLabel('CSV file')
			.setInputFiles({ name: 'hr.csv', mimeType: 'text/csv', buffer: Buffer.from(HR_HEADER) });
		await hr.getByLabel(/^Identifier/).selectOption('Employee ID');
		expect((await hr.boundingBox())!.width).toBeGreaterThan(900);
		await screen('systems-upload');
		await hr.getByRole('button', { name: 'Cancel' }).tap();
		await page.getByRole('link', { name: 'Access' }).tap();
		await page.getByRole('heading', { name: 'local owner' }).waitFor();
		await screen('access');
		await page.goto(`${baseURL}/links/new`);
		await page.getByLabel('Link name').waitFor();
		await screen('setup');
	});

	it('the review with a pair open beside the list', async () => {
		await page.goto(`${baseURL}/links/${encodeURIComponent(linkId)}`);
		await page.getByTestId('plan-source').waitFor({ timeout: 30_000 });
		const first = page.getByRole('list', { name: 'Pairs' }).getByRole('button').first();
		await first.tap();
		await page.locator('article.detail').waitFor();
		const list = await page.getByRole('list', { name: 'Pairs' }).boundingBox();
		const detail = await page.locator('article.detail').boundingBox();
		expect(detail!.x).toBeGreaterThan(list!.x + list!.width - 1); // side by side, not over
		await screen('review');
	});

	it('runs: a dry run, its progress and result, the history chart', async () => {
		await page.goto(`${baseURL}/links/${encodeURIComponent(linkId)}/runs`);
		await page.getByRole('button', { name: 'Dry run' }).tap();
		await expect
			.poll(() => page.getByTestId('run-status').getAttribute('data-status'), { timeout: 45_000 })
			.toBe('done');
		await screen('run');
		await page.getByRole('link', { name: '← Runs' }).tap();
		await page.getByRole('img', { name: /Last \d+ runs/ }).waitFor();
		await screen('runs');
		expect(findings).toEqual([]);
	});

	it('a viewer sees the review but neither setup nor answers', async () => {
		const res = await fetch(`${baseURL}/api/tokens`, {
			method: 'POST',
			headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
			body: JSON.stringify({ name: 'tablet viewer', role: 'viewer' })
		});
		expect(res.status).toBe(201);
		const viewer = ((await res.json()) as { token: string }).token;
		await page.goto(baseURL);
		await page.getByRole('button', { name: 'Sign out' }).tap();
		await page.getByLabel('Access token').fill(viewer);
		await page.getByRole('button', { name: 'Sign in' }).tap();
		await page.getByRole('heading', { name: 'HR → Team (tablet)' }).waitFor();
		expect(await page.getByRole('link', { name: 'Set up a link' }).count()).toBe(0);
		await page.goto(`${baseURL}/links/${encodeURIComponent(linkId)}`);
		await page.getByTestId('plan-source').waitFor({ timeout: 30_000 });
		expect(await page.getByRole('button', { name: 'Reload' }).count()).toBe(0);
		await page.getByLabel('Situation').selectOption('conflict');
		await page.getByRole('list', { name: 'Pairs' }).getByRole('button').first().tap();
		await page.locator('article.detail').getByText('Your role can look but not resolve').waitFor();
		await screen('review-viewer');
		expect(findings).toEqual([]);
	});
});
