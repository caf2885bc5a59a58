import { mkdirSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { startScimmyProcess, type ScimmyTarget } from '../support/scimmy-process';

/** SCIM targets for the link engine's tests: one SCIMMY process each (SCIMMY is a per-process singleton). */
export const SCIMMY_TARGETS = ['flow', 'crash', 'undo'] as const;

declare module 'vitest' {
	export interface ProvidedContext {
		/** Real SCIM 2.0 servers on 127.0.0.1, by name; each test file owns the ones it names. */
		scimmy: Record<(typeof SCIMMY_TARGETS)[number], ScimmyTarget>;
	}
}

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
	const started = await Promise.all(SCIMMY_TARGETS.map(() => startScimmyProcess()));
	project.provide(
		'scimmy',
		Object.fromEntries(SCIMMY_TARGETS.map((name, i) => [name, { url: started[i].url, token: started[i].token, control: started[i].control }])) as Record<
			(typeof SCIMMY_TARGETS)[number],
			ScimmyTarget
		>
	);
	return async () => {
		await Promise.all(started.map((p) => p.stop()));
	};
}
