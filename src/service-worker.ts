/// <reference types="@sveltejs/kit" />
/// <reference no-default-lib="true"/>
/// <reference lib="esnext" />
/// <reference lib="webworker" />
/**
 * The offline app shell. Precaches this version's build output and static files; navigations go
 * to the network first and fall back to the cached SPA shell; the API is never cached (the edge
 * is the source of truth, and offline data lives in IndexedDB).
 */
import { build, files, version } from '$service-worker';

const sw = self as unknown as ServiceWorkerGlobalScope;

const CACHE = `rostersync-${version}`;
/** The SPA shell: Static Assets serves build/index.html at "/". */
const SHELL = '/';
const PRECACHE = [SHELL, ...build, ...files];
const PRECACHED = new Set(PRECACHE);

sw.addEventListener('install', (event) => {
	event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE)));
});

sw.addEventListener('activate', (event) => {
	event.waitUntil(
		(async () => {
			for (const key of await caches.keys()) {
				if (key !== CACHE) await caches.delete(key);
			}
			await sw.clients.claim();
		})()
	);
});

// workbox-window's messageSkipWaiting() sends this when the person accepts an update.
sw.addEventListener('message', (event) => {
	if (event.data?.type === 'SKIP_WAITING') void sw.skipWaiting();
});

sw.addEventListener('fetch', (event) => {
	const { request } = event;
	if (request.method !== 'GET') return;
	const url = new URL(request.url);
	if (url.origin !== sw.location.origin) return;
	if (url.pathname.startsWith('/api/') || url.pathname === '/__scheduled') return;

	if (request.mode === 'navigate') {
		event.respondWith(networkFirstNavigation(request));
	} else if (PRECACHED.has(url.pathname)) {
		event.respondWith(cacheFirst(request, url.pathname));
	}
	// Anything else goes to the network untouched.
});

async function networkFirstNavigation(request: Request): Promise<Response> {
	try {
		return await fetch(request);
	} catch {
		// Offline: every route is the same SPA shell; the router renders it in the browser.
		const cache = await caches.open(CACHE);
		const shell = await cache.match(SHELL);
		return shell ?? new Response('Offline and the app is not cached yet.', { status: 503 });
	}
}

async function cacheFirst(request: Request, pathname: string): Promise<Response> {
	const cache = await caches.open(CACHE);
	return (await cache.match(pathname)) ?? fetch(request);
}
