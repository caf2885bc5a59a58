import type { LinkDO } from './link-do';

/** Bindings and secrets the edge Worker receives (see wrangler.toml and .dev.vars.example). */
export interface Env {
	/** The built PWA (build/), served by Workers Static Assets. */
	ASSETS: Fetcher;
	/** One Durable Object per link. */
	LINKS: DurableObjectNamespace<LinkDO>;
	/** Base64 of 32 random bytes; encrypts connector credentials at rest. A secret, never a var. */
	CREDENTIALS_KEY?: string;
}
