/**
 * A second, independent SCIM 2.0 server for connector tests: Better Auth with the
 * @better-auth/scim plugin, on its memory adapter (the plugin needs native transactions, which
 * the memory adapter has; no native modules), served by a Node http server.
 *
 * @better-auth/scim 1.7 takes static connections: a connection id with bearer credentials, set
 * in the plugin options (`connections: [{ id, credentials: [{ type: 'bearer', id, token }] }]`). The SCIM base
 * URL is <baseURL>/api/auth/scim/v2.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { betterAuth } from 'better-auth';
import { memoryAdapter } from 'better-auth/adapters/memory';
import { toNodeHandler } from 'better-auth/node';
import { getAuthTables } from '@better-auth/core/db';
import { scim } from '@better-auth/scim';
import type { ScimPeer } from './scim-scimmy';

export async function startBetterAuth(token = `ba-${randomBytes(16).toString('hex')}`): Promise<ScimPeer> {
	const plugin = scim({ connections: [{ id: 'rostersync', credentials: [{ type: 'bearer', id: 'test', token }] }] });
	const options = {
		secret: randomBytes(32).toString('base64'),
		baseURL: 'http://127.0.0.1',
		logger: { disabled: true },
		plugins: [plugin]
	};
	// The memory adapter expects one array per model, created up front.
	const db: Record<string, unknown[]> = {};
	for (const table of Object.values(getAuthTables(options))) db[table.modelName] = [];
	const auth = betterAuth({ ...options, database: memoryAdapter(db) });

	const server: Server = createServer(toNodeHandler(auth));
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}/api/auth/scim/v2`,
		token,
		close: () =>
			new Promise<void>((resolve, reject) => {
				server.closeAllConnections();
				server.close((e) => (e ? reject(e) : resolve()));
			})
	};
}
