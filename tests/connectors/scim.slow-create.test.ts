/**
 * A slow SCIM server that makes the user, then answers the POST after the time limit. The create
 * happened: reported as failed, the next plan would adopt the record as someone else's and never
 * invite the newcomer. Like a 409 for our own earlier create, the record is found by its shared
 * identifier; a create the server did not make stays a failure.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ScimConnector } from '../../worker/connectors/scim';
import { ConnectorError } from '../../worker/connectors/types';
import { instantClock } from '../support/scim-suite';
import { ops, resolve } from '../support/scim-ops';

const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

/** The server answers a create this late, well after the connector's limit (TIMEOUT_MS). */
const ANSWER_MS = 5_000;
/**
 * The user is stored as soon as the body is in, the connector looks for it after this: a margin
 * for a busy test process, whose server shares the event loop with the connector.
 */
const TIMEOUT_MS = 1_000;

let server: Server | undefined;
const answers: NodeJS.Timeout[] = [];
afterEach(async () => {
	for (const t of answers.splice(0)) clearTimeout(t);
	server?.closeAllConnections();
	await new Promise((done) => server?.close(done) ?? done(undefined));
	server = undefined;
});

/** A server answering every POST /Users after ANSWER_MS; `makes`: whether it stores the user first. */
async function slowServer(makes: boolean): Promise<{ c: ScimConnector; users: Record<string, unknown>[] }> {
	const users: Record<string, unknown>[] = [];
	server = createServer((req, res) => {
		const url = new URL(req.url ?? '/', 'http://localhost');
		const path = url.pathname.replace('/scim/v2', '');
		const send = (status: number, body: unknown) => {
			if (res.writableEnded) return;
			res.writeHead(status, { 'content-type': 'application/scim+json' });
			res.end(JSON.stringify(body));
		};
		const list = (resources: unknown[]) =>
			send(200, { totalResults: resources.length, Resources: resources, startIndex: 1 });
		if (path === '/ServiceProviderConfig')
			return send(200, { patch: { supported: true }, filter: { supported: true } });
		if (path === '/ResourceTypes') return list([{ name: 'User', endpoint: '/Users', schema: CORE_USER }]);
		if (path === '/Users' && req.method === 'POST') {
			let text = '';
			req.on('data', (c) => (text += c));
			req.on('end', () => {
				const created = { ...JSON.parse(text), id: `u${users.length + 1}` };
				if (makes) users.push(created);
				answers.push(setTimeout(() => send(makes ? 201 : 503, created), ANSWER_MS));
			});
			return;
		}
		if (path === '/Users') {
			// Only `eq` filters, as many servers.
			const m = /^(\w+) eq "(.*)"$/.exec(url.searchParams.get('filter') ?? '');
			return list(m ? users.filter((u) => u[m[1]] === m[2]) : users);
		}
		return send(404, { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '404', detail: 'not found' });
	});
	await new Promise<void>((ready) => server!.listen(0, '127.0.0.1', ready));
	const { port } = server.address() as AddressInfo;
	const c = new ScimConnector({
		systemId: 'slow',
		baseUrl: `http://127.0.0.1:${port}/scim/v2`,
		token: 'token-for-tests',
		clock: instantClock,
		limits: { timeoutMs: TIMEOUT_MS }
	});
	return { c, users };
}

const ann = ops.createPerson({ externalId: 'E-1', displayName: 'Ann', email: 'ann@example.org' });

describe('a create answered after the time limit', () => {
	it('that the server made: the record it made, not a failure', async () => {
		const { c, users } = await slowServer(true);
		expect(await c.apply(ann, resolve)).toEqual({ id: 'u1' });
		expect(users).toHaveLength(1);
	});

	it('that the server did not make: still the time-out, naming the record', async () => {
		const { c, users } = await slowServer(false);
		const e = await c.apply(ann, resolve).catch((x: unknown) => x);
		expect(e).toBeInstanceOf(ConnectorError);
		expect(e).toMatchObject({ code: 'unreachable', recordId: 'E-1' });
		expect(users).toEqual([]);
	});
});
