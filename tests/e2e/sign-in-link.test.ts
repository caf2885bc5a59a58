/**
 * Getting in on a phone without pasting a token (Pixel 7, touch): an owner makes a one-time
 * sign-in link for a reviewer on the Access screen (QR code, link, code); another phone opens the
 * link and is signed in as that reviewer, the code gone from the address bar; the link then works
 * no more, and the owner's list says it was used. What each screen says is checked against the edge.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { DEVICES, launchPersistentBrowser, type PersistentBrowser } from '../support/browser';
import { seriousViolations, shot } from '../support/pwa';
import { signedIn } from '../support/sign-in';

const baseURL = inject('baseURL');
const token = inject('ownerToken');

const api = async (path: string, bearer = token) => {
	const res = await fetch(`${baseURL}/api${path}`, { headers: { authorization: `Bearer ${bearer}` } });
	expect(res.status).toBe(200);
	return res.json();
};

describe('signing in through a one-time link, on a phone', () => {
	let owner: PersistentBrowser;
	let page: Page;
	const findings: string[] = [];

	async function screen(p: Page, name: string) {
		await p.waitForTimeout(150);
		for (const scheme of ['light', 'dark'] as const) {
			await p.emulateMedia({ colorScheme: scheme });
			await shot(p, `phone-${name}-${scheme}`);
			for (const v of await seriousViolations(p)) findings.push(`${name} [${scheme}]: ${v}`);
		}
		await p.emulateMedia({ colorScheme: 'light' });
	}

	beforeAll(async () => {
		({ browser: owner, page } = await signedIn(baseURL, token));
	});
	afterAll(async () => {
		await owner?.close();
	});

	let link = '';
	const person = `Rita (phone ${Date.now()})`;

	it('an owner makes a sign-in link for a reviewer: QR code, link and code, as the edge holds it', async () => {
		await page.getByRole('link', { name: 'Access' }).tap();
		await page.getByRole('heading', { name: 'Send a sign-in link' }).waitFor();
		await page.getByLabel(/^Person/).fill(person);
		await page.getByLabel(/^Signs in as/).selectOption('reviewer');
		await page.getByLabel('Valid for').selectOption('15');
		await page.getByRole('button', { name: 'Make sign-in link' }).tap();
		const shown = page.getByTestId('sign-in-link');
		await shown.waitFor();
		expect(await shown.getByRole('heading').innerText()).toBe(`Sign-in link for ${person} (reviewer)`);
		expect(await shown.getByRole('img', { name: 'QR code of the sign-in link' }).locator('svg').count()).toBe(1);
		link = (await page.getByTestId('sign-in-url').innerText()).trim();
		const code = (await page.getByTestId('sign-in-code').innerText()).replace(/-/g, '');
		expect(link).toBe(`${baseURL}/#sign-in=${code}`);

		// The edge holds it waiting, for that person and role, until the time the screen says.
		const codes = await api('/sign-in-codes');
		const held = codes.find((c: { name: string }) => c.name === person);
		expect(held).toMatchObject({ role: 'reviewer', createdBy: 'token:local owner' });
		expect(held.usedAt).toBeUndefined();
		expect(JSON.stringify(codes)).not.toContain(code);
		const until = new Date(held.expiresAt).toLocaleTimeString('en-US', { hour: '2-digit', minute: '2-digit' });
		expect(await shown.innerText()).toContain(`Works once, until ${until}`);
		expect(Date.parse(held.expiresAt) - Date.parse(held.createdAt)).toBe(15 * 60_000);
		const listed = page.getByTestId('sign-in-codes').getByRole('listitem').filter({ hasText: person });
		expect(await listed.innerText()).toContain('reviewer · waiting until');
		await screen(page, 'access-sign-in-link');
	});

	it('another phone opens the link and is signed in as that reviewer; the code leaves the address bar', async () => {
		const rita = await launchPersistentBrowser(DEVICES.phone);
		try {
			const p = rita.context.pages()[0] ?? (await rita.context.newPage());
			await p.goto(link);
			await p.getByRole('heading', { name: 'Links', level: 1 }).waitFor();
			expect(p.url()).toBe(`${baseURL}/`);
			// The header names who is signed in (a phone's compact header may hide it from view).
			const nav = (await p.getByRole('navigation', { name: 'Main' }).textContent()) ?? '';
			expect(nav).toContain(`${person} · reviewer`);
			expect(await p.getByRole('link', { name: 'Access' }).count()).toBe(0);
			// The token the phone keeps is the one the edge issued for that person and role.
			const kept = await p.evaluate(() => localStorage.getItem('rostersync.token'));
			expect(await api('/me', kept!)).toEqual({ subject: `token:${person}`, role: 'reviewer', via: 'token' });
			const tokens = await api('/tokens');
			expect(tokens.filter((t: { name: string }) => t.name === person)).toMatchObject([{ role: 'reviewer' }]);
			// Asked for persistent storage: the notice shows exactly when the browser declined.
			await expect.poll(() => p.evaluate(() => navigator.storage.persisted())).toBeDefined();
			const persisted = await p.evaluate(() => navigator.storage.persisted());
			await expect.poll(() => p.getByTestId('storage-notice').count()).toBe(persisted ? 0 : 1);
			await screen(p, 'signed-in-by-link');
		} finally {
			await rita.close();
		}
	});

	it('the link works once: a third phone is told so, and the owner sees it used', async () => {
		const other = await launchPersistentBrowser(DEVICES.phone);
		try {
			const p = other.context.pages()[0] ?? (await other.context.newPage());
			await p.goto(link);
			await expect.poll(() => p.getByRole('alert').innerText()).toContain('was used already');
			await p.getByLabel('Access token').waitFor();
			expect(p.url()).toBe(`${baseURL}/`);
			await screen(p, 'sign-in-link-used');
		} finally {
			await other.close();
		}
		const held = (await api('/sign-in-codes')).find((c: { name: string }) => c.name === person);
		expect(held.usedAt).toEqual(expect.any(String));
		await page.reload();
		const listed = page.getByTestId('sign-in-codes').getByRole('listitem').filter({ hasText: person });
		await expect.poll(() => listed.innerText()).toContain('reviewer · used');
	});

	it('no serious axe violation on these screens', () => {
		expect(findings).toEqual([]);
	});
});
