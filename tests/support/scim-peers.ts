/**
 * The three SCIM test peers as the tests reach them over 127.0.0.1: SCIMMY with the Rostersync
 * extensions (scim-scimmy.ts), Better Auth's SCIM plugin (scim-better-auth.ts), and plain SCIM
 * (scim-plain.ts, configured as many real servers are). The worker project's globalSetup
 * (tests/worker/global-setup.ts) starts one of each for the peer tests and hands them to workerd
 * through provide/inject.
 *
 * No Node imports: both the Node side and the workerd side import this file.
 */
import type { ScimmyTarget } from './scimmy-target';

/** What makes the plain peer plain: each quirk named, so a test says which ones it relies on. */
export interface PlainQuirks {
	/** Declare the enterprise User extension (employeeNumber). Many real servers have none. */
	enterprise: boolean;
	/** `active` in answers: a JSON boolean (RFC 7643), or "True"/"False" strings as Microsoft Entra sends. */
	active: 'boolean' | 'string';
	/** Announce and serve POST /Bulk. */
	bulk: boolean;
	/** Announce sorting (sortBy). */
	sort: boolean;
}

/**
 * The plain server. Always so, whatever the quirks: userName kept as given and unique
 * regardless of case (409 uniqueness), case-sensitive filters, no ETag, Groups without extension.
 */
export const PLAIN_DEFAULTS: PlainQuirks = { enterprise: false, active: 'string', bulk: false, sort: false };

/** Raw SCIM resources to put in a plain peer's store (an id is made up when missing). */
export interface PlainSeed {
	users?: Record<string, unknown>[];
	groups?: Record<string, unknown>[];
}

/** A peer's SCIM base URL (…/scim/v2 or Better Auth's …/api/auth/scim/v2) and bearer token. */
export interface ScimEndpoint {
	url: string;
	token: string;
}

/**
 * A plain peer in a process of its own (tests/support/scim-plain-server.ts). Its control server:
 *   GET  /state  { users, groups, log }   the store (active as a boolean) and "METHOD path" lines
 *   POST /reset  empties the store and the log
 *   POST /seed   PlainSeed -> { users, groups } as stored (with ids)
 */
export interface PlainTarget extends ScimEndpoint {
	control: string;
	quirks: PlainQuirks;
}

/** The peers the peer tests write to, one of each kind, used by no other test file. */
export interface ScimPeers {
	scimmy: ScimmyTarget;
	betterAuth: ScimEndpoint;
	plain: PlainTarget;
}

declare module 'vitest' {
	export interface ProvidedContext {
		/** One SCIM server of each kind on 127.0.0.1, for tests/worker/provision-peers.integration.test.ts. */
		scimPeers: ScimPeers;
	}
}

type ScimResource = Record<string, any> & { id: string };

/** Every User (or Group) of a peer as its SCIM API answers (the plain peer's `active` as a string). */
export async function listResources(
	peer: ScimEndpoint,
	collection: 'Users' | 'Groups',
	filter?: string
): Promise<ScimResource[]> {
	const out: ScimResource[] = [];
	for (let startIndex = 1; ;) {
		const query = new URLSearchParams({ startIndex: String(startIndex), count: '100' });
		if (filter) query.set('filter', filter);
		const res = await fetch(`${peer.url}/${collection}?${query}`, {
			headers: { authorization: `Bearer ${peer.token}`, accept: 'application/scim+json' }
		});
		if (!res.ok) throw new Error(`GET ${collection}: ${res.status} ${await res.text()}`);
		const page = (await res.json()) as { totalResults: number; Resources?: ScimResource[] };
		const resources = page.Resources ?? [];
		out.push(...resources);
		startIndex += resources.length;
		if (resources.length === 0 || startIndex > page.totalResults) return out;
	}
}

/** Creates a User through a peer's SCIM API, as any client would (its rules apply); returns it as answered. */
export async function createUser(peer: ScimEndpoint, user: Record<string, unknown>): Promise<ScimResource> {
	const res = await fetch(`${peer.url}/Users`, {
		method: 'POST',
		headers: { authorization: `Bearer ${peer.token}`, 'content-type': 'application/scim+json' },
		body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], ...user })
	});
	if (res.status !== 201) throw new Error(`POST /Users: ${res.status} ${await res.text()}`);
	return res.json();
}

export async function plainState(
	target: PlainTarget
): Promise<{ users: ScimResource[]; groups: ScimResource[]; log: string[] }> {
	return (await fetch(`${target.control}/state`)).json();
}

export async function plainReset(target: PlainTarget): Promise<void> {
	await fetch(`${target.control}/reset`, { method: 'POST' });
}

/** Puts resources straight into a plain peer's store, bypassing its rules (see PlainPeer.seed). */
export async function plainSeed(
	target: PlainTarget,
	records: PlainSeed
): Promise<{ users: ScimResource[]; groups: ScimResource[] }> {
	const res = await fetch(`${target.control}/seed`, { method: 'POST', body: JSON.stringify(records) });
	if (!res.ok) throw new Error(`seed: ${res.status} ${await res.text()}`);
	return res.json();
}
