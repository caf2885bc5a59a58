/**
 * Provisioning on a phone (Pixel 7, touch), as an owner reads it: the screen says what the edge
 * holds (read through the API in the same test).
 *
 * - Names, not ids: a run's operations name people, groups and systems; who started a run is the
 *   token's label; review rows show names whole.
 * - Provisioning as admins know it: a move between communities is a transfer with its notice; a
 *   removal says "restorable until" and "anonymized on", and an owner restores the person within
 *   retention; invitations and transfer notices are listed with their state.
 * - Layout: a one-row header, the list on the first screen and scrolled with the page (10,000 rows
 *   still virtual), a pair as a sheet with its changed fields first and identical ones folded.
 *
 * Each screen gets a screenshot in light and dark and an axe-core check.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { plannedRemoval, retention, type Reconciliation, type Snapshot } from '../../src/lib/core';
import type { LinkView, NoticeView, RemovedPerson, RunDetails, RunSummary } from '../../src/lib/api/types';
import { DEVICES, launchPersistentBrowser, type PersistentBrowser } from '../support/browser';
import { seriousViolations, shot, smallTargets } from '../support/pwa';
import { signIn, signedIn } from '../support/sign-in';
import { edgeApi, finishedRun } from '../support/edge-api';

const baseURL = inject('baseURL');
const token = inject('ownerToken');
const api = edgeApi(baseURL, token);
const ZONE = 'Europe/Oslo';

/** The people of the HR file (identifier, name, email, phone, communities). */
const PEOPLE = [
	['H1', 'Ingrid Solberg', '+47 40000001', 'Fjord Station [C-FJ]'],
	['H2', 'Magnus Lie', '+47 40000002', 'Fjord Station [C-FJ]'],
	['H3', 'Sofie Bakke', '+47 40000003', 'Fjord Station [C-FJ]'],
	['H4', 'Henrik Dahl', '+47 40000004', 'Harbour Station [C-HB]'],
	['H5', 'Nora Strand', '+47 40000005', 'Harbour Station [C-HB]'],
	['H6', 'Emil Hauge', '+47 40000006', 'Harbour Station [C-HB]'],
	['H7', 'Ella Moen', '+47 40000007', 'Harbour Station [C-HB]'],
	['H8', 'Jonas Berg', '+47 40000008', 'Fjord Station [C-FJ]'],
	['H9', 'Maja Lund', '+47 40000009', 'Fjord Station [C-FJ]'],
	['H10', 'Oskar Vik', '+47 40000010', 'Harbour Station [C-HB]']
] as const;
const email = (id: string) => `${id.toLowerCase()}@hr.example.org`;
const COLUMNS = { externalId: 'Id', displayName: 'Name', email: 'Email', phone: 'Phone', communities: 'Communities' };
const csvOf = (rows: readonly (readonly string[])[]) =>
	['Id,Name,Email,Phone,Communities', ...rows.map(([id, name, phone, c]) => `${id},${name},${email(id)},${phone},${c}`)]
		.join('\n')
		.concat('\n');

/** The second export: Sofie moves to Harbour Station, Magnus has a new phone, Oskar has left. */
const MOVER = PEOPLE[2];
const CHANGED = PEOPLE[1];
const LEAVER = PEOPLE[9];
const SECOND = PEOPLE.filter((p) => p !== LEAVER).map((p) =>
	p === MOVER ? [p[0], p[1], p[2], 'Harbour Station [C-HB]'] : p === CHANGED ? [p[0], p[1], '+47 49999999', p[3]] : p
);

describe('provisioning on a phone', () => {
	/** Searches the review for one person, and waits until the list shows them alone. */
	async function search(name: string) {
		await page.getByLabel('Search by name or id').fill(name);
		await expect.poll(() => page.getByTestId('row-count').innerText()).toBe('1 pair');
		await expect
			.poll(() => page.getByRole('list', { name: 'Pairs' }).getByRole('button').first().innerText())
			.toContain(name);
	}

	let browser: PersistentBrowser;
	let page: Page;
	let hr: string;
	let team: string;
	let linkId: string;
	let firstRun: RunSummary;
	const findings: string[] = [];

	async function screen(name: string) {
		await page.waitForTimeout(150);
		for (const scheme of ['light', 'dark'] as const) {
			await page.emulateMedia({ colorScheme: scheme });
			await shot(page, `phone-provisioning-${name}-${scheme}`, false);
			for (const v of await seriousViolations(page)) findings.push(`${name} [${scheme}]: ${v}`);
		}
		await page.emulateMedia({ colorScheme: 'light' });
		for (const t of await smallTargets(page)) findings.push(`${name}: small target ${t}`);
	}

	const link = () => api<LinkView>(`/links/${linkId}`);
	const targetSnapshot = () => api<Snapshot>(`/systems/${team}/snapshot`);

	beforeAll(async () => {
		hr = (await api<{ id: string }>('/systems', { body: { name: 'Fjord HR', connector: 'csv', region: 'eu' } })).id;
		team = (await api<{ id: string }>('/systems', { body: { name: 'Crew app', connector: 'sandbox', region: 'eu' } }))
			.id;
		await api(`/systems/${hr}/csv`, { method: 'PUT', body: { csv: csvOf(PEOPLE), columns: COLUMNS } });
		linkId = (
			await api<LinkView>('/links', {
				body: {
					name: 'Fjord HR → Crew',
					mode: 'provision',
					systems: { a: hr, b: team },
					match: { person: 'email', group: 'externalId' },
					schedule: { timeZone: ZONE, hour: 2, enabled: true }
				}
			})
		).config.id;
		await api(`/links/${linkId}/reconcile`, { method: 'POST' });
		await api(`/links/${linkId}/enable`, { method: 'POST' });
		firstRun = await finishedRun(
			api,
			linkId,
			(await api<RunSummary>(`/links/${linkId}/runs`, { body: { dryRun: false } })).id
		);
		expect(firstRun.status).toBe('done');

		({ browser, page } = await signedIn(baseURL, token));
	}, 180_000);
	afterAll(async () => {
		await browser?.close();
	});

	it('a run names its operations, its systems and who started it', async () => {
		await page.goto(`${baseURL}/links/${encodeURIComponent(linkId)}/runs/${encodeURIComponent(firstRun.id)}`);
		await page.getByRole('heading', { name: 'Operations' }).waitFor({ timeout: 30_000 });
		const details = await api<RunDetails>(`/links/${linkId}/runs/${firstRun.id}?offset=0&limit=200`);
		// Who: the token's label, as the edge recorded it.
		expect(details.startedBy.subject).toBe('local owner');
		expect(await page.getByTestId('started-by').innerText()).toBe('local owner');
		const texts = await page.getByTestId('op').allInnerTexts();
		expect(texts).toHaveLength(details.ops.length);
		const target = await targetSnapshot();
		for (const [id, name] of PEOPLE) {
			const created = target.people.find((p) => p.email === email(id))!;
			expect(texts.some((t) => t.includes(`Invite ${name} to Crew app`))).toBe(true);
			expect(texts.some((t) => t.includes(`Create ${name} in Crew app`))).toBe(true);
			// No operation is told by an id.
			for (const t of texts) expect(t).not.toContain(created.id);
		}
		expect(texts.some((t) => /Add to group Ingrid Solberg to Fjord Station in Crew app/.test(t))).toBe(true);
		const planned = await page.locator('dl.facts').innerText();
		expect(planned).toContain(`${details.counts.bySide.b} in Crew app`);
		expect(planned).not.toMatch(/side [AB]/);
		await screen('run');
	});

	it('the review: a one-row header, the list on the first screen scrolling with the page, names whole', async () => {
		await api(`/systems/${hr}/csv`, { method: 'PUT', body: { csv: csvOf(SECOND), columns: COLUMNS } });
		await api(`/links/${linkId}/reconcile`, { method: 'POST' });
		await page.goto(`${baseURL}/links/${encodeURIComponent(linkId)}`);
		await page.getByTestId('plan-source').waitFor({ timeout: 30_000 });
		const header = (await page.locator('header').boundingBox())!;
		expect(header.height).toBeLessThanOrEqual(60);
		const list = page.getByRole('list', { name: 'Pairs' });
		const firstRow = (await list.getByRole('listitem').first().boundingBox())!;
		expect(firstRow.y + firstRow.height).toBeLessThan(DEVICES.phone.viewport.height);
		// One scroll area: the list has none of its own.
		expect(await list.evaluate((el) => getComputedStyle(el).overflowY)).toBe('visible');
		// The counts line says what the edge's plan counts.
		const plan = await api<Reconciliation>(`/links/${linkId}/plan`);
		const line = await page.getByTestId('counts-line').innerText();
		const people = line.split(' · ').find((part) => part.startsWith('People: '));
		expect(people).toBe(
			`People: ${plan.counts.person['in-sync']} in sync, ${plan.counts.person.update} update, ${plan.counts.person.remove} remove`
		);
		// Every row's names fit: nothing is cut off.
		const cut = await list
			.locator('.names')
			.evaluateAll((els) => els.filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.textContent));
		expect(cut).toEqual([]);
		await screen('review');
	});

	it('a move between communities is a transfer with its notice', async () => {
		const plan = await api<Reconciliation>(`/links/${linkId}/plan`);
		const pair = plan.pairs.find((p) => p.kind === 'person' && p.a === MOVER[0])!;
		expect(pair).toMatchObject({ situation: 'update', note: 'transfer' });
		await search(MOVER[1]);
		const row = page.getByRole('list', { name: 'Pairs' }).getByRole('button').first();
		expect(await row.getByTestId('row-badge').innerText()).toBe('Transfer');
		expect(await row.innerText()).toContain(`${pair.transfer!.from.join(', ')} → ${pair.transfer!.to.join(', ')}`);
		await row.tap();
		const sheet = page.getByRole('dialog', { name: MOVER[1] });
		await sheet.waitFor();
		expect(await sheet.getByTestId('transfer').innerText()).toContain(
			`Moves from ${pair.transfer!.from[0]} to ${pair.transfer!.to[0]} in Crew app`
		);
		await screen('transfer');
		await page.keyboard.press('Escape');
		await sheet.waitFor({ state: 'detached' });
	});

	it("a pair's detail is a sheet: the changed field first, identical ones folded", async () => {
		await search(CHANGED[1]);
		await page.getByRole('list', { name: 'Pairs' }).getByRole('button').first().tap();
		const sheet = page.getByRole('dialog', { name: CHANGED[1] });
		await sheet.waitFor();
		const target = (await targetSnapshot()).people.find((p) => p.email === email(CHANGED[0]))!;
		// The first row of the first table is the phone, the one field that differs.
		const first = sheet.locator('table').first().locator('tbody tr').first();
		expect(await first.getAttribute('data-field')).toBe('phone');
		expect(await first.locator('td').allInnerTexts()).toEqual(['+47 49999999', target.phone]);
		const folded = sheet.getByTestId('identical-fields');
		expect(await folded.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
		expect(await folded.locator('summary').innerText()).toMatch(/^\d+ identical fields$/);
		// The sheet scrolls on its own; the page behind it does not.
		expect(await page.evaluate(() => getComputedStyle(document.documentElement).overflow)).toBe('hidden');
		await screen('sheet');
		await folded.locator('summary').tap();
		expect(await folded.locator('tbody tr').count()).toBeGreaterThan(1);
		await sheet.getByRole('button', { name: 'Close the pair' }).tap();
		await sheet.waitFor({ state: 'detached' });
	});

	it('a removal says until when the person can be restored and when they are anonymized', async () => {
		const view = await link();
		await search(LEAVER[1]);
		const row = page.getByRole('list', { name: 'Pairs' }).getByRole('button').first();
		expect(await row.getByTestId('row-badge').innerText()).toBe('Remove');
		await row.tap();
		const sheet = page.getByRole('dialog', { name: LEAVER[1] });
		const removal = sheet.getByTestId('removal');
		await removal.waitFor();
		// The next nightly run removes; retention is counted from then, in the link's zone.
		const at = Date.parse(view.status.nextRunAt!);
		const dates = retention(plannedRemoval(at, view.config.retentionDays, ZONE), at, view.config.schedule)!;
		const times = await removal.locator('time').evaluateAll((els) => els.map((e) => e.getAttribute('datetime')));
		expect(times).toEqual([dates.restorableUntil, dates.anonymizedOn]);
		expect(await removal.innerText()).toContain(`Times in ${ZONE}`);
		await screen('removal');
		await page.keyboard.press('Escape');
	});

	it("after the run: the removed person with the edge's dates, restored by the owner; notices with their state", async () => {
		const second = await finishedRun(
			api,
			linkId,
			(await api<RunSummary>(`/links/${linkId}/runs`, { body: { dryRun: false } })).id
		);
		expect(second.status).toBe('done');
		const removed = await api<RemovedPerson[]>(`/links/${linkId}/removed`);
		expect(removed).toEqual([expect.objectContaining({ name: LEAVER[1], restorable: true, state: 'removed' })]);
		const notices = await api<NoticeView[]>(`/links/${linkId}/notices`);

		await page.goto(`${baseURL}/links/${encodeURIComponent(linkId)}`);
		await page.getByRole('link', { name: 'People' }).tap();
		await page.getByRole('heading', { name: 'People and notices', level: 1 }).waitFor();
		const person = page.getByTestId('removed-person');
		await person.waitFor();
		expect(await person.getByRole('heading').innerText()).toBe(LEAVER[1]);
		expect(await person.getByTestId('restorable-until').locator('time').getAttribute('datetime')).toBe(
			removed[0].restorableUntil
		);
		expect(await person.getByTestId('anonymized-on').locator('time').getAttribute('datetime')).toBe(
			removed[0].anonymizedOn
		);
		const shownDate = await person
			.getByTestId('restorable-until')
			.innerText()
			.then((t) => t.trim());
		expect(shownDate).toBe(
			await page.evaluate(
				([iso, zone]) =>
					new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short', timeZone: zone }),
				[removed[0].restorableUntil!, ZONE] as const
			)
		);
		// Invitations and the transfer notice, each with the edge's state.
		const items = page.getByTestId('notice');
		await expect.poll(() => items.count()).toBe(notices.length);
		for (const n of notices) {
			const item = page.locator(`[data-testid="notice"][data-key="${n.key}"]`);
			expect(await item.getAttribute('data-state')).toBe(n.state);
			expect(await item.innerText()).toContain(n.name);
		}
		const transfer = notices.find((n) => n.type === 'notify-transfer')!;
		expect(transfer).toMatchObject({ name: MOVER[1], state: 'queued' });
		expect(await page.locator(`[data-testid="notice"][data-key="${transfer.key}"]`).innerText()).toContain(
			`${transfer.from!.join(', ')} → ${transfer.to!.join(', ')}`
		);
		await screen('people');

		// Restore, confirmed: a run of one operation, and the person is active again in the target.
		await person.getByRole('button', { name: 'Restore' }).tap();
		await screen('restore-confirm');
		await person.getByRole('button', { name: 'Yes, restore' }).tap();
		await expect
			.poll(() => page.getByTestId('run-status').getAttribute('data-status'), { timeout: 60_000 })
			.toBe('done');
		await page.getByRole('heading', { name: 'Operations' }).waitFor();
		expect(await page.getByTestId('op').allInnerTexts()).toEqual([
			expect.stringContaining(`Restore ${LEAVER[1]} in Crew app`)
		]);
		const back = (await targetSnapshot()).people.find((p) => p.email === email(LEAVER[0]))!;
		expect(back.active).toBe(true);
		expect(await api<RemovedPerson[]>(`/links/${linkId}/removed`)).toEqual([]);
		await page.goto(`${baseURL}/links/${encodeURIComponent(linkId)}/people`);
		await page.getByText('Nobody was removed by sync.').waitFor();
		expect(findings).toEqual([]);
	});
});

describe('10,000 rows on a phone', () => {
	it('scroll with the page, and only the rows in view exist', async () => {
		const n = 10_000;
		const rows = Array.from({ length: n }, (_, i) => [
			`T${i}`,
			`Person ${String(i).padStart(5, '0')}`,
			'',
			i % 2 ? 'Fjord Station [C-FJ]' : 'Harbour Station [C-HB]'
		]);
		const big = (await api<{ id: string }>('/systems', { body: { name: 'Big HR', connector: 'csv', region: 'eu' } }))
			.id;
		const empty = (
			await api<{ id: string }>('/systems', { body: { name: 'Big crew', connector: 'sandbox', region: 'eu' } })
		).id;
		await api(`/systems/${big}/csv`, { method: 'PUT', body: { csv: csvOf(rows), columns: COLUMNS } });
		const id = (
			await api<LinkView>('/links', {
				body: { name: 'Big HR → Big crew', mode: 'provision', systems: { a: big, b: empty } }
			})
		).config.id;
		const plan = await api<Reconciliation>(`/links/${id}/reconcile`, { method: 'POST' });
		const total = plan.pairs.length;
		expect(total).toBeGreaterThanOrEqual(n);

		const browser = await launchPersistentBrowser(DEVICES.phone);
		try {
			const page = browser.context.pages()[0] ?? (await browser.context.newPage());
			await signIn(page, baseURL, token);
			await page.goto(`${baseURL}/links/${encodeURIComponent(id)}`);
			await page.getByTestId('plan-source').waitFor({ timeout: 60_000 });
			expect(await page.getByTestId('row-count').innerText()).toBe(`${total.toLocaleString('en-US')} pairs`);
			const list = page.getByRole('list', { name: 'Pairs' });
			// To the end of the page: the last rows are there, and only a screenful of rows exists.
			await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
			await expect.poll(() => list.getByText('Person 09999').count(), { timeout: 10_000 }).toBe(1);
			expect(await list.getByRole('listitem').count()).toBeLessThan(60);
			await shot(page, 'phone-provisioning-10k-end-light', false);
			// Half-way by the page's own scroll.
			await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight / 2));
			await expect.poll(() => list.getByText(/Person 04\d{3}/).count(), { timeout: 10_000 }).toBeGreaterThan(0);
			expect(await list.getByRole('listitem').count()).toBeLessThan(60);
		} finally {
			await browser.close();
		}
	}, 240_000);
});
