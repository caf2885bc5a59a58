/** Helpers for the PWA's browser tests: the owner token, axe-core, screenshots. */
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SCREENSHOTS = `${ROOT}test-results/screenshots`;
const AXE = `${ROOT}node_modules/axe-core/axe.min.js`;

/** The first owner token: the local bootstrap (first start), or E2E_TOKEN for a server already bootstrapped. */
export async function bootstrapOwner(baseURL: string): Promise<string> {
	if (process.env.E2E_TOKEN) return process.env.E2E_TOKEN;
	const res = await fetch(`${baseURL}/api/bootstrap`, { method: 'POST' });
	if (!res.ok) throw new Error(`POST /api/bootstrap answered ${res.status}: ${await res.text()}`);
	return ((await res.json()) as { token: string }).token;
}

export interface AxeViolation {
	id: string;
	impact: string;
	help: string;
	nodes: { target: string[]; failureSummary?: string }[];
}

/** axe-core on the page as it stands: the serious and critical violations, in short form. */
export async function seriousViolations(page: Page): Promise<string[]> {
	// Evaluated through the DevTools protocol: the app's Content-Security-Policy refuses an added
	// inline <script>, as it should.
	await page.evaluate(readFileSync(AXE, 'utf8'));
	const violations = await page.evaluate(async () => {
		const axe = (
			window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: AxeViolation[] }> } }
		).axe;
		const r = await axe.run(document, { resultTypes: ['violations'] });
		return r.violations.map((v) => ({
			id: v.id,
			impact: v.impact,
			help: v.help,
			nodes: v.nodes.slice(0, 3).map((n) => ({ target: n.target, failureSummary: n.failureSummary }))
		}));
	});
	return violations
		.filter((v) => v.impact === 'serious' || v.impact === 'critical')
		.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(' | ')}`);
}

/** Saves a full-page screenshot under test-results/screenshots/ (gitignored). */
export async function shot(page: Page, name: string, fullPage = true): Promise<void> {
	mkdirSync(SCREENSHOTS, { recursive: true });
	await page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage });
}

/** Every element a person can tap that is smaller than 44×44 CSS pixels (visible ones only). */
export async function smallTargets(page: Page): Promise<string[]> {
	return page.evaluate(() => {
		const out: string[] = [];
		for (const el of document.querySelectorAll<HTMLElement>(
			'a[href], button, input, select, textarea, [role="button"]'
		)) {
			const r = el.getBoundingClientRect();
			if (r.width === 0 || r.height === 0) continue;
			const style = getComputedStyle(el);
			if (style.visibility === 'hidden' || el.closest('[hidden]')) continue;
			// Checkboxes and radios count with their label (the label is the target).
			const input = el as HTMLInputElement;
			const label = input.labels?.[0];
			const box = label && (input.type === 'checkbox' || input.type === 'radio') ? label.getBoundingClientRect() : r;
			if (box.height < 43.5 || box.width < 43.5)
				out.push(
					`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} "${(el.textContent || el.getAttribute('aria-label') || '').trim().slice(0, 30)}" ${Math.round(box.width)}×${Math.round(box.height)}`
				);
		}
		return out;
	});
}
