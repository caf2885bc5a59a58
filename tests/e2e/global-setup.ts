import { existsSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { startWranglerDev } from '../support/wrangler-dev';

declare module 'vitest' {
	export interface ProvidedContext {
		/** Base URL of the `wrangler dev` serving build/ and the API, e.g. http://127.0.0.1:40123 */
		baseURL: string;
	}
}

/** One `wrangler dev` for all browser tests, against the already-built build/ (npm run test:browser builds it). */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
	if (!existsSync(new URL('../../build/index.html', import.meta.url))) {
		throw new Error('build/index.html is missing: run `npm run test:browser` (it runs `vite build` first).');
	}
	const server = await startWranglerDev();
	project.provide('baseURL', server.url);
	return () => server.stop();
}
