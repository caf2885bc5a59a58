import type { AccountDO } from './account/account-do';
import type { LinkDO } from './link/link-do';
import type { SandboxDO } from './sandbox/sandbox-do';
import type { RulesDO } from './rules/rules-do';

/** Bindings and secrets the edge Worker receives (see wrangler.toml and .dev.vars.example). */
export interface Env {
	/** The built PWA (build/), served by Workers Static Assets. */
	ASSETS: Fetcher;
	/** One Durable Object per link. */
	LINKS: DurableObjectNamespace<LinkDO>;
	/** The account: one instance (named "account") holding tokens, systems and the links index. */
	ACCOUNT: DurableObjectNamespace<AccountDO>;
	/** One built-in SCIM directory per sandbox system, named by the system's id. */
	SANDBOXES: DurableObjectNamespace<SandboxDO>;
	/** One per system with auto-membership rules, named by the system's id. */
	RULES: DurableObjectNamespace<RulesDO>;
	/** Base64 of 32 random bytes; encrypts connector credentials at rest. A secret, never a var. */
	CREDENTIALS_KEY?: string;
	/** Set (to anything but "" or "0") only by `npm start`: enables POST /api/bootstrap while no owner exists. */
	LOCAL_BOOTSTRAP?: string;
	/** Set only on a developer's machine (the worker tests): system URLs may name loopback and private hosts. */
	LOCAL_DEV?: string;
	/** Cloudflare Access team domain, e.g. `myteam.cloudflareaccess.com`. With ACCESS_AUD, enables Access identities. */
	ACCESS_TEAM_DOMAIN?: string;
	/** The Access application's audience (AUD) tag. */
	ACCESS_AUD?: string;
	/** JSON `{ "email": "owner" | "reviewer" | "viewer" }`: roles of Access identities. */
	ACCESS_ROLES?: string;
	/** Role of an Access identity not in ACCESS_ROLES: a role, or "none" to refuse it (default viewer). */
	ACCESS_DEFAULT_ROLE?: string;
	/** "0" or "false": runs write one operation per request, no batched memberships, no Bulk (measuring only). */
	WRITE_BATCHING?: string;
}

/** A flag from the environment: set and not "", "0" or "false". */
export const flag = (value: string | undefined): boolean =>
	value !== undefined && !['', '0', 'false'].includes(value.trim().toLowerCase());
