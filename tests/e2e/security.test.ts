/**
 * The app's security in Chromium: the headers on the page, its files and the API; the app at work
 * under its Content-Security-Policy with no violation (sign-in, a review in the reconcile Web
 * Worker, the service worker); and signing out of a shared tablet, which warns while answers wait
 * in the outbox and then erases IndexedDB, the API answers in CacheStorage and web storage.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchPersistentBrowser, type PersistentBrowser } from '../support/browser';
import { signIn } from '../support/sign-in';

const baseURL = inject('baseURL');
const token = inject('ownerToken');
/** Unique: the server (and its links) may be shared with other test files. */
const LINK_NAME = `HR → Team (security ${crypto.randomUUID().slice(0, 6)})`;

const PAGE_HEADERS = {
	'x-content-type-options': 'nosniff',
	'referrer-policy': 'no-referrer',
	'x-frame-options': 'DENY'
};

/** Row counts of every object store of the app's database, read without Dexie. */
function storeCounts(page: Page): Promise<Record<string, number>> {
	return page.evaluate(async () => {
		const db = await new Promise<IDBDatabase>((resolve, reject) => {
			const open = indexedDB.open('rostersync');
			open.onsuccess = () => resolve(open.result);
			open.onerror = () => reject(open.error);
		});
		const names = [...db.objectStoreNames];
		const tx = db.transaction(names);
		const counts = await Promise.all(
			names.map(
				(name) =>
					new Promise<[string, number]>((resolve) => {
						const count = tx.objectStore(name).count();
						count.onsuccess = () => resolve([name, count.result]);
					})
			)
		);
		db.close();
		return Object.fromEntries(counts);
	});
}

/** Every cache of CacheStorage with the paths it holds. */
function cachedPaths(page: Page): Promise<Record<string, string[]>> {
	return page.evaluate(async () => {
		const out: Record<string, string[]> = {};
		for (const name of await caches.keys()) {
			const keys = await (await caches.open(name)).keys();
			out[name] = keys.map((r) => new URL(r.url).pathname);
		}
		return out;
	});
}

describe('headers', () => {
	it('the page, its files and deep links carry the security headers and the page its own policy', async () => {
		for (const path of ['/', '/links/anything', '/manifest.webmanifest', '/service-worker.js']) {
			const res = await fetch(`${baseURL}${path}`, { headers: { 'sec-fetch-mode': 'navigate' } });
			expect(res.status, path).toBe(200);
			expect(res.headers.get('content-security-policy'), path).toContain("frame-ancestors 'none'");
			for (const [name, value] of Object.entries(PAGE_HEADERS))
				expect(res.headers.get(name), `${path} ${name}`).toBe(value);
		}
		// The shell's policy (kit.csp) allows exactly its own inline bootstrap script, by hash.
		const html = await (await fetch(baseURL)).text();
		const policy = /<meta http-equiv="content-security-policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
		const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
		expect(scripts).toHaveLength(1);
		const hash = createHash('sha256').update(scripts[0]).digest('base64');
		expect(policy).toContain(`script-src 'self' 'sha256-${hash}'`);
		expect(policy).toContain("connect-src 'self'");
		expect(policy).not.toMatch(/script-src[^;]*unsafe/);
	});

	it('the API carries them too', async () => {
		for (const path of ['/api/health', '/api/links']) {
			const res = await fetch(`${baseURL}${path}`);
			expect(res.headers.get('content-security-policy'), path).toBe("default-src 'none'; frame-ancestors 'none'");
			for (const [name, value] of Object.entries(PAGE_HEADERS))
				expect(res.headers.get(name), `${path} ${name}`).toBe(value);
		}
	});
});

describe('the app under its policy, and signing out', () => {
	let browser: PersistentBrowser;
	let page: Page;
	let linkId: string;
	const violations: string[] = [];

	beforeAll(async () => {
		const res = await fetch(`${baseURL}/api/links`, {
			method: 'POST',
			headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
			body: JSON.stringify({
				name: LINK_NAME,
				mode: 'provision',
				systems: { a: 'hr-export', b: 'sandbox-team' }
			})
		});
		expect(res.status).toBe(201);
		linkId = ((await res.json()) as { config: { id: string } }).config.id;

		browser = await launchPersistentBrowser();
		// Every violation the browser reports, as an event in any page or as its console message.
		await browser.context.exposeBinding('reportViolation', (_source, line: string) => void violations.push(line));
		await browser.context.addInitScript(() => {
			document.addEventListener('securitypolicyviolation', (e) =>
				(window as unknown as { reportViolation(line: string): void }).reportViolation(
					`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`
				)
			);
		});
		page = browser.context.pages()[0] ?? (await browser.context.newPage());
		page.on('console', (m) => {
			if (/Content Security Policy/i.test(m.text())) violations.push(`console: ${m.text()}`);
		});
		page.on('pageerror', (e) => violations.push(`page error: ${e.message}`));
	});
	afterAll(async () => {
		await browser?.close();
	});

	it('signs in, reviews a link in the Web Worker, runs offline-ready: no policy violation', async () => {
		await signIn(page, baseURL, token, 'click');
		await page.getByRole('heading', { name: LINK_NAME }).waitFor();

		// The review reconciles in the comlink Web Worker and keeps snapshots and the plan in IndexedDB.
		await page.goto(`${baseURL}/links/${encodeURIComponent(linkId)}`);
		await page.getByTestId('plan-source').waitFor({ timeout: 30_000 });
		await page.getByRole('list', { name: 'Pairs' }).getByRole('button').first().click();
		await page.locator('article.detail').waitFor();
		await page.goto(`${baseURL}/systems`);
		await page.getByRole('heading', { name: 'HR export' }).waitFor();

		// The service worker installs (it precaches every file) and controls the page after a reload.
		await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
		await page.reload();
		await page.getByRole('heading', { name: 'HR export' }).waitFor();
		expect(await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL)).toBe(
			`${baseURL}/service-worker.js`
		);
		expect(violations).toEqual([]);
	});

	it('warns before signing out while answers wait in the outbox; Cancel keeps everything', async () => {
		const before = await storeCounts(page);
		expect(before.people).toBeGreaterThan(0);
		expect(before.snapshots).toBe(2);
		expect(before.plans).toBeGreaterThan(0);
		// Two answers that did not reach the edge, and API answers in CacheStorage (whatever put them there).
		await page.evaluate(async (link) => {
			const db = await new Promise<IDBDatabase>((resolve) => {
				const open = indexedDB.open('rostersync');
				open.onsuccess = () => resolve(open.result);
			});
			const tx = db.transaction('outbox', 'readwrite');
			for (const conflictId of ['c-1', 'c-2'])
				tx.objectStore('outbox').put({
					linkId: link,
					conflictId,
					resolution: { conflictId, choice: 'ignore', against: [] },
					state: 'pending',
					rev: 1,
					createdAt: new Date().toISOString(),
					updatedAt: new Date().toISOString(),
					attempts: 0
				});
			await new Promise((resolve) => (tx.oncomplete = resolve));
			db.close();
			await (await caches.open('api-answers')).put('/api/links', new Response('[]'));
			const shell = (await caches.keys()).find((name) => name.startsWith('rostersync-'))!;
			await (await caches.open(shell)).put('/api/systems', new Response('[]'));
			sessionStorage.setItem('rostersync.draft', 'x');
		}, linkId);

		await page.getByRole('button', { name: 'Sign out' }).click();
		const warning = page.getByRole('group', { name: /2 answers have not reached the edge yet/ });
		await warning.waitFor();
		expect(await warning.innerText()).toContain('Signing out erases them from this device');
		await warning.getByRole('button', { name: 'Cancel' }).click();
		await page.getByRole('button', { name: 'Sign out' }).waitFor();
		expect((await storeCounts(page)).outbox).toBe(2);
		expect(await page.evaluate(() => localStorage.getItem('rostersync.token'))).toBe(token);
	});

	it('erases IndexedDB, the API answers in CacheStorage and web storage when signing out', async () => {
		await page.getByRole('button', { name: 'Sign out' }).click();
		await page.getByRole('button', { name: 'Erase and sign out' }).click();
		await page.getByLabel('Access token').waitFor();
		expect(new URL(page.url()).pathname).toBe('/');

		const after = await storeCounts(page);
		expect(Object.keys(after)).toContain('outbox');
		expect(Object.entries(after).filter(([, count]) => count > 0)).toEqual([]);
		const cached = await cachedPaths(page);
		expect(
			Object.values(cached)
				.flat()
				.filter((path) => path.startsWith('/api/'))
		).toEqual([]);
		// The app shell stays: the same for everyone, and it opens the app offline.
		expect(Object.entries(cached).some(([name, paths]) => name.startsWith('rostersync-') && paths.includes('/'))).toBe(
			true
		);
		const web = await page.evaluate(() => ({ local: { ...localStorage }, session: { ...sessionStorage } }));
		expect(web.local).toEqual({});
		// SvelteKit writes its scroll positions back as the page unloads; no route keeps a snapshot.
		expect(Object.keys(web.session).filter((key) => !key.startsWith('sveltekit:'))).toEqual([]);
		expect(web.session['sveltekit:snapshot'] ?? '{}').toBe('{}');
		expect(violations).toEqual([]);
	});

	it('signs out at once, without a warning, when nothing waits', async () => {
		await page.getByLabel('Access token').fill(token);
		await page.getByRole('button', { name: 'Sign in' }).click();
		await page.getByRole('heading', { name: 'Links', level: 1 }).waitFor();
		await page.getByRole('button', { name: 'Sign out' }).click();
		await page.getByLabel('Access token').waitFor();
		expect(await page.evaluate(() => localStorage.length)).toBe(0);
	});
});
