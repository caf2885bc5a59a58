import { sveltekit } from '@sveltejs/kit/vite';
import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

export default defineConfig({
	plugins: [sveltekit()],
	// The reconcile Web Worker is bundled as an ES module (new Worker(url, { type: 'module' })).
	worker: { format: 'es' },
	// `npm run dev` (Vite, hot reload) next to `npm start` (wrangler on :8787) for the API.
	server: { proxy: { '/api': 'http://127.0.0.1:8787' } },
	test: {
		// Three projects, run one at a time by the npm scripts (2 cores here).
		projects: [
			{
				// Pure core, connectors, db: plain Node. Inherits the SvelteKit plugin ($lib, runes).
				extends: true,
				test: {
					name: 'core',
					environment: 'node',
					// Property tests run hundreds of cases; on 2 shared cores that can take tens of seconds.
					testTimeout: 60_000,
					include: ['tests/**/*.test.ts'],
					exclude: ['tests/worker/**', 'tests/e2e/**', '**/node_modules/**']
				}
			},
			{
				// The edge, inside workerd via Miniflare, configured from wrangler.toml.
				// Not extending the root: the SvelteKit plugin has no business in the Workers runtime.
				plugins: [
					cloudflareTest({
						wrangler: { configPath: './wrangler.toml' },
						// Fixed test values: a clean clone has no .dev.vars, and a local one must not leak in.
						miniflare: {
							bindings: {
								CREDENTIALS_KEY: 'dGVzdC1vbmx5LWNyZWRlbnRpYWxzLWtleS0zMi1ieXQ=',
								LOCAL_BOOTSTRAP: '',
								// The tests' SCIM servers listen on 127.0.0.1 (worker/systems/url.ts).
								LOCAL_DEV: '1',
								ACCESS_TEAM_DOMAIN: '',
								ACCESS_AUD: '',
								ACCESS_ROLES: '',
								ACCESS_DEFAULT_ROLE: ''
							}
						}
					})
				],
				resolve: { alias: { $lib: new URL('./src/lib', import.meta.url).pathname } },
				test: {
					name: 'worker',
					include: ['tests/worker/**/*.test.ts'],
					// workerd on 2 shared cores: a test that needs 3 s alone can need 10 under load.
					testTimeout: 30_000,
					globalSetup: ['tests/worker/global-setup.ts']
				}
			},
			{
				// The built PWA served by a real `wrangler dev`, driven in Chromium.
				test: {
					name: 'browser',
					environment: 'node',
					include: ['tests/e2e/**/*.test.ts'],
					globalSetup: ['tests/e2e/global-setup.ts'],
					testTimeout: 60_000,
					hookTimeout: 90_000,
					fileParallelism: false
				}
			}
		]
	}
});
