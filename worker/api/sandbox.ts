/**
 * The built-in sandboxes over the API:
 * - `/api/sandbox/:systemId/scim/v2/...`: the sandbox's SCIM endpoints for external SCIM clients,
 *   authenticated by the sandbox's own token (not an account token); passed to its SandboxDO's
 *   `scim` RPC method;
 * - `POST /api/sandbox/:systemId/token` [owner]: a new token for external clients, shown once;
 * - `POST /api/sandbox/drift` [owner]: the demo's second phase (worker/sandbox/seed.ts);
 * - `POST /api/bootstrap` [local first start only]: the first owner token and the demo systems.
 */
import { json } from '../http';
import { flag } from '../env';
import { account } from '../account/account-do';
import { randomToken, sha256Hex, credentialsKey } from '../crypto';
import { PUBLIC_BASE_HEADER } from '../sandbox/sandbox-do';
import { SANDBOX_INTERNAL_BASE, sandboxFetch, sandboxStub } from '../systems/connect';
import { applyDrift, sandboxBaseUrl, seedDemo } from '../sandbox/provision';
import { ApiError } from './errors';
import type { Route, RouteContext } from './router';

function scimNotFound(detail: string): Response {
	return new Response(
		JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '404', detail }),
		{
			status: 404,
			headers: { 'content-type': 'application/scim+json; charset=utf-8', 'cache-control': 'no-store' }
		}
	);
}

async function forwardScim({ env, request, url, params }: RouteContext): Promise<Response> {
	const system = await account(env).getSystem(params.systemId);
	if (!system || system.connector !== 'sandbox') return scimNotFound(`there is no sandbox system "${params.systemId}"`);
	const target = new URL(`${SANDBOX_INTERNAL_BASE}/${params['*'] ?? ''}`);
	target.search = url.search;
	const headers = new Headers(request.headers);
	headers.set(PUBLIC_BASE_HEADER, sandboxBaseUrl(url.origin, system.id));
	const hasBody = !['GET', 'HEAD'].includes(request.method.toUpperCase());
	// Through the sandbox's RPC method, never stub.fetch() (worker/sandbox/scim-rpc.ts).
	return sandboxFetch(sandboxStub(env, system.id))(target.toString(), {
		method: request.method,
		headers,
		body: hasBody ? request.body : undefined
	});
}

export const sandboxRoutes: Route[] = [
	{ method: 'ANY', path: '/api/sandbox/:systemId/scim/v2', role: 'public', handler: forwardScim },
	{ method: 'ANY', path: '/api/sandbox/:systemId/scim/v2/*', role: 'public', handler: forwardScim },
	{
		method: 'POST',
		path: '/api/sandbox/:systemId/token',
		role: 'owner',
		handler: async ({ env, params, url }) => {
			const system = await account(env).getSystem(params.systemId);
			if (!system || system.connector !== 'sandbox')
				throw new ApiError('not-found', `There is no sandbox system "${params.systemId}".`);
			const token = randomToken(32);
			await sandboxStub(env, system.id).setExternalToken(await sha256Hex(token));
			// Shown once, like an account token; issuing another replaces it.
			return json({ systemId: system.id, baseUrl: sandboxBaseUrl(url.origin, system.id), token }, 201);
		}
	},
	{
		method: 'POST',
		path: '/api/sandbox/drift',
		role: 'owner',
		handler: async ({ env }) => json(await applyDrift(env))
	},
	{
		method: 'POST',
		path: '/api/bootstrap',
		role: 'public',
		handler: async ({ env, url }) => {
			// Off unless `npm start` set LOCAL_BOOTSTRAP: a deployment answers as if there were no such route.
			if (!flag(env.LOCAL_BOOTSTRAP))
				throw new ApiError('not-found', `There is no API route ${url.pathname}.`, undefined, { path: url.pathname });
			const store = account(env);
			if (await store.hasOwner())
				throw new ApiError('conflict', 'An owner exists already: bootstrap runs only on the first start.');
			await credentialsKey(env.CREDENTIALS_KEY);
			const demo = await seedDemo(env, url.origin);
			const owner = await store.bootstrapOwner();
			if (!owner) throw new ApiError('conflict', 'An owner exists already: bootstrap runs only on the first start.');
			return json({ ...owner, systems: demo }, 201);
		}
	}
];
