import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
	preprocess: vitePreprocess(),
	kit: {
		// A static PWA: `wrangler dev` (and Workers Static Assets when deployed) serves build/,
		// falling back to the SPA shell for any route that was not prerendered. Static Assets'
		// SPA mode serves /index.html, so the fallback is index.html; the build's "Overwriting
		// build/index.html with fallback page" notice is expected (with ssr = false both are the shell).
		adapter: adapter({ pages: 'build', assets: 'build', fallback: 'index.html', strict: true }),
		// The page registers the service worker itself through workbox-window (src/lib/sw.ts),
		// so a later screen can drive the "update available" flow.
		serviceWorker: {
			register: false,
			// static/_headers is read by Static Assets, never served: precaching it would fail the install.
			files: (path) => path !== '_headers'
		},
		// The page's Content-Security-Policy. The shell is prerendered, so SvelteKit writes it into a
		// <meta http-equiv> with the hash of its inline bootstrap script ('hash': a static file has
		// no nonce to give). What a <meta> cannot carry (frame-ancestors) and the headers that go
		// with it come from static/_headers, which Workers Static Assets applies to every file.
		csp: {
			mode: 'hash',
			directives: {
				'default-src': ['self'],
				'script-src': ['self'],
				// The service worker and the reconcile Web Worker are files of this origin.
				'worker-src': ['self'],
				'connect-src': ['self'],
				'img-src': ['self', 'data:'],
				'font-src': ['self'],
				'manifest-src': ['self'],
				'style-src': ['self'],
				// Style attributes only (SvelteKit's route announcer and the shell's wrapper carry one);
				// style elements and sheets stay 'self'. Nothing a style attribute loads gets past img-src.
				'style-src-attr': ['unsafe-inline'],
				'object-src': ['none'],
				'base-uri': ['none'],
				'form-action': ['self']
			}
		},
		typescript: {
			// The edge and its tests run on workerd with their own types (worker/tsconfig.json,
			// tests/worker/tsconfig.json); keep them out of the DOM-typed app project. So are the
			// workerd-only test helpers (they import cloudflare:workers); tsc checks them through
			// the worker tests that import them.
			config(tsconfig) {
				tsconfig.exclude = [
					...(tsconfig.exclude ?? []),
					'../worker/**',
					'../tests/worker/**',
					'../tests/support/links.ts',
					'../tests/support/rules.ts'
				];
				return tsconfig;
			}
		}
	}
};

export default config;
