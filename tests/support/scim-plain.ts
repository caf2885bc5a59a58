/**
 * "Plain SCIM": a third SCIM 2.0 test peer, configured as many real servers are and neither of the
 * other two is (STACK.md, "What real SCIM servers do that the two test peers don't"). SCIMMY +
 * scimmy-routers on Express 4, like tests/support/scim-scimmy.ts, but:
 *
 * - Users declare the core schema only: no enterprise extension (so no employeeNumber), no
 *   Rostersync extension; /ResourceTypes lists no schemaExtensions. Groups are core only.
 * - userName is kept exactly as given and is unique regardless of case: a create or rename to a
 *   userName that differs only in case from another user's is refused with 409 uniqueness.
 * - Filters are case-sensitive (SCIMMY's `eq` compares strings exactly), so that 409's holder is
 *   not found by `userName eq "<the value sent>"`.
 * - No Bulk, no sort, no ETag (announced as unsupported; POST /Bulk answers 501).
 * - `active` goes out as the string "True" / "False", as Microsoft Entra writes it.
 *
 * The extension, `active`'s form, Bulk and sort can be turned back to the usual (`PlainQuirks`,
 * tests/support/scim-peers.ts), so a test can tell which quirk a failure comes from; the defaults
 * (PLAIN_DEFAULTS) are the server described here. The rest is always so.
 *
 * How to start it: `startPlainScimProcess(quirks?)` (tests/support/scim-plain-process.ts) runs it
 * in a child process of its own, from a Node test or the workerd tests' globalSetup, with a
 * control server for state, reset and seeding. `startPlainScim` runs it in this process, which
 * must then serve no other SCIMMY-based peer: SCIMMY is one global object per process.
 */
import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import SCIMMY from 'scimmy';
import SCIMMYRouters from 'scimmy-routers';
import type { ScimPeer } from './scim-scimmy';
import { PLAIN_DEFAULTS, type PlainQuirks, type PlainSeed } from './scim-peers';

export { PLAIN_DEFAULTS, type PlainQuirks, type PlainSeed };

type Resource = Record<string, unknown> & { id: string };

function put(map: Map<string, Resource>, resourceType: 'User' | 'Group', raw: Record<string, unknown>): Resource {
	const now = new Date().toISOString();
	const id = typeof raw.id === 'string' && raw.id ? raw.id : randomUUID();
	const schemas = [`urn:ietf:params:scim:schemas:core:2.0:${resourceType}`];
	const stored: Resource = { schemas, ...raw, id, meta: { resourceType, created: now, lastModified: now } };
	map.set(id, stored);
	return stored;
}

export interface PlainPeer extends ScimPeer {
	quirks: PlainQuirks;
	/** The store as SCIMMY keeps it (active as a boolean), for assertions and seeding. */
	users: Map<string, Resource>;
	groups: Map<string, Resource>;
	/** Requests received, as "METHOD path?query". */
	log: string[];
	/**
	 * Puts resources straight into the store, as if they had been there before (no uniqueness
	 * check, no schema coercion): a directory's existing state. Returns them with their ids.
	 */
	seed(records: PlainSeed): { users: Resource[]; groups: Resource[] };
	/** Empties the store and the log. */
	reset(): void;
}

/** `active` as Microsoft Entra writes it. */
const entraBoolean = (value: boolean) => (value ? 'True' : 'False');

export async function startPlainScim(options: Partial<PlainQuirks> & { token?: string } = {}): Promise<PlainPeer> {
	// SCIMMY's declarations (and any extension another peer added to User) are process-wide.
	if (Object.keys(SCIMMY.Resources.declared()).length > 0)
		throw new Error('SCIMMY is a process-wide singleton: this process already serves a SCIMMY-based peer');
	const { token = `plain-${randomUUID()}`, ...overrides } = options;
	const quirks: PlainQuirks = { ...PLAIN_DEFAULTS, ...overrides };

	const users = new Map<string, Resource>();
	const groups = new Map<string, Resource>();
	const notFound = (id: string) => new SCIMMY.Types.Error(404, null!, `Resource ${id} not found`);

	function handlers(map: Map<string, Resource>, resourceType: 'User' | 'Group') {
		return {
			egress: (resource: { id?: string; filter?: { match(list: unknown[]): unknown[] } }) => {
				if (resource.id) {
					const found = map.get(resource.id);
					if (!found) throw notFound(resource.id);
					return found;
				}
				const all = [...map.values()];
				return resource.filter ? resource.filter.match(all) : all;
			},
			ingress: (resource: { id?: string }, instance: unknown) => {
				const data = JSON.parse(JSON.stringify(instance)) as Record<string, unknown>;
				if (resource.id && !map.has(resource.id)) throw notFound(resource.id);
				if (resourceType === 'User') {
					const userName = String(data.userName ?? '');
					for (const other of map.values())
						if (other.id !== resource.id && String(other.userName).toLowerCase() === userName.toLowerCase())
							throw new SCIMMY.Types.Error(409, 'uniqueness', `userName "${userName}" is already taken`);
				}
				const now = new Date().toISOString();
				const previous = resource.id ? map.get(resource.id) : undefined;
				const id = resource.id ?? randomUUID();
				const stored: Resource = {
					...data,
					id,
					meta: { resourceType, created: (previous?.meta as { created?: string })?.created ?? now, lastModified: now }
				};
				map.set(id, stored);
				return stored;
			},
			degress: (resource: { id?: string }) => {
				if (!resource.id || !map.delete(resource.id)) throw notFound(resource.id ?? '');
				if (resourceType === 'User')
					for (const group of groups.values())
						group.members = ((group.members as { value: string }[] | undefined) ?? []).filter(
							(m) => m.value !== resource.id
						);
			}
		};
	}

	SCIMMY.Resources.declare(SCIMMY.Resources.User, {
		...handlers(users, 'User'),
		...(quirks.enterprise ? { extensions: [{ schema: SCIMMY.Schemas.EnterpriseUser, required: false }] } : {})
	} as never);
	SCIMMY.Resources.declare(SCIMMY.Resources.Group, handlers(groups, 'Group') as never);

	const log: string[] = [];
	const app = express();
	// Every JSON answer goes through res.json, so this reaches single resources, lists and PATCH answers alike.
	if (quirks.active === 'string')
		app.set('json replacer', (key: string, value: unknown) =>
			key === 'active' && typeof value === 'boolean' ? entraBoolean(value) : value
		);
	app.use((req, _res, next) => {
		log.push(`${req.method} ${req.originalUrl.replace(/^\/scim\/v2/, '')}`);
		next();
	});
	const routers = new SCIMMYRouters({
		type: 'bearer',
		handler: (req) => {
			if (req.header('authorization') !== `Bearer ${token}`) throw new Error('Invalid bearer token');
			return 'rostersync';
		}
	});
	// The routers announce patch, filter, sort and bulk when built; what this server lacks is taken back after.
	SCIMMY.Config.set({ bulk: quirks.bulk, sort: quirks.sort, etag: false });
	app.use('/scim/v2', routers);

	const server: Server = await new Promise((resolve) => {
		const s = app.listen(0, '127.0.0.1', () => resolve(s));
	});
	const { port } = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}/scim/v2`,
		token,
		quirks,
		users,
		groups,
		log,
		seed: (records) => ({
			users: (records.users ?? []).map((r) => put(users, 'User', r)),
			groups: (records.groups ?? []).map((r) => put(groups, 'Group', r))
		}),
		reset: () => {
			users.clear();
			groups.clear();
			log.length = 0;
		},
		close: () =>
			new Promise<void>((resolve, reject) => {
				server.closeAllConnections();
				server.close((e) => (e ? reject(e) : resolve()));
			})
	};
}
