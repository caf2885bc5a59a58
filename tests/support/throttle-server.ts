/**
 * A tiny SCIM-ish server that is busy first: it answers the first requests with 429/503 and a
 * Retry-After (seconds or an HTTP date), then serves a fixed list of Users. It has no discovery
 * endpoints and no Groups (404), so a connector against it also exercises its fallbacks.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One throttled answer: the status and the Retry-After header to send (none when undefined). */
export interface Refusal {
	status: 429 | 503;
	retryAfter?: string;
}

export interface ThrottleServer {
	url: string;
	/** Requests received, in order, as "METHOD path?query". */
	log: string[];
	/** Queue more refusals (served before anything else). */
	refuse(...refusals: Refusal[]): void;
	close(): Promise<void>;
}

export async function startThrottleServer(options: { users: number; refusals?: Refusal[] }): Promise<ThrottleServer> {
	const refusals = [...(options.refusals ?? [])];
	const log: string[] = [];
	const users = Array.from({ length: options.users }, (_, i) => ({
		schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
		id: `u${i + 1}`,
		userName: `user${i + 1}@example.org`,
		displayName: `User ${i + 1}`,
		active: true
	}));

	const server: Server = createServer((req, res) => {
		const url = new URL(req.url ?? '/', 'http://localhost');
		log.push(`${req.method} ${url.pathname}${url.search}`);
		const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
			res.writeHead(status, { 'content-type': 'application/scim+json', ...headers });
			res.end(body === undefined ? '' : JSON.stringify(body));
		};
		const refusal = refusals.shift();
		if (refusal) {
			return send(
				refusal.status,
				{
					schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
					status: String(refusal.status),
					detail: 'slow down'
				},
				refusal.retryAfter === undefined ? {} : { 'retry-after': refusal.retryAfter }
			);
		}
		if (req.method === 'GET' && url.pathname === '/scim/v2/Users') {
			const start = Math.max(1, Number(url.searchParams.get('startIndex') ?? 1));
			const count = Math.max(0, Number(url.searchParams.get('count') ?? 100));
			const page = users.slice(start - 1, start - 1 + count);
			return send(200, {
				schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
				totalResults: users.length,
				startIndex: start,
				itemsPerPage: page.length,
				Resources: page
			});
		}
		send(404, {
			schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
			status: '404',
			detail: 'Endpoint Not Found'
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}/scim/v2`,
		log,
		refuse: (...more) => refusals.push(...more),
		close: () =>
			new Promise<void>((resolve, reject) => {
				server.closeAllConnections();
				server.close((e) => (e ? reject(e) : resolve()));
			})
	};
}
