/**
 * A run's operations page by page (src/lib/components/RunOps.svelte): the first 200 and "Show
 * more" with the count the edge holds, each tap adding exactly the next page; a page that cannot
 * be loaded (the link was deleted meanwhile) says why beside the button and keeps what is shown.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { LinkView, RunDetails, RunSummary } from '../../src/lib/api/types';
import { DEVICES, launchPersistentBrowser, type PersistentBrowser } from '../support/browser';
import { signIn } from '../support/sign-in';
import { edgeApi, finishedRun } from '../support/edge-api';

const baseURL = inject('baseURL');
const token = inject('ownerToken');
const api = edgeApi(baseURL, token);
const PEOPLE = 260;

describe("a run's operations, page by page", () => {
	let browser: PersistentBrowser;
	let page: Page;
	let linkId: string;
	let run: RunSummary;

	beforeAll(async () => {
		const hr = (await api<{ id: string }>('/systems', { body: { name: 'Paged HR', connector: 'csv', region: 'eu' } }))
			.id;
		const crew = (
			await api<{ id: string }>('/systems', { body: { name: 'Paged crew', connector: 'sandbox', region: 'eu' } })
		).id;
		const rows = Array.from({ length: PEOPLE }, (_, i) => `P${i},Paged Person ${i},p${i}@paged.example.org`);
		await api(`/systems/${hr}/csv`, {
			method: 'PUT',
			body: {
				csv: ['Id,Name,Email', ...rows].join('\n') + '\n',
				columns: { externalId: 'Id', displayName: 'Name', email: 'Email' }
			}
		});
		linkId = (
			await api<LinkView>('/links', {
				body: { name: 'Paged HR → crew', mode: 'provision', systems: { a: hr, b: crew } }
			})
		).config.id;
		await api(`/links/${linkId}/enable`, { method: 'POST' });
		const started = await api<RunSummary>(`/links/${linkId}/runs`, { body: { dryRun: false } });
		run = await finishedRun(api, linkId, started.id);
		browser = await launchPersistentBrowser(DEVICES.phone);
		page = browser.context.pages()[0] ?? (await browser.context.newPage());
		await signIn(page, baseURL, token);
	}, 180_000);

	afterAll(async () => {
		await browser?.close();
	});

	it('shows 200, then the next page on each tap, with the total the edge holds', async () => {
		const total = run.tally.total;
		expect(total).toBeGreaterThan(400);
		await page.goto(`${baseURL}/links/${encodeURIComponent(linkId)}/runs/${encodeURIComponent(run.id)}`);
		const section = page.getByRole('region', { name: 'Operations' });
		const items = section.getByRole('list').first().locator('> li');
		const more = section.getByRole('button', { name: /^Show more/ });
		await expect.poll(() => more.innerText(), { timeout: 30_000 }).toBe(`Show more (200 of ${total})`);
		expect(await items.count()).toBe(200);
		await more.tap();
		await expect.poll(() => items.count()).toBe(400);
		expect(await more.innerText()).toBe(`Show more (400 of ${total})`);
		// As many as the edge has in that journal's first 400.
		const edge = await api<RunDetails>(`/links/${linkId}/runs/${run.id}?offset=200&limit=200`);
		expect(edge.ops).toHaveLength(200);
	});

	it('says why a page could not be loaded, and keeps what it shows', async () => {
		const section = page.getByRole('region', { name: 'Operations' });
		const items = section.getByRole('list').first().locator('> li');
		await api(`/links/${linkId}`, { method: 'DELETE' });
		await section.getByRole('button', { name: /^Show more/ }).tap();
		await expect.poll(() => section.getByRole('alert').count()).toBe(1);
		expect(await section.getByRole('alert').innerText()).toMatch(/not found|no link/i);
		expect(await items.count()).toBe(400);
	});
});
