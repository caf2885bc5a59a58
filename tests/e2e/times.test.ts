/**
 * Times on a phone whose clock is in UTC, for a link that runs at 02:00 in Oslo: the screen says
 * the next run as the link means it (02:00, Europe/Oslo) with the device's 01:00 beside it, and
 * both name the instant the edge holds. The setup's time zone starts on the device's zone (UTC,
 * not blank) and is found by typing. Light and dark, axe, screenshots.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { toLocalTime } from '../../src/lib/core';
import { DEVICES, launchPersistentBrowser, type PersistentBrowser } from '../support/browser';
import { seriousViolations, shot, smallTargets } from '../support/pwa';
import { createSandbox, edge } from '../support/sandboxes';
import { signedIn } from '../support/sign-in';

const baseURL = inject('baseURL');
const token = inject('ownerToken');
const api = edge(baseURL, token);
const two = (n: number) => String(n).padStart(2, '0');

interface LinkView {
	config: { id: string; name: string; schedule: { timeZone: string; hour: number } };
	status: { enabled: boolean; nextRunAt?: string; requiresAction: number };
}

describe('times in the link zone, on a UTC phone', () => {
	let browser: PersistentBrowser;
	let page: Page;
	let link: LinkView;
	const findings: string[] = [];

	async function screen(name: string) {
		await page.waitForTimeout(150);
		for (const scheme of ['light', 'dark'] as const) {
			await page.emulateMedia({ colorScheme: scheme });
			await shot(page, `phone-${name}-${scheme}`);
			for (const v of await seriousViolations(page)) findings.push(`${name} [${scheme}]: ${v}`);
		}
		await page.emulateMedia({ colorScheme: 'light' });
		for (const t of await smallTargets(page)) findings.push(`${name}: small target ${t}`);
	}

	beforeAll(async () => {
		// A link of its own between two new directories holding the same person: nothing requires
		// action, so sync can be enabled and the edge schedules the nightly run.
		const north = await createSandbox(api, 'Oslo roster');
		const south = await createSandbox(api, 'Bergen roster');
		for (const s of [north, south])
			await s.add({ userName: 'ada@example.org', displayName: 'Ada Berg', email: 'ada@example.org' });
		const created = await api.call<LinkView>(
			'POST',
			'/links',
			{
				name: 'Oslo ⇄ Bergen',
				mode: 'two-way',
				systems: { a: north.id, b: south.id },
				kinds: ['person'],
				match: { person: 'email', group: 'externalId' },
				schedule: { timeZone: 'Europe/Oslo', hour: 2, enabled: true }
			},
			201
		);
		const id = encodeURIComponent(created.config.id);
		const plan = await api.call<{ requiresAction: number }>('POST', `/links/${id}/reconcile`);
		expect(plan.requiresAction).toBe(0);
		link = await api.call<LinkView>('POST', `/links/${id}/enable`);
		expect(link.status.nextRunAt).toBeDefined();

		({ browser, page } = await signedIn(baseURL, token, { ...DEVICES.phone, timezoneId: 'UTC' }));
	});
	afterAll(async () => {
		await browser?.close();
	});

	it("says the next run in the link's zone, and the device's time beside it", async () => {
		expect(await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone)).toMatch(/^(Etc\/)?UTC$/);
		const card = page.getByRole('article', { name: 'Oslo ⇄ Bergen' });
		const next = card.getByTestId('next-run');
		await next.waitFor();
		// What the edge holds: one instant, 02:00 in Oslo.
		const at = Date.parse(link.status.nextRunAt!);
		const oslo = toLocalTime(at, 'Europe/Oslo');
		const utc = new Date(at);
		expect(`${two(oslo.hour)}:${two(oslo.minute)}`).toBe('02:00');
		expect(await next.locator('time').getAttribute('datetime')).toBe(link.status.nextRunAt);
		const text = await next.innerText();
		expect(text).toContain(`${two(oslo.hour)}:${two(oslo.minute)} (Europe/Oslo)`);
		expect(text).toContain(`${two(utc.getUTCHours())}:${two(utc.getUTCMinutes())} on this device (UTC)`);
		expect(text).toContain(`${oslo.day}`);
		await screen('times-links-utc');
	});

	it("lists runs by their start in the link's zone, and on the device", async () => {
		const id = encodeURIComponent(link.config.id);
		const run = await api.call<{ id: string; startedAt: string }>('POST', `/links/${id}/runs`, { dryRun: true }, 202);
		await page.goto(`${baseURL}/links/${id}/runs`);
		const shown = page.locator(`time[datetime="${run.startedAt}"]`);
		await shown.waitFor({ timeout: 30_000 });
		const oslo = toLocalTime(Date.parse(run.startedAt), 'Europe/Oslo');
		const utc = new Date(run.startedAt);
		const text = await shown.innerText();
		expect(text).toContain(`${two(oslo.hour)}:${two(oslo.minute)} (Europe/Oslo)`);
		expect(text).toContain(`${two(utc.getUTCHours())}:${two(utc.getUTCMinutes())} on this device (UTC)`);
		await screen('times-runs-utc');
		await page.goto(baseURL);
	});

	it('on a phone in Oslo the time is said once', async () => {
		const oslo = await launchPersistentBrowser({ ...DEVICES.phone, timezoneId: 'Europe/Oslo' });
		try {
			const there = oslo.context.pages()[0] ?? (await oslo.context.newPage());
			await there.goto(baseURL);
			await there.getByLabel('Access token').fill(token);
			await there.getByRole('button', { name: 'Sign in' }).tap();
			const next = there.getByRole('article', { name: 'Oslo ⇄ Bergen' }).getByTestId('next-run');
			await next.waitFor();
			const text = await next.innerText();
			expect(text).toContain('02:00 (Europe/Oslo)');
			expect(text).not.toContain('on this device');
		} finally {
			await oslo.close();
		}
	});

	it("the setup's time zone starts on the device's zone and is found by typing, or by keys", async () => {
		await page.goto(`${baseURL}/links/new`);
		await page.getByLabel('Link name').fill('Times');
		await page.getByLabel('First system', { exact: true }).selectOption({ label: 'Oslo roster (eu)' });
		await page.getByLabel('Second system', { exact: true }).selectOption({ label: 'Bergen roster (eu)' });
		await page.getByRole('button', { name: 'Next' }).tap();
		await page.getByRole('heading', { name: '2. Groups' }).waitFor();
		await page.getByRole('button', { name: 'Next' }).tap();
		await page.getByRole('heading', { name: '3. Personnel' }).waitFor();
		await page.getByRole('button', { name: 'Next' }).tap();
		const zone = page.getByRole('combobox', { name: /Time zone/ });
		await zone.waitFor();
		expect(await zone.inputValue()).toBe('UTC'); // never blank on a UTC device
		expect(await page.getByTestId('tz-next').innerText()).toMatch(/02:00 \(UTC\)$/);

		await zone.fill('oslo');
		const options = page.getByRole('listbox', { name: 'Matching zones' }).getByRole('option');
		await expect
			.poll(() => options.allInnerTexts())
			.toEqual([expect.stringMatching(/^Europe\/Oslo \(UTC\+0[12]:00\)$/)]);
		expect(await zone.getAttribute('aria-expanded')).toBe('true');
		await screen('times-setup-search');
		await options.first().tap();
		expect(await zone.inputValue()).toBe('Europe/Oslo');
		expect(await zone.getAttribute('aria-expanded')).toBe('false');
		const hint = await page.getByTestId('tz-next').innerText();
		expect(hint).toContain('02:00 (Europe/Oslo)');
		expect(hint).toMatch(/0[01]:00 on this device \(UTC\)/);
		await screen('times-setup-chosen');

		// By keys: type, arrow to the first match, Enter.
		await zone.fill('new york');
		await zone.press('ArrowDown');
		await zone.press('ArrowUp');
		await zone.press('Enter');
		expect(await zone.inputValue()).toBe('America/New_York');
		// Something that is no zone goes back to the one chosen.
		await zone.fill('Atlantis');
		await page.getByText('No time zone matches').waitFor();
		await zone.blur();
		expect(await zone.inputValue()).toBe('America/New_York');
		expect(findings).toEqual([]);
	});
});
