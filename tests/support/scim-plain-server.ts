/**
 * The plain SCIM peer (tests/support/scim-plain.ts) in a process of its own: SCIMMY is one global
 * object per process. Its quirks come as JSON in PLAIN_QUIRKS (missing ones take PLAIN_DEFAULTS).
 * Prints one JSON line `{ url, token, control, quirks }` (a PlainTarget) when ready; the control
 * server is described with PlainTarget (tests/support/scim-peers.ts).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startPlainScim, type PlainQuirks } from './scim-plain';

const peer = await startPlainScim({
	...(JSON.parse(process.env.PLAIN_QUIRKS || '{}') as Partial<PlainQuirks>),
	token: process.env.PLAIN_TOKEN || undefined
});

const control = createServer(async (req, res) => {
	const send = (status: number, body: unknown) => {
		res.writeHead(status, { 'content-type': 'application/json' });
		res.end(JSON.stringify(body));
	};
	if (req.method === 'GET' && req.url === '/state')
		return send(200, { users: [...peer.users.values()], groups: [...peer.groups.values()], log: peer.log });
	if (req.method === 'POST' && req.url === '/reset') {
		peer.reset();
		return send(200, { ok: true });
	}
	if (req.method === 'POST' && req.url === '/seed') {
		let text = '';
		for await (const chunk of req) text += chunk;
		try {
			return send(200, peer.seed(JSON.parse(text || '{}')));
		} catch (e) {
			return send(400, { error: e instanceof Error ? e.message : String(e) });
		}
	}
	send(404, { error: 'not-found' });
});
await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
const { port } = control.address() as AddressInfo;

console.log(
	JSON.stringify({ url: peer.url, token: peer.token, control: `http://127.0.0.1:${port}`, quirks: peer.quirks })
);

const stop = async () => {
	// Exit even if a connection is slow to close.
	setTimeout(() => process.exit(0), 2000).unref();
	control.closeAllConnections();
	control.close();
	await peer.close();
	process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// Never outlive the process that started it (a test run that was killed).
const parent = process.ppid;
setInterval(() => {
	if (process.ppid !== parent) void stop();
}, 1000).unref();
