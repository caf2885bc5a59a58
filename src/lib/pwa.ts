import { Workbox } from 'workbox-window';
import { dev } from '$app/environment';

/**
 * The page's handle on the service worker (src/service-worker.ts, emitted as /service-worker.js).
 * SvelteKit's own registration is off (svelte.config.js) so that workbox-window can drive the
 * "update available" flow: listen for `waiting`, then `messageSkipWaiting()`.
 */
export let workbox: Workbox | undefined;

/** Registers the service worker once; a no-op where service workers are unavailable. */
export function registerServiceWorker(): Workbox | undefined {
	if (workbox || typeof navigator === 'undefined' || !('serviceWorker' in navigator)) return workbox;
	// In dev, Vite serves the worker as an ES module; the build emits one classic script.
	workbox = new Workbox('/service-worker.js', { type: dev ? 'module' : 'classic', scope: '/' });
	void workbox.register();
	return workbox;
}
