import { existsSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { startWranglerDev } from '../support/wrangler-dev';
import { bootstrapOwner } from '../support/pwa';

declare module 'vitest' {
	export interface ProvidedContext {
		/** Base URL of the `wrangler dev` serving build/ and the API, e.g. http://127.0.0.1:40123 */
		baseURL: string;
		/** The first owner token (local bootstrap: the sandbox systems are seeded with it). */
		ownerToken: string;
	}
}

/**
 * One `wrangler dev` for all browser tests, against the already-built build/ (npm run test:browser
 * builds it). E2E_BASE_URL points the tests at a server already running instead (while
 * developing); it must allow the local bootstrap or be given E2E_TOKEN.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
	if (process.env.E2E_BASE_URL) {
		project.provide('baseURL', process.env.E2E_BASE_URL);
		project.provide('ownerToken', await bootstrapOwner(process.env.E2E_BASE_URL));
		return async () => {};
	}
	if (!existsSync(new URL('../../build/index.html', import.meta.url))) {
		throw new Error('build/index.html is missing: run `npm run test:browser` (it runs `vite build` first).');
	}
	const server = await startWranglerDev();
	project.provide('baseURL', server.url);
	try {
		project.provide('ownerToken', await bootstrapOwner(server.url));
	} catch (e) {
		await server.stop();
		throw e;
	}
	return () => server.stop();
}
