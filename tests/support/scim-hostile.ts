/**
 * A hostile SCIM server (Node http on 127.0.0.1): what a careless or malicious system does to the
 * client that calls it. Every base URL is `<origin>/<tenant>/<mode>/scim/v2`; a tenant has its own
 * records, so tests and test files never see each other's. Modes:
 *
 *   echo            a working SCIM directory (Users and Groups, discovery, eq filters, PATCH) that
 *                   puts the Authorization header it got into its data: the user `mirror` holds it
 *                   raw, in base64, percent-encoded (three ways), JSON-escaped and cut in half. A write whose
 *                   body holds `fail-<how>` fails, echoing the credential (see failure()):
 *                   fail-400, fail-409, fail-500 a SCIM error with the credential in every field,
 *                                                 encoded every way, in headers and status text
 *                   fail-text                     a text/plain body cut by a naive 200 characters
 *                   fail-huge                     an error body of 100 KB, a copy at its 64 KB mark
 *   deny            401 to everything, echoing the credential as fail-400 does
 *   deny-empty      401 to everything with an empty body, the credential in the status text only
 *   slow            echo, each answer after `SLOW_MS`
 *   hang            never answers, until the control's release (then a 500 echoing the credential)
 *   stall           sends the headers and the start of a body, then nothing, until released
 *   redirect        307 to the same request under `echo` (same origin)
 *   redirect-loop   302 to itself, forever
 *   redirect-away   302 to `echo` under the other origin (http://localhost:<port>)
 *   big-declared    200 with a Content-Length of 30 MB (and never sends it)
 *   big-streamed    200, chunked, a ListResponse that grows until the client hangs up
 *   big-record      echo, with one user (`u-big`) whose displayName is 10 MB
 *   malformed       200 application/scim+json that stops in the middle of the JSON
 *   html            200 text/html: a login page quoting the credential
 *   json            200 JSON that is not SCIM, quoting the credential
 *
 * Control, on the same server: GET /_control/log?tenant=t (requests seen: method, host, path),
 * POST /_control/release (answers every request held by hang and stall).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { percentEveryByte, SLOW_MS, type HostileEndpoint, type HostileMode, type Seen } from './scim-hostile-client';

export { hostileUrl, type HostileEndpoint, type HostileMode } from './scim-hostile-client';

export interface HostileServer extends HostileEndpoint {
	log(tenant: string): Seen[];
	release(): void;
	close(): Promise<void>;
}

const SCHEMA = {
	user: 'urn:ietf:params:scim:schemas:core:2.0:User',
	group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
	list: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
	error: 'urn:ietf:params:scim:api:messages:2.0:Error',
	patch: 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
};

type Resource = Record<string, unknown> & { id: string };

interface Tenant {
	users: Map<string, Resource>;
	groups: Map<string, Resource>;
	serial: number;
	log: Seen[];
}

const b64 = (text: string) => Buffer.from(text).toString('base64');
const b64url = (text: string) => Buffer.from(text).toString('base64url');

/** The credential in the forms the server echoes it, from the Authorization header it got. */
function echoes(authorization: string) {
	const token = authorization.replace(/^Bearer\s+/i, '');
	const half = Math.ceil(token.length / 2);
	return {
		authorization,
		token,
		base64: b64(authorization),
		base64url: b64url(token),
		percent: encodeURIComponent(token),
		// Percent-encoding is chosen per character: every byte, or all but "/" (Python's quote()).
		percentEveryByte: percentEveryByte(token),
		percentKeepingSlash: encodeURIComponent(token).replace(/%2F/g, '/'),
		json: JSON.stringify({ authorization }),
		firstHalf: token.slice(0, half),
		secondHalf: token.slice(half)
	};
}

/** A user whose every attribute holds the credential in some form. */
function mirrorUser(authorization: string): Resource {
	const e = echoes(authorization);
	return {
		schemas: [SCHEMA.user],
		id: 'mirror',
		externalId: e.percentEveryByte,
		userName: 'mirror@example.org',
		displayName: e.authorization,
		nickName: e.base64,
		title: e.percent,
		name: { givenName: e.firstHalf, familyName: e.secondHalf, formatted: e.json },
		emails: [{ value: 'mirror@example.org', primary: true, display: e.base64url }],
		active: true
	};
}

/** Headers and a status text that carry the credential. */
function echoHeaders(authorization: string): Record<string, string> {
	const e = echoes(authorization);
	return {
		'www-authenticate': `Bearer realm="hostile", error="invalid_token", token="${e.percent}"`,
		'x-echo-authorization': e.base64,
		'x-echo-token': e.percent,
		'x-echo-bytes': e.percentEveryByte
	};
}

/** A SCIM error whose every field echoes the credential, raw and encoded. */
function echoError(status: number, authorization: string) {
	const e = echoes(authorization);
	return {
		schemas: [SCHEMA.error],
		status: String(status),
		scimType: e.authorization,
		detail: `refused ${e.authorization}; base64 ${e.base64}; percent ${e.percent}; JSON ${e.json}; cut ${e.firstHalf}`,
		message: e.base64url,
		error_description: e.secondHalf,
		error_uri: `https://example.org/errors?t=${e.percentKeepingSlash}&b=${e.percentEveryByte}`,
		request: { headers: { authorization: e.authorization } }
	};
}

export async function startHostileScim(): Promise<HostileServer> {
	const tenants = new Map<string, Tenant>();
	const held = new Set<() => void>();
	const tenantOf = (name: string): Tenant => {
		let t = tenants.get(name);
		if (!t) {
			t = { users: new Map(), groups: new Map(), serial: 0, log: [] };
			tenants.set(name, t);
		}
		return t;
	};

	const server: Server = createServer((req, res) => {
		void handle(req, res).catch(() => res.destroy());
	});
	let port = 0;

	async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
		const url = new URL(req.url ?? '/', 'http://hostile');
		if (url.pathname === '/_control/log') {
			res.writeHead(200, { 'content-type': 'application/json' });
			return void res.end(JSON.stringify(tenants.get(url.searchParams.get('tenant') ?? '')?.log ?? []));
		}
		if (url.pathname === '/_control/release') {
			for (const answer of [...held]) answer();
			held.clear();
			return void res.writeHead(204).end();
		}
		const match = /^\/([^/]+)\/([^/]+)\/scim\/v2(\/.*)?$/.exec(url.pathname);
		if (!match) return void res.writeHead(404).end();
		const [, tenantName, mode, rest = '/'] = match;
		const tenant = tenantOf(tenantName);
		tenant.log.push({
			method: req.method ?? 'GET',
			host: req.headers.host ?? '',
			path: `${url.pathname}${url.search}`
		});
		const authorization = req.headers.authorization ?? '';
		let text = '';
		for await (const chunk of req) text += chunk;

		const send = (status: number, body: unknown, headers: Record<string, string> = {}, statusText?: string) => {
			const all = { 'content-type': 'application/scim+json', ...headers };
			if (statusText === undefined) res.writeHead(status, all);
			else res.writeHead(status, statusText, all);
			// A string is sent as it is (a body that is not JSON).
			res.end(body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body));
		};
		const refuse = (status: number) =>
			send(
				status,
				echoError(status, authorization),
				echoHeaders(authorization),
				`Refused ${echoes(authorization).token}`
			);

		switch (mode as HostileMode) {
			case 'deny':
				return refuse(401);
			case 'deny-empty':
				return send(401, undefined, {}, `Refused ${echoes(authorization).token}`);
			case 'hang':
				return void held.add(() => refuse(500));
			case 'stall':
				res.writeHead(200, { 'content-type': 'application/scim+json' });
				res.write(`{"schemas":["${SCHEMA.list}"],"totalResults":1,"Resources":[`);
				return void held.add(() => res.destroy());
			case 'redirect':
			case 'redirect-loop':
			case 'redirect-away': {
				const to =
					mode === 'redirect-loop'
						? `${url.pathname}${url.search}`
						: `${mode === 'redirect-away' ? `http://localhost:${port}` : ''}/${tenantName}/echo/scim/v2${rest}${url.search}`;
				return void res.writeHead(mode === 'redirect' ? 307 : 302, { location: to }).end();
			}
			case 'big-declared':
				res.writeHead(200, { 'content-type': 'application/scim+json', 'content-length': String(30 * 1024 * 1024) });
				res.write('{');
				return void held.add(() => res.destroy());
			case 'big-streamed': {
				res.writeHead(200, { 'content-type': 'application/scim+json' });
				res.write(`{"schemas":["${SCHEMA.list}"],"totalResults":1,"Resources":[{"id":"u1","userName":"`);
				const chunk = 'a'.repeat(64 * 1024);
				let sent = 0;
				const pump = () => {
					// Stops at 64 MB whatever happens: a client that never hangs up must not fill the memory.
					while (!res.destroyed && sent < 64 * 1024 * 1024) {
						sent += chunk.length;
						if (!res.write(chunk)) return void res.once('drain', pump);
					}
					res.end('"}]}');
				};
				res.on('close', () => (sent = Infinity));
				return pump();
			}
			case 'malformed':
				res.writeHead(200, { 'content-type': 'application/scim+json' });
				return void res.end(`{"schemas":["${SCHEMA.list}"],"totalResults":2,"Resources":[{"id":"u1","userName":`);
			case 'html':
				res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
				return void res.end(
					`<!doctype html><html><body><h1>Sign in</h1><p>Your request carried ${authorization}</p></body></html>`
				);
			case 'json':
				return send(200, { status: 'ok', welcome: `you sent ${authorization}` }, {}, 'OK');
			case 'slow':
				await new Promise((resolve) => setTimeout(resolve, SLOW_MS));
				break;
			case 'echo':
			case 'big-record':
				break;
			default:
				return void res.writeHead(404).end();
		}
		directory(
			tenant,
			mode as HostileMode,
			req.method ?? 'GET',
			rest,
			url.searchParams,
			text,
			authorization,
			send,
			refuse
		);
	}

	server.on('connection', (socket) => socket.unref());
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	port = (server.address() as AddressInfo).port;
	return {
		origin: `http://127.0.0.1:${port}`,
		otherOrigin: `http://localhost:${port}`,
		log: (tenant) => tenants.get(tenant)?.log ?? [],
		release: () => {
			for (const answer of [...held]) answer();
			held.clear();
		},
		close: () =>
			new Promise<void>((resolve, reject) => {
				held.clear();
				server.closeAllConnections();
				server.close((e) => (e ? reject(e) : resolve()));
			})
	};
}

type Send = (status: number, body: unknown, headers?: Record<string, string>, statusText?: string) => void;

/** The working SCIM directory behind echo, slow and big-record; `send` sends a string as it is. */
function directory(
	tenant: Tenant,
	mode: HostileMode,
	method: string,
	path: string,
	query: URLSearchParams,
	text: string,
	authorization: string,
	send: Send,
	refuse: (status: number) => void
): void {
	const notFound = () => send(404, { schemas: [SCHEMA.error], status: '404', detail: 'no such resource' });
	const failure = /fail-(400|409|500|text|huge)/.exec(text)?.[1];
	if (failure && (method === 'POST' || method === 'PATCH' || method === 'PUT')) {
		if (failure === 'text') {
			// A naive client keeps the first 200 characters: the credential starts just before them.
			return send(400, `${'Request refused by the directory. '.padEnd(190, '.')}${authorization}`, {
				'content-type': 'text/plain'
			});
		}
		if (failure === 'huge') {
			const token = echoes(authorization).token;
			const body = `${'x'.repeat(64 * 1024 - Math.floor(token.length / 2))}${token}${'y'.repeat(40 * 1024)}`;
			return send(500, body, { 'content-type': 'text/plain' });
		}
		return refuse(Number(failure));
	}

	const collection = path.startsWith('/Users') ? tenant.users : path.startsWith('/Groups') ? tenant.groups : undefined;
	const id = decodeURIComponent(path.split('/')[2] ?? '');
	if (method === 'GET' && path === '/ServiceProviderConfig')
		return send(200, {
			schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
			patch: { supported: true },
			bulk: { supported: false },
			filter: { supported: true, maxResults: 100 },
			sort: { supported: false },
			etag: { supported: false }
		});
	if (method === 'GET' && path === '/ResourceTypes')
		return send(200, {
			schemas: [SCHEMA.list],
			totalResults: 2,
			Resources: [
				{ name: 'User', endpoint: '/Users', schema: SCHEMA.user, schemaExtensions: [] },
				{ name: 'Group', endpoint: '/Groups', schema: SCHEMA.group, schemaExtensions: [] }
			]
		});
	if (method === 'GET' && path === '/Schemas')
		return send(200, { schemas: [SCHEMA.list], totalResults: 0, Resources: [] });
	if (!collection) return notFound();

	if (method === 'GET' && !id) {
		let all = [...collection.values()];
		if (collection === tenant.users) {
			all = [mirrorUser(authorization), ...all];
			if (mode === 'big-record')
				all.push({
					schemas: [SCHEMA.user],
					id: 'u-big',
					userName: 'big@example.org',
					displayName: 'b'.repeat(10 << 20)
				});
		}
		const filter = /^(\w+) eq "(.*)"$/.exec(query.get('filter') ?? '');
		if (filter) all = all.filter((r) => String(r[filter[1]] ?? '').toLowerCase() === filter[2].toLowerCase());
		const start = Math.max(1, Number(query.get('startIndex') ?? 1));
		const count = Math.max(0, Number(query.get('count') ?? 100));
		const page = all.slice(start - 1, start - 1 + count);
		return send(200, {
			schemas: [SCHEMA.list],
			totalResults: all.length,
			startIndex: start,
			itemsPerPage: page.length,
			Resources: page
		});
	}
	if (method === 'GET') {
		const found = collection.get(id);
		return found ? send(200, found) : notFound();
	}
	if (method === 'POST') {
		const body = JSON.parse(text) as Record<string, unknown>;
		const created: Resource = { ...body, id: `${collection === tenant.users ? 'u' : 'g'}${++tenant.serial}` };
		collection.set(created.id, created);
		return send(201, created);
	}
	const found = collection.get(id);
	if (!found) return notFound();
	if (method === 'DELETE') {
		collection.delete(id);
		return send(204, undefined);
	}
	if (method === 'PUT') {
		collection.set(id, { ...(JSON.parse(text) as Record<string, unknown>), id });
		return send(200, collection.get(id));
	}
	if (method === 'PATCH') {
		const { Operations = [] } = JSON.parse(text) as {
			Operations?: { op: string; path?: string; value?: unknown }[];
		};
		for (const o of Operations) {
			const members = (found.members as { value: string }[] | undefined) ?? [];
			if (o.path === 'members' && o.op.toLowerCase() === 'add')
				found.members = [...members, ...(o.value as { value: string }[])];
			else if (o.path?.startsWith('members[') && o.op.toLowerCase() === 'remove') {
				const gone = /"(.*)"/.exec(o.path)?.[1];
				found.members = members.filter((m) => m.value !== gone);
			} else if (o.path) found[o.path] = o.value;
			else Object.assign(found, o.value);
		}
		return send(200, found);
	}
	send(405, { schemas: [SCHEMA.error], status: '405', detail: 'method not allowed' });
}
