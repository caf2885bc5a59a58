import { mkdirSync } from 'node:fs';

/**
 * wrangler refuses a config whose `[assets] directory` does not exist, and the pool reads
 * wrangler.toml. The worker tests do not need the built PWA (the browser tests cover it), so an
 * empty build/ is enough on a clean clone; a real `vite build` replaces it.
 */
export default function setup(): void {
	mkdirSync(new URL('../../build', import.meta.url), { recursive: true });
}
