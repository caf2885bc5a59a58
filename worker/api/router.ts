/**
 * The API's routing: a table of routes, each with the least role it needs. `handleApi` matches the
 * path, authenticates (every route but the public ones), checks the role, runs the handler, and
 * turns anything thrown into the JSON error body (worker/api/errors.ts).
 *
 * A route module exports `Route[]`; the table is assembled in `API_ROUTES` below. A handler that
 * needs more than its route's role for some requests (a real run vs a dry run) calls
 * `requireRole(c.caller, 'owner')` itself.
 */
import type { Env } from '../env';
import { json, VERSION } from '../http';
import { authenticate, requireRole, type AccountRole, type Caller } from '../auth';
import { ApiError, errorResponse } from './errors';
import { tokenRoutes } from './tokens';
import { systemRoutes } from './systems';
import { sandboxRoutes } from './sandbox';
import { linkRoutes } from './links';
import { ruleRoutes } from './rules';
import { signInRoutes } from './sign-in';
import { incidentRoutes } from './incidents';

export interface RouteContext {
	request: Request;
	env: Env;
	ctx: ExecutionContext;
	url: URL;
	/** `:name` segments of the pattern; `*` holds the rest of the path for a trailing `/*`. */
	params: Record<string, string>;
	/** The authenticated caller (a placeholder for public routes, never consulted there). */
	caller: Caller;
}

export interface Route {
	method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'ANY';
	/** e.g. `/api/systems/:id/csv`; a trailing `/*` matches any rest of the path. */
	path: string;
	/**
	 * The least role the route needs, or `public`: no account credential (the health check, the
	 * local bootstrap, the sandbox SCIM endpoints, which check their own token).
	 */
	role: AccountRole | 'public';
	handler: (c: RouteContext) => Promise<Response> | Response;
}

/** The health check: public, the only route without any credential. */
const healthRoutes: Route[] = [
	{
		method: 'GET',
		path: '/api/health',
		role: 'public',
		handler: () => json({ ok: true, service: 'rostersync', version: VERSION })
	}
];

/** Every API route. The link engine's routes (worker/api/links.ts) join here. */
export const API_ROUTES: Route[] = [
	...healthRoutes,
	...tokenRoutes,
	...systemRoutes,
	...sandboxRoutes,
	...linkRoutes,
	...ruleRoutes,
	...signInRoutes,
	...incidentRoutes
];

const PUBLIC_CALLER: Caller = { subject: 'anonymous', name: 'anonymous', role: 'viewer', via: 'token' };

/** Route patterns split into segments, once per pattern rather than once per request and route. */
const patterns = new Map<string, string[]>();

function segments(path: string): string[] {
	return path.split('/').filter(Boolean);
}

function matchPath(pattern: string, got: readonly string[]): Record<string, string> | undefined {
	let want = patterns.get(pattern);
	if (!want) patterns.set(pattern, (want = segments(pattern)));
	const rest = want[want.length - 1] === '*';
	if (rest ? got.length < want.length - 1 : got.length !== want.length) return undefined;
	const params: Record<string, string> = {};
	for (let i = 0; i < want.length; i++) {
		const w = want[i];
		if (w === '*') {
			params['*'] = got.slice(i).join('/');
			return params;
		}
		let g: string;
		try {
			g = decodeURIComponent(got[i]);
		} catch {
			return undefined;
		}
		if (w.startsWith(':')) params[w.slice(1)] = g;
		else if (w !== g) return undefined;
	}
	return params;
}

/** Answers one /api request from `routes`. */
export async function handleApi(
	request: Request,
	env: Env,
	ctx: ExecutionContext,
	routes: readonly Route[] = API_ROUTES
): Promise<Response> {
	const url = new URL(request.url);
	const method = request.method.toUpperCase() === 'HEAD' ? 'GET' : request.method.toUpperCase();
	const got = segments(url.pathname);
	const candidates = routes
		.map((route) => ({ route, params: matchPath(route.path, got) }))
		.filter((m) => m.params !== undefined);
	try {
		if (candidates.length === 0)
			throw new ApiError('not-found', `There is no API route ${url.pathname}.`, undefined, { path: url.pathname });
		const hit = candidates.find((m) => m.route.method === method || m.route.method === 'ANY');
		if (!hit) {
			const allow = [...new Set(candidates.map((m) => m.route.method))].join(', ');
			throw new ApiError(
				'method-not-allowed',
				`${method} is not allowed on ${url.pathname} (allowed: ${allow}).`,
				undefined,
				{ allow }
			);
		}
		let caller = PUBLIC_CALLER;
		if (hit.route.role !== 'public') {
			caller = await authenticate(request, env);
			requireRole(caller, hit.route.role);
		}
		const response = await hit.route.handler({ request, env, ctx, url, params: hit.params!, caller });
		return request.method.toUpperCase() === 'HEAD' ? new Response(null, response) : response;
	} catch (e) {
		return errorResponse(e);
	}
}
