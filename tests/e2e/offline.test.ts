import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchPersistentBrowser, type PersistentBrowser } from '../support/browser';

const baseURL = inject('baseURL');

describe('the PWA shell', () => {
	let browser: PersistentBrowser;

	beforeAll(async () => {
		browser = await launchPersistentBrowser();
	});
	afterAll(async () => {
		await browser?.close();
	});

	it('loads, shows sign-in, and is installable', async () => {
		const page = browser.context.pages()[0] ?? (await browser.context.newPage());
		await page.goto(baseURL);
		await page.getByLabel('Access token').waitFor();
		expect(await page.locator('header').innerText()).toContain('Rostersync');
		await expect.poll(() => page.getByRole('status').first().innerText()).toContain('Online');

		// Chromium's own installability check (Lighthouse 12+ dropped its PWA category).
		const cdp = await browser.context.newCDPSession(page);
		await expect
			.poll(async () => (await cdp.send('Page.getInstallabilityErrors')).installabilityErrors, { timeout: 15_000 })
			.toEqual([]);
		const manifest = await cdp.send('Page.getAppManifest');
		expect(manifest.errors).toEqual([]);
		expect(manifest.url).toBe(`${baseURL}/manifest.webmanifest`);
	});

	it('is controlled by the service worker after a reload, and loads offline', async () => {
		const page = browser.context.pages()[0];
		await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
		await page.reload();
		expect(await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL)).toBe(
			`${baseURL}/service-worker.js`
		);

		await browser.context.setOffline(true);
		try {
			await page.reload();
			expect(await page.locator('header').innerText()).toContain('Rostersync');
			await expect.poll(() => page.getByRole('status').first().innerText()).toContain('Offline');

			// A deep link that was never visited gets the cached SPA shell too.
			await page.goto(`${baseURL}/links/never-visited`);
			expect(await page.locator('header').innerText()).toContain('Rostersync');
		} finally {
			await browser.context.setOffline(false);
		}
	});
});
