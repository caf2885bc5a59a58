/**
 * A SCIMMY server (tests/support/scim-scimmy.ts) in a process of its own, for the worker tests and
 * the edge benchmark: SCIMMY is one global object per process, so every target that must be
 * independent runs in its own process. Prints one JSON line `{ url, token, control }` when ready.
 *
 * The control server (not SCIM) lets a test look at what the target holds and start over:
 *   GET  /state   { users, groups, log }   (the store as SCIMMY keeps it, and "METHOD path" lines)
 *   POST /reset   empties the store and the log
 *   GET  /cpu     the server process's CPU time so far ({ user, system } in µs)
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startScimmy } from './scim-scimmy';

const peer = await startScimmy(process.env.SCIMMY_TOKEN || undefined);

const control = createServer((req, res) => {
	const send = (status: number, body: unknown) => {
		res.writeHead(status, { 'content-type': 'application/json' });
		res.end(JSON.stringify(body));
	};
	// CPU time the server used so far (µs): tells whether the target itself is the bottleneck.
	if (req.method === 'GET' && req.url === '/cpu') return send(200, process.cpuUsage());
	if (req.method === 'GET' && req.url === '/state')
		return send(200, { users: [...peer.users.values()], groups: [...peer.groups.values()], log: peer.log });
	if (req.method === 'POST' && req.url === '/reset') {
		peer.users.clear();
		peer.groups.clear();
		peer.log.length = 0;
		return send(200, { ok: true });
	}
	send(404, { error: 'not-found' });
});
await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
const { port } = control.address() as AddressInfo;

console.log(JSON.stringify({ url: peer.url, token: peer.token, control: `http://127.0.0.1:${port}` }));

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
// Never outlive the process that started it (a test run or a bench that was killed).
const parent = process.ppid;
setInterval(() => {
	if (process.ppid !== parent) void stop();
}, 1000).unref();
