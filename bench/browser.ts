/**
 * The browser case: in headless Chromium, save a 100k-person snapshot through the app's Dexie
 * store (`ms`) against raw IndexedDB writing the same records in one transaction (`floorMs`),
 * then run the offline review's reconcile in the Web Worker (`reconcileMs`, end to end: read both
 * snapshots from IndexedDB, reconcile, store the plan, summarize) while the page records its
 * longest main-thread task. Figures only; nothing is asserted.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../tests/support/browser';
import type { BenchLine } from './measure';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, 'bench/out/browser');
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };

export async function browserCases(emit: (line: BenchLine) => void): Promise<void> {
	const build = spawnSync(join(ROOT, 'node_modules/.bin/vite'), ['build', '--config', 'bench/browser/vite.config.ts'], {
		cwd: ROOT,
		stdio: ['ignore', 'ignore', 'inherit']
	});
	if (build.status !== 0) throw new Error('building the browser bench page failed');

	const server = createServer((req, res) => {
		const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(
			/^(\.\.[/\\])+/,
			''
		);
		const file = join(OUT, path === '/' ? 'index.html' : path);
		if (!file.startsWith(OUT) || !existsSync(file) || !statSync(file).isFile()) {
			res.writeHead(404).end();
			return;
		}
		res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
		createReadStream(file).pipe(res);
	});
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	const { port } = server.address() as { port: number };

	const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
	try {
		const page = await browser.newPage();
		await page.goto(`http://127.0.0.1:${port}/`);
		await page.waitForFunction(() => document.getElementById('state')?.textContent === 'ready');
		const line = await page.evaluate(
			(people) => (window as unknown as { runBench: (n: number) => Promise<BenchLine> }).runBench(people),
			100_000
		);
		emit(line);
	} finally {
		await browser.close();
		server.close();
	}
}
