import { mkdirSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { startScimmyProcess } from '../support/scimmy-process';
import { startPlainScimProcess } from '../support/scim-plain-process';
import { SCIMMY_TARGETS, type ScimmyName, type ScimmyTarget } from '../support/scimmy-target';
import type { ScimPeers } from '../support/scim-peers';
import { startHostileScim } from '../support/scim-hostile';

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
	// Better Auth is not a per-process singleton: it runs here; loaded only now, as only the peer tests need it.
	const { startBetterAuth } = await import('../support/scim-better-auth');
	// One SCIMMY process per target: SCIMMY is a per-process singleton (the plain peer is SCIMMY too).
	const [started, peers, hostile] = await Promise.all([
		Promise.all(SCIMMY_TARGETS.map(() => startScimmyProcess())),
		Promise.all([startScimmyProcess(), startBetterAuth(), startPlainScimProcess()]),
		startHostileScim()
	]);
	project.provide('hostileScim', { origin: hostile.origin, otherOrigin: hostile.otherOrigin });
	const targets = Object.fromEntries(
		SCIMMY_TARGETS.map((name, i) => [
			name,
			{ url: started[i].url, token: started[i].token, control: started[i].control }
		])
	);
	project.provide('scimmy', targets as Record<ScimmyName, ScimmyTarget>);
	const [scimmy, betterAuth, plain] = peers;
	project.provide('scimPeers', {
		scimmy: { url: scimmy.url, token: scimmy.token, control: scimmy.control },
		betterAuth: { url: betterAuth.url, token: betterAuth.token },
		plain: { url: plain.url, token: plain.token, control: plain.control, quirks: plain.quirks }
	} satisfies ScimPeers);
	return async () => {
		await Promise.all([
			...started.map((p) => p.stop()),
			scimmy.stop(),
			betterAuth.close(),
			plain.stop(),
			hostile.close()
		]);
	};
}
