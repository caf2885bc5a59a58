/**
 * A CSV re-upload on a phone (Pixel 7, touch) starts from the column map the system kept from its
 * last file, and points out what changed: a new column, and a mapped column the file lacks. What
 * the form fills in and says is checked against the edge's saved map; after the upload, the edge
 * keeps the new header and the card shows the counts the edge holds.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { type PersistentBrowser } from '../support/browser';
import { seriousViolations, shot } from '../support/pwa';
import { signedIn } from '../support/sign-in';

const baseURL = inject('baseURL');
const token = inject('ownerToken');

const FIRST = [
	'Employee,Name,Mail,Grade,Team',
	'E1,Ada Berg,ada@example.org,A,North [T-N]',
	'E2,Bo Dahl,bo@example.org,B,North [T-N]'
].join('\n');
const MAP = {
	externalId: 'Employee',
	displayName: 'Name',
	email: 'Mail',
	communities: 'Team',
	custom: { grade: 'Grade' }
};
// Grade is gone, Cost center is new; the other columns keep their names (one in another case).
const SECOND = [
	'Employee,Name,mail,Team,Cost center',
	'E1,Ada Berg,ada@example.org,North [T-N],C1',
	'E2,Bo Dahl,bo@example.org,North [T-N],C2',
	'E3,Cy Eng,cy@example.org,South [T-S],C1'
].join('\n');

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
	const res = await fetch(`${baseURL}/api${path}`, {
		method,
		headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
		body: body ? JSON.stringify(body) : undefined
	});
	expect(res.status, await res.clone().text()).toBeLessThan(300);
	return res.json() as Promise<T>;
}

describe('a CSV re-upload keeps its column map, on a phone', () => {
	let browser: PersistentBrowser;
	let page: Page;
	let systemId: string;
	const name = `Payroll export ${Date.now()}`;
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

	beforeAll(async () => {
		systemId = (await call<{ id: string }>('POST', '/systems', { name, connector: 'csv', region: 'eu' })).id;
		await call('PUT', `/systems/${systemId}/csv`, { csv: FIRST, columns: MAP });
		({ browser, page } = await signedIn(baseURL, token));
	});
	afterAll(async () => {
		await browser?.close();
	});

	it('fills in the saved map and points out the new and the missing column', async () => {
		const saved = await call<{ columns: typeof MAP; header: string[] }>('GET', `/systems/${systemId}/csv/columns`);
		expect(saved).toEqual({ columns: MAP, header: ['Employee', 'Name', 'Mail', 'Grade', 'Team'] });

		await page.getByRole('link', { name: 'Systems' }).tap();
		const card = page.getByRole('article', { name });
		await card.getByRole('button', { name: 'Upload a new file' }).tap();
		await card
			.getByLabel('CSV file')
			.setInputFiles({ name: 'payroll.csv', mimeType: 'text/csv', buffer: Buffer.from(SECOND) });
		const note = card.getByTestId('column-changes');
		await note.waitFor();

		// The saved map, under the new file's spelling; nothing guessed over it.
		expect(await card.getByLabel(/^Identifier/).inputValue()).toBe(saved.columns.externalId);
		expect(await card.getByLabel(/^Name/).inputValue()).toBe(saved.columns.displayName);
		expect(await card.getByLabel(/^Email/).inputValue()).toBe('mail');
		expect(await card.getByLabel(/^Communities/).inputValue()).toBe(saved.columns.communities);
		// The custom field's column is gone: no row is left for it.
		expect(await card.getByLabel('Field name').count()).toBe(0);

		const added = await note.locator('[data-change="added"]').allInnerTexts();
		const missing = await note.locator('[data-change="missing"]').allInnerTexts();
		const newColumns = SECOND.split('\n')[0]
			.split(',')
			.filter((c) => !saved.header.some((h) => h.toLowerCase() === c.toLowerCase()));
		expect(newColumns).toEqual(['Cost center']);
		expect(added).toEqual(['Cost center is new: not mapped yet. Map it below if it should travel.']);
		expect(missing).toEqual(['Grade is missing: custom field grade is left out of this upload.']);
		await screen('csv-reupload-changes');

		await card.getByRole('button', { name: 'Upload', exact: true }).tap();
		await expect.poll(() => card.getByTestId('csv-accepted').innerText()).toContain('3 people');
	});

	it('the edge keeps what the screen showed: the new header, the map without the missing column, the counts', async () => {
		const saved = await call<{ columns: Record<string, unknown>; header: string[] }>(
			'GET',
			`/systems/${systemId}/csv/columns`
		);
		expect(saved.header).toEqual(['Employee', 'Name', 'mail', 'Team', 'Cost center']);
		expect(saved.columns).toEqual({ externalId: 'Employee', displayName: 'Name', email: 'mail', communities: 'Team' });
		const system = await call<{ lastSnapshot: { people: number; groups: number; memberships: number } }>(
			'GET',
			`/systems/${systemId}`
		);
		const accepted = await page.getByRole('article', { name }).getByTestId('csv-accepted').innerText();
		const { people, groups, memberships } = system.lastSnapshot;
		expect(accepted).toContain(`${people} people · ${groups} groups · ${memberships} memberships`);
		expect([people, groups, memberships]).toEqual([3, 2, 3]);
	});

	it('no serious axe violation on these screens', () => {
		expect(findings).toEqual([]);
	});
});
