/**
 * Nothing is written before an owner has seen what will happen, on a phone (Pixel 7, touch):
 * an export that suddenly grew stages its creations for an owner; approving them, starting a run
 * and undoing it each open a sheet with what the edge says will be done (counts per operation
 * type, the first operations by name, what cannot be reversed), and the counts on the sheet are
 * the edge's. Screenshots in light and dark, axe in both. Stands alone: its own CSV export and an
 * empty sandbox directory as the target.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Page, Response } from 'playwright-core';
import type { LinkView, RunPreview, RunSummary, StagedDeletes, SystemView, UndoPreview } from '../../src/lib/api/types';
import { type PersistentBrowser } from '../support/browser';
import { seriousViolations, shot, smallTargets } from '../support/pwa';
import { signedIn } from '../support/sign-in';
import { edgeApi, finishedRun } from '../support/edge-api';

const baseURL = inject('baseURL');
const token = inject('ownerToken');
const api = edgeApi(baseURL, token);

const COLUMNS = {
	externalId: 'Employee ID',
	displayName: 'Name',
	givenName: 'First name',
	familyName: 'Last name',
	email: 'Email',
	communities: 'Communities'
};
const HEADER = 'Employee ID,Name,First name,Last name,Email,Communities';
const FIRST = ['Ada Berg', 'Bo Dahl', 'Cy Eng', 'Di Fox', 'Ed Gul', 'Fay Holm'];
const NEWCOMERS = [
	'Gus Ito',
	'Hal Juul',
	'Ida Kim',
	'Jon Lie',
	'Kai Moe',
	'Liv Nes',
	'Max Ode',
	'Nia Pal',
	'Ola Qvist',
	'Pia Ruud'
];
const csvOf = (names: string[]) =>
	[
		HEADER,
		...names.map((name, i) => {
			const [given, family] = name.split(' ');
			return `E${i + 1},${name},${given},${family},${given.toLowerCase()}.${family.toLowerCase()}@example.org,${i % 2 ? 'North [C-N]' : 'South [C-S]'}`;
		})
	].join('\n');

/** The counts per operation type a sheet shows. */
async function sheetCounts(sheet: ReturnType<Page['getByRole']>): Promise<Record<string, number>> {
	const out: Record<string, number> = {};
	for (const row of await sheet.getByTestId('sheet-count').all())
		out[(await row.getAttribute('data-type'))!] = Number(await row.locator('strong').innerText());
	return out;
}

async function sheetIrreversible(sheet: ReturnType<Page['getByRole']>): Promise<Record<string, number>> {
	const out: Record<string, number> = {};
	if ((await sheet.getByTestId('sheet-irreversible').count()) === 0) return out;
	for (const row of await sheet.getByTestId('sheet-irreversible').locator('li').all())
		out[(await row.getAttribute('data-type'))!] = Number(await row.getAttribute('data-count'));
	return out;
}

const nonZero = (counts: Record<string, number | undefined>) =>
	Object.fromEntries(Object.entries(counts).filter(([, n]) => (n ?? 0) > 0));

describe('confirm before writing, on a phone', () => {
	let browser: PersistentBrowser;
	let page: Page;
	let linkId: string;
	let source: SystemView;
	let target: SystemView;
	const findings: string[] = [];

	async function screen(name: string) {
		await page.waitForTimeout(150);
		for (const scheme of ['light', 'dark'] as const) {
			await page.emulateMedia({ colorScheme: scheme });
			await shot(page, `phone-${name}-${scheme}`, false);
			for (const v of await seriousViolations(page)) findings.push(`${name} [${scheme}]: ${v}`);
		}
		await page.emulateMedia({ colorScheme: 'light' });
		for (const t of await smallTargets(page)) findings.push(`${name}: small target ${t}`);
	}

	const activeOnTarget = async () =>
		(await api<{ people: { displayName: string; active: boolean }[] }>(`/systems/${target.id}/snapshot`)).people
			.filter((p) => p.active)
			.map((p) => p.displayName)
			.sort();

	beforeAll(async () => {
		source = await api<SystemView>('/systems', { body: { name: 'Staff export', connector: 'csv', region: 'eu' } });
		target = await api<SystemView>('/systems', { body: { name: 'Crew app', connector: 'sandbox', region: 'eu' } });
		await api(`/systems/${source.id}/csv`, { method: 'PUT', body: { csv: csvOf(FIRST), columns: COLUMNS } });
		const link = await api<LinkView>('/links', {
			body: {
				name: 'Staff → Crew (confirm)',
				mode: 'provision',
				systems: { a: source.id, b: target.id },
				match: { person: 'externalId', group: 'externalId' },
				creationLimits: { person: { count: 3, percent: 100 }, group: { count: 500, percent: 100 } },
				schedule: { timeZone: 'UTC', hour: 2, enabled: false }
			}
		});
		linkId = link.config.id;
		await api(`/links/${linkId}/reconcile`, { method: 'POST' });
		await api(`/links/${linkId}/enable`, { method: 'POST' });
		// The first sync is not limited: the owner reviewed it when setting the link up.
		const first = await api<RunSummary>(`/links/${linkId}/runs`, { body: { dryRun: false } });
		expect(await finishedRun(api, linkId, first.id)).toMatchObject({ status: 'done', tally: { staged: 0 } });
		expect(await activeOnTarget()).toEqual([...FIRST].sort());
		// The next export is almost three times larger.
		await api(`/systems/${source.id}/csv`, {
			method: 'PUT',
			body: { csv: csvOf([...FIRST, ...NEWCOMERS]), columns: COLUMNS }
		});
		await api(`/links/${linkId}/reconcile`, { method: 'POST' });

		({ browser, page } = await signedIn(baseURL, token));
	});
	afterAll(async () => {
		await browser?.close();
	});

	it('the review shows the staged creations as a conflict; approving there shows the sheet first', async () => {
		await page.goto(`${baseURL}/links/${encodeURIComponent(linkId)}`);
		await page.getByTestId('plan-source').waitFor({ timeout: 30_000 });
		await page.getByLabel('Situation').selectOption('conflict');
		await page
			.getByRole('list', { name: 'Pairs' })
			.getByRole('button', { name: /10 creations staged/ })
			.tap();
		const detail = page.locator('article.detail');
		await detail.waitFor();
		expect(await detail.innerText()).toContain('Sync would create 10 new people in Crew app, where the link has 6');
		await detail.getByRole('button', { name: 'Approve these creations…' }).tap();
		const sheet = page.getByRole('dialog', { name: 'Approve 10 new people in Crew app?' });
		await sheet.getByTestId('sheet-total').waitFor();
		expect(await sheetCounts(sheet)).toEqual({ 'create-person': 10 });
		expect(await sheetIrreversible(sheet)).toEqual({ invite: 10 });
		await screen('review-approve-sheet');
		// Cancelled, nothing is decided.
		await sheet.getByRole('button', { name: 'Cancel' }).tap();
		await expect.poll(() => sheet.count()).toBe(0);
		expect((await api<StagedDeletes[]>(`/links/${linkId}/staged`))[0].decision).toBeUndefined();
	});

	it('the creations above the limit wait for an owner; approving shows what follows, then approves', async () => {
		await page.goto(`${baseURL}/links/${encodeURIComponent(linkId)}/runs`);
		const item = page.getByTestId('staged-item').filter({ hasText: 'new people' });
		await item.waitFor({ timeout: 30_000 });
		const [staged] = await api<StagedDeletes[]>(`/links/${linkId}/staged`);
		expect(staged).toMatchObject({ action: 'create', kind: 'person', count: 10, total: 6 });
		expect(await item.innerText()).toContain('10 new people would be created in Crew app (it has 6 from this link)');
		await screen('staged-creations');

		await item.getByRole('button', { name: 'Approve…' }).tap();
		const sheet = page.getByRole('dialog', { name: 'Approve 10 new people in Crew app?' });
		await sheet.getByTestId('sheet-total').waitFor();
		// The sheet's counts are the edge's: the staged creations, what waits with them, what cannot be undone.
		expect(await sheetCounts(sheet)).toEqual(nonZero(countByType(staged.ops)));
		expect(await sheet.getByTestId('sheet-total').innerText()).toContain(
			`${staged.ops.length} operations will be written`
		);
		const waiting: Record<string, number> = {};
		for (const row of await sheet.getByTestId('sheet-waiting').locator('li').all())
			waiting[(await row.getAttribute('data-type'))!] = Number(await row.getAttribute('data-count'));
		expect(waiting).toEqual(nonZero(staged.waiting ?? {}));
		expect(waiting.invite).toBe(10);
		expect(await sheetIrreversible(sheet)).toEqual({ invite: 10 });
		const listed = await sheet.getByTestId('sheet-ops').locator('li').allInnerTexts();
		expect(listed).toHaveLength(10);
		for (const name of NEWCOMERS) expect(listed.join('\n')).toContain(`${name} in Crew app`);
		await screen('approve-sheet');

		await sheet.getByRole('button', { name: 'Approve creations' }).tap();
		await expect.poll(() => sheet.count()).toBe(0);
		await expect.poll(() => item.innerText()).toContain('approved');
		const resolutions = await api<{ conflictId: string; choice: string }[]>(`/links/${linkId}/resolutions`);
		expect(resolutions).toContainEqual(
			expect.objectContaining({ conflictId: staged.conflictId, choice: 'approve-creates' })
		);
	});

	let runId: string;
	it('Run now shows what the run will write, as the edge previewed it, then runs', async () => {
		const previewed = page.waitForResponse(
			(r: Response) =>
				r.url().endsWith(`/api/links/${encodeURIComponent(linkId)}/runs/preview`) && r.request().method() === 'POST'
		);
		await page.getByRole('button', { name: 'Run now' }).tap();
		const edge = (await (await previewed).json()) as RunPreview;
		const sheet = page.getByRole('dialog', { name: 'Run now?' });
		await sheet.getByTestId('sheet-total').waitFor({ timeout: 30_000 });
		expect(edge.counts.byType['create-person']).toBe(10);
		expect(edge.counts.staged).toBe(0);
		expect(await sheetCounts(sheet)).toEqual(nonZero(edge.counts.byType));
		expect(await sheet.getByTestId('sheet-total').innerText()).toContain(
			`${edge.counts.total} operations will be written`
		);
		expect(await sheetIrreversible(sheet)).toEqual(Object.fromEntries(edge.irreversible.map((g) => [g.type, g.count])));
		expect(await sheetIrreversible(sheet)).toEqual({ invite: 10 });
		expect(await sheet.getByTestId('sheet-ops').locator('li').count()).toBe(edge.ops.length);
		expect(await sheet.getByTestId('sheet-ops').innerText()).toContain('Gus Ito in Crew app');
		await screen('run-sheet');

		// Cancel writes nothing; the sheet opens again with the same answer.
		await sheet.getByRole('button', { name: 'Cancel' }).tap();
		await expect.poll(() => sheet.count()).toBe(0);
		expect(await activeOnTarget()).toEqual([...FIRST].sort());

		await page.getByRole('button', { name: 'Run now' }).tap();
		await sheet.getByTestId('sheet-total').waitFor({ timeout: 30_000 });
		await sheet.getByRole('button', { name: 'Start the run' }).tap();
		await page.waitForURL(/\/runs\/[^/]+$/);
		runId = decodeURIComponent(page.url().split('/').pop()!);
		await expect
			.poll(() => page.getByTestId('run-status').getAttribute('data-status'), { timeout: 60_000 })
			.toBe('done');
		expect(await activeOnTarget()).toEqual([...FIRST, ...NEWCOMERS].sort());
	});

	it('Undo shows what it reverses by name and the invitations it cannot unsend, then undoes exactly that', async () => {
		const previewed = page.waitForResponse(
			(r: Response) => r.url().endsWith(`/runs/${encodeURIComponent(runId)}/undo`) && r.request().method() === 'GET'
		);
		await page.getByRole('button', { name: 'Undo this run' }).tap();
		const edge = (await (await previewed).json()) as UndoPreview;
		const sheet = page.getByRole('dialog', { name: 'Undo this run?' });
		await sheet.getByTestId('sheet-total').waitFor({ timeout: 30_000 });
		expect(edge.counts.byType['remove-person']).toBe(10);
		expect(await sheetCounts(sheet)).toEqual(nonZero(edge.counts.byType));
		expect(await sheetIrreversible(sheet)).toEqual({ invite: 10 });
		const listed = await sheet.getByTestId('sheet-ops').innerText();
		for (const name of NEWCOMERS) expect(listed).toContain(name);
		await screen('undo-sheet');

		const first = page.url();
		await sheet.getByRole('button', { name: 'Undo the run' }).tap();
		await page.waitForURL((url) => url.href !== first);
		await page.locator('.badge', { hasText: /^undo$/ }).waitFor({ timeout: 60_000 });
		await expect
			.poll(() => page.getByTestId('run-status').getAttribute('data-status'), { timeout: 60_000 })
			.toBe('done');
		const undo = (await api<RunSummary[]>(`/links/${linkId}/runs?limit=5`)).find((r) => r.undoOf === runId)!;
		expect(undo.counts).toEqual(edge.counts);
		expect(await activeOnTarget()).toEqual([...FIRST].sort());
		expect(findings).toEqual([]);
	});
});

function countByType(ops: { type: string }[]): Record<string, number> {
	const out: Record<string, number> = {};
	for (const op of ops) out[op.type] = (out[op.type] ?? 0) + 1;
	return out;
}
