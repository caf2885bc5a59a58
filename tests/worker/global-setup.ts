import { mkdirSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { startScimmyProcess } from '../support/scimmy-process';
import { SCIMMY_TARGETS, type ScimmyName, type ScimmyTarget } from '../support/scimmy-target';

/**
 * wrangler refuses a config whose `[assets] directory` does not exist, and the pool reads
 * wrangler.toml. The worker tests do not need the built PWA (the browser tests cover it), so an
 * empty build/ is enough on a clean clone; a real `vite build` replaces it.
 *
 * The link engine's tests write to real SCIM servers: they start here, in Node, and reach the
 * tests in workerd as URLs (provide/inject). Each is stopped by its process id at the end.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
	mkdirSync(new URL('../../build', import.meta.url), { recursive: true });
	// One SCIMMY process per target: SCIMMY is a per-process singleton.
	const started = await Promise.all(SCIMMY_TARGETS.map(() => startScimmyProcess()));
	const targets = Object.fromEntries(
		SCIMMY_TARGETS.map((name, i) => [
			name,
			{ url: started[i].url, token: started[i].token, control: started[i].control }
		])
	);
	project.provide('scimmy', targets as Record<ScimmyName, ScimmyTarget>);
	return async () => {
		await Promise.all(started.map((p) => p.stop()));
	};
}
