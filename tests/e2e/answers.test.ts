/**
 * Answers on a phone (Pixel 7), offline and back: each answer shows on its pair at once and says
 * what it does and to whom; back online the outbox is sent, the screen refreshes by itself and
 * says what the edge holds: the same number requiring action, each answer applied or stale as the
 * edge has it. An owner offline is told approving needs a connection, never that it needs an owner.
 *
 * Its own two directories (new sandboxes filled over SCIM), synced once so a baseline exists, then
 * changed on both sides: Ada removed in South and changed in North, Bo removed in North and changed
 * in South (both answered "take-a", the "take-a twice": keep one, remove the other), Cy's
 * phone changed differently on each side.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { type PersistentBrowser } from '../support/browser';
import { seriousViolations, shot, smallTargets } from '../support/pwa';
import { createSandbox, edge, runToEnd, type Sandbox } from '../support/sandboxes';
import { signedIn } from '../support/sign-in';

const baseURL = inject('baseURL');
const token = inject('ownerToken');
const api = edge(baseURL, token);

interface Conflict {
	id: string;
	reason: string;
	records: { side: 'a' | 'b'; id: string }[];
}
interface Plan {
	requiresAction: number;
	conflicts: Conflict[];
	applied: string[];
	stale: { resolution: { conflictId: string } }[];
}

const PEOPLE = [
	'Ada Berg',
	'Bo Dahl',
	'Cy Eng',
	'Dee Fox',
	'Eli Gul',
	'Fay Holm',
	'Gus Ito',
	'Hal Juul',
	'Ida Kim',
	'Jon Lie'
];
const email = (name: string) => `${name.split(' ')[0].toLowerCase()}@example.org`;

describe('answers show on their pairs, offline and back', () => {
	let browser: PersistentBrowser;
	let page: Page;
	let linkId: string;
	let north: Sandbox;
	let south: Sandbox;
	const ids: Record<string, { a: string; b: string }> = {};
	const findings: string[] = [];

	const path = () => `/links/${encodeURIComponent(linkId)}`;
	const edgePlan = () => api.call<Plan>('GET', `${path()}/plan`);
	const edgeStatus = async () =>
		(await api.call<{ status: { requiresAction: number } }>('GET', path())).status.requiresAction;
	const edgeAnswers = async () =>
		(await api.call<{ conflictId: string }[]>('GET', `${path()}/resolutions`)).map((r) => r.conflictId);

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

	/** What the screen says requires action (0 when the banner is gone). */
	async function shownRequiringAction(): Promise<number> {
		const banner = page.getByTestId('requires-action');
		if ((await banner.count()) === 0) return 0;
		return Number(/(\d+) requiring action/.exec(await banner.innerText())?.[1] ?? NaN);
	}

	/** Searches the list for one person and waits until it shows just that row (the search is debounced). */
	async function only(name: string) {
		await page.getByLabel('Search by name or id').fill(name);
		await expect.poll(() => page.getByTestId('row-count').innerText()).toMatch(/^1 pair$/);
		const rows = page.getByRole('list', { name: 'Pairs' }).getByRole('button');
		await expect.poll(() => rows.allInnerTexts()).toEqual([expect.stringContaining(name)]);
		return rows.first();
	}

	/** Opens a person's pair from the list (searching by name). */
	async function open(name: string) {
		await (await only(name)).tap();
		const detail = page.locator('article.detail');
		await detail
			.getByRole('heading', { name, level: 2 })
			.waitFor()
			.catch(async (e) => {
				await shot(page, `phone-answers-open-${name.replace(' ', '-')}-failed`);
				throw e;
			});
		return detail;
	}
	/**
	 * Closes the sheet as the back gesture does (Escape). A tap on Close is followed, in this
	 * emulation, by a second click landing on the row under it, which reopens a pair.
	 */
	async function close() {
		await page.keyboard.press('Escape');
		await page.locator('article.detail').waitFor({ state: 'detached' });
		await page.getByLabel('Search by name or id').fill('');
	}
	/** The answer state a person's row shows. */
	async function rowState(name: string): Promise<string | null> {
		const row = (await only(name)).getByTestId('row-answer');
		return (await row.count()) ? row.getAttribute('data-state') : null;
	}

	beforeAll(async () => {
		north = await createSandbox(api, 'North roster');
		south = await createSandbox(api, 'South roster');
		for (const [i, name] of PEOPLE.entries()) {
			const p = { userName: email(name), displayName: name, email: email(name), phone: `+47 400 00 ${100 + i}` };
			ids[name] = { a: await north.add(p), b: await south.add(p) };
		}
		const link = await api.call<{ config: { id: string } }>(
			'POST',
			'/links',
			{
				name: 'North ⇄ South',
				mode: 'two-way',
				systems: { a: north.id, b: south.id },
				kinds: ['person'],
				match: { person: 'email', group: 'externalId' },
				// Any removal waits for an owner: the answer "remove" stages one.
				limits: {
					person: { count: 0, percent: 20 },
					group: { count: 500, percent: 20 },
					membership: { count: 500, percent: 20 }
				}
			},
			201
		);
		linkId = link.config.id;
		expect((await api.call<Plan>('POST', `${path()}/reconcile`)).requiresAction).toBe(0);
		await api.call('POST', `${path()}/enable`);
		expect(await runToEnd(api, linkId)).toBe('done');
		// Both sides move after the run.
		await north.setPhone(ids['Ada Berg'].a, '+47 411 11 111');
		await south.remove(ids['Ada Berg'].b);
		await north.remove(ids['Bo Dahl'].a);
		await south.setPhone(ids['Bo Dahl'].b, '+47 422 22 222');
		await north.setPhone(ids['Cy Eng'].a, '+47 433 33 001');
		await south.setPhone(ids['Cy Eng'].b, '+47 433 33 002');
		const plan = await api.call<Plan>('POST', `${path()}/reconcile`);
		expect(plan.conflicts.map((c) => c.reason).sort()).toEqual([
			'both-changed',
			'changed-vs-removed',
			'changed-vs-removed'
		]);

		({ browser, page } = await signedIn(baseURL, token));
		await page.goto(`${baseURL}${path()}`);
		await page.getByTestId('requires-action').waitFor({ timeout: 30_000 });
	});
	afterAll(async () => {
		await browser?.close();
	});

	it('online, the review says what the edge holds', async () => {
		expect(await shownRequiringAction()).toBe(await edgeStatus());
		expect(await shownRequiringAction()).toBe(3);
	});

	it('offline: each answer shows on its pair at once, and the outbox says what it does and to whom', async () => {
		await browser.context.setOffline(true);
		await expect.poll(() => page.getByRole('status').first().innerText()).toContain('Offline');

		let detail = await open('Ada Berg');
		await detail.getByRole('button', { name: 'Keep it (create again in South roster)' }).tap();
		await expect.poll(() => page.getByRole('status').filter({ hasText: 'Saved on this device' }).count()).toBe(1);
		// The pair stays open and shows the answer, though it is no longer a conflict.
		await expect.poll(() => detail.getByTestId('pair-answer').getAttribute('data-state')).toBe('waiting');
		expect(await detail.getByTestId('answer-words').innerText()).toBe('Keep Ada Berg: created again in South roster');
		expect(await detail.locator('.badge').first().innerText()).not.toBe('Requiring action');
		await screen('answers-offline-pair');
		await close();

		detail = await open('Bo Dahl');
		await detail.getByRole('button', { name: 'Remove it from South roster too' }).tap();
		await expect.poll(() => detail.getByTestId('pair-answer').getAttribute('data-state')).toBe('waiting');
		await close();

		detail = await open('Cy Eng');
		await detail.getByRole('button', { name: 'Take North roster' }).tap();
		await expect.poll(() => detail.getByTestId('pair-answer').getAttribute('data-state')).toBe('waiting');
		expect(await detail.getByTestId('answer-words').innerText()).toBe("Cy Eng: use North roster's values");
		await close();

		// Reopened, each pair still shows its answer; the list says it on each row.
		for (const name of ['Ada Berg', 'Bo Dahl', 'Cy Eng']) expect(await rowState(name)).toBe('waiting');
		expect(await rowState('Dee Fox')).toBeNull();
		detail = await open('Ada Berg');
		expect(await detail.getByTestId('answer-state').innerText()).toBe('Waiting to be sent');
		await close();

		expect(await page.getByTestId('outbox-answer').allInnerTexts()).toEqual(
			expect.arrayContaining([
				'Keep Ada Berg: created again in South roster',
				'Remove Bo Dahl from South roster too',
				"Cy Eng: use North roster's values"
			])
		);
		expect(await page.getByTestId('outbox-list').innerText()).not.toMatch(/take-a|take-b/);
		await page.getByTestId('outbox-list').scrollIntoViewIfNeeded();
		await screen('answers-offline-outbox');
	});

	it('offline, an owner is told approving needs a connection, not that it needs an owner', async () => {
		// "Remove Bo" stages his removal (the link's limit is 0): the preview shows it for an owner.
		await page.getByLabel('Situation').selectOption('conflict');
		await page
			.getByRole('list', { name: 'Pairs' })
			.getByRole('button', { name: /removals staged/ })
			.tap();
		const detail = page.locator('article.detail');
		await detail.getByTestId('approve-offline').waitFor();
		expect(await detail.innerText()).not.toContain('Only an owner');
		expect(await detail.getByRole('button', { name: 'Approve these removals' }).isDisabled()).toBe(true);
		await screen('answers-offline-owner');
		await close();
		await page.getByLabel('Situation').selectOption('all');
	});

	it('back online: the outbox is sent, the screen refreshes itself and matches the edge, answer by answer', async () => {
		// Meanwhile Cy changes again in North: the answer made offline is stale at the edge.
		await north.setPhone(ids['Cy Eng'].a, '+47 433 33 003');
		await browser.context.setOffline(false);
		await expect.poll(() => page.getByTestId('outbox-count').count(), { timeout: 20_000 }).toBe(0);
		await expect
			.poll(() => page.getByTestId('plan-source').innerText(), { timeout: 30_000 })
			.toContain('computed by the edge');
		expect(await page.getByRole('status').first().innerText()).not.toContain('Offline');
		expect(await page.locator('main').innerText()).not.toContain('Offline');

		const plan = await edgePlan();
		const held = await edgeAnswers();
		await expect.poll(shownRequiringAction, { timeout: 15_000 }).toBe(await edgeStatus());
		expect(await shownRequiringAction()).toBe(plan.requiresAction);
		// Ada's and Bo's answers are held and applied by the edge; Cy's came back stale (not held),
		// so Cy's conflict stands, with the removal Bo's answer staged.
		expect(plan.conflicts.map((c) => c.reason).sort()).toEqual(['both-changed', 'threshold']);
		expect(held).toHaveLength(2);
		expect([...plan.applied].sort()).toEqual([...held].sort());
		expect(await rowState('Ada Berg')).toBe('applied');
		expect(await rowState('Bo Dahl')).toBe('applied');
		expect(await rowState('Cy Eng')).toBe('stale');
		const detail = await open('Cy Eng');
		expect(await detail.getByTestId('answer-state').innerText()).toBe('Stale');
		expect(await page.getByTestId('outbox-list').count()).toBe(0);
		await screen('answers-online-refreshed');
		await close();
	});

	it('online, a new answer shows on its pair at once and ends applied, as the edge has it', async () => {
		const detail = await open('Cy Eng');
		await detail.getByRole('button', { name: 'Take South roster' }).tap();
		await expect
			.poll(() => detail.getByTestId('pair-answer').getAttribute('data-state'), { timeout: 30_000 })
			.toBe('applied');
		const plan = await edgePlan();
		const cy = (await edgeAnswers()).filter((id) => id.startsWith('both-changed:'));
		expect(cy).toHaveLength(1);
		expect(plan.applied).toContain(cy[0]);
		expect(await detail.getByTestId('answer-words').innerText()).toBe("Cy Eng: use South roster's values");
		await close();
		await expect.poll(shownRequiringAction).toBe(await edgeStatus());
	});

	it('the owner approves the staged removal online; nothing requires action here or at the edge', async () => {
		await page.getByLabel('Situation').selectOption('conflict');
		await page
			.getByRole('list', { name: 'Pairs' })
			.getByRole('button', { name: /removals staged/ })
			.tap();
		await page.getByRole('button', { name: 'Approve these removals' }).tap();
		// What approving does is shown first (ConfirmSheet; tests/e2e/confirm.test.ts checks its counts).
		await page
			.getByRole('dialog', { name: /^Approve / })
			.getByRole('button', { name: 'Approve removals' })
			.tap();
		await expect.poll(shownRequiringAction, { timeout: 30_000 }).toBe(0);
		expect(await edgeStatus()).toBe(0);
		await screen('answers-all-answered');
		expect(findings).toEqual([]);
	});
});
