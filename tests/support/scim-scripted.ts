/**
 * A SCIM server scripted by one test file (a habit of some real server: members left out of
 * lists, nothing declared, slow answers), on 127.0.0.1, and a connector to it. `closeScripted`
 * in the file's afterEach ends it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ScimConnector, type ScimOptions } from '../../worker/connectors/scim';
import { instantClock } from './scim-suite';

export const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const SCIM_ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** What a script sees of a request: its path below /scim/v2, its query, and how to answer. */
export interface Exchange {
	req: IncomingMessage;
	path: string;
	url: URL;
	send: (status: number, body: unknown) => void;
	list: (resources: unknown[]) => void;
	notFound: () => void;
}

let server: Server | undefined;

export async function scripted(
	script: (x: Exchange) => void,
	options: Partial<ScimOptions> = {}
): Promise<ScimConnector> {
	server = createServer((req: IncomingMessage, res: ServerResponse) => {
		const url = new URL(req.url ?? '/', 'http://localhost');
		const send = (status: number, body: unknown) => {
			if (res.writableEnded || res.destroyed) return;
			res.writeHead(status, { 'content-type': 'application/scim+json' });
			res.end(JSON.stringify(body));
		};
		script({
			req,
			path: url.pathname.replace('/scim/v2', ''),
			url,
			send,
			list: (resources) => send(200, { totalResults: resources.length, Resources: resources, startIndex: 1 }),
			notFound: () => send(404, { schemas: [SCIM_ERROR], status: '404', detail: 'not found' })
		});
	});
	await new Promise<void>((ready) => server!.listen(0, '127.0.0.1', ready));
	const { port } = server.address() as AddressInfo;
	return new ScimConnector({
		systemId: 'scripted',
		baseUrl: `http://127.0.0.1:${port}/scim/v2`,
		token: 'token-for-tests',
		clock: instantClock,
		...options
	});
}

export async function closeScripted(): Promise<void> {
	const s = server;
	server = undefined;
	s?.closeAllConnections();
	await new Promise((done) => s?.close(done) ?? done(undefined));
}
