// `npm start`: build the PWA, then serve it and the API from one `wrangler dev` process, and print
// where it runs with the owner token, and a one-time sign-in link with its QR code for a phone.
//   PORT=8787 (default) · extra arguments go to wrangler, e.g. `npm start -- --test-scheduled`
//   HOST=0.0.0.0 listens on every interface, so a phone on the same network can open the link
//   (it then names this machine's network address); PUBLIC_URL=https://… names another way in
//   (a tunnel) for the link instead.
//
// First start: .dev.vars gets a random CREDENTIALS_KEY and LOCAL_BOOTSTRAP=1; once the Worker
// answers, POST /api/bootstrap creates the owner token and the demo systems (only while no owner
// exists). Tokens are stored hashed, so the plaintext is kept in .wrangler/owner-token (mode 600,
// gitignored, next to the local state it belongs to) and printed again on later starts.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { fileURLToPath } from 'node:url';
import { renderUnicodeCompact } from 'uqr';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name) => `${root}node_modules/.bin/${name}`;
const port = process.env.PORT ?? '8787';
const host = process.env.HOST ?? '127.0.0.1';
const origin = `http://127.0.0.1:${port}`;
/** Where a phone reaches the app: the tunnel named, else this machine's address when listening on it. */
const publicOrigin = process.env.PUBLIC_URL ?? (host === '0.0.0.0' ? `http://${lanAddress()}:${port}` : origin);
const tokenFile = `${root}.wrangler/owner-token`;

ensureDevVars(`${root}.dev.vars`);

const build = spawnSync(bin('vite'), ['build'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const env = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false' };
const wrangler = spawn(bin('wrangler'), ['dev', '--ip', host, '--port', port, ...process.argv.slice(2)], {
	cwd: root,
	stdio: 'inherit',
	env
});
let exited = false;
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => wrangler.kill(signal));
wrangler.on('exit', (code, signal) => {
	exited = true;
	process.exit(code ?? (signal ? 1 : 0));
});

announce().catch((e) =>
	console.error(`Rostersync: could not finish the first start: ${e instanceof Error ? e.message : e}`)
);

/** Waits for the Worker, bootstraps on the first start, and prints the one line to know. */
async function announce() {
	await waitForHealth();
	const token = await ownerToken();
	if (token) {
		console.log(`\nRostersync is running at ${origin} — owner token: ${token}\n`);
		await printSignInLink(token);
	} else
		console.log(
			`\nRostersync is running at ${origin} — no owner token is known here: an owner exists, but .wrangler/owner-token is missing or no longer valid. Delete .wrangler/state for a fresh start.\n`
		);
}

async function waitForHealth() {
	const deadline = Date.now() + 120_000;
	for (;;) {
		if (exited) throw new Error('wrangler exited');
		try {
			const res = await fetch(`${origin}/api/health`);
			if (res.ok) return;
		} catch {
			// not up yet
		}
		if (Date.now() > deadline) throw new Error(`${origin}/api/health did not answer within 120 s`);
		await new Promise((resolve) => setTimeout(resolve, 250));
	}
}

/** The owner token: a new one from the bootstrap on the first start, else the one kept locally. */
async function ownerToken() {
	const res = await fetch(`${origin}/api/bootstrap`, { method: 'POST' });
	if (res.status === 201) {
		const { token } = await res.json();
		mkdirSync(`${root}.wrangler`, { recursive: true });
		writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
		chmodSync(tokenFile, 0o600);
		return token;
	}
	if (res.status !== 409 && res.status !== 404) {
		const body = await res.text();
		throw new Error(`POST /api/bootstrap answered ${res.status}: ${body.slice(0, 300)}`);
	}
	// An owner exists already (409), or bootstrap is off (404): the token kept from the first start.
	if (!existsSync(tokenFile)) return undefined;
	const kept = readFileSync(tokenFile, 'utf8').trim();
	const me = await fetch(`${origin}/api/me`, { headers: { authorization: `Bearer ${kept}` } });
	return me.ok ? kept : undefined;
}

/**
 * A one-time sign-in link for the owner's phone, with its QR code: the code is exchanged once,
 * within minutes, for an owner token of its own (so the phone can be signed out on the Access
 * screen without touching this one).
 */
async function printSignInLink(token) {
	const res = await fetch(`${origin}/api/sign-in-codes`, {
		method: 'POST',
		headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
		body: JSON.stringify({ name: 'local owner (sign-in link)', role: 'owner' })
	});
	if (res.status !== 201) throw new Error(`POST /api/sign-in-codes answered ${res.status}`);
	const { code, expiresAt } = await res.json();
	// The same form as the app's (src/lib/api/sign-in.ts): the code in the fragment, never sent to a server.
	const link = `${publicOrigin}/#sign-in=${code}`;
	const until = new Date(expiresAt).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
	console.log(`Sign in on a phone: scan this, or open the link (once, until ${until}):\n${link}\n`);
	console.log(renderUnicodeCompact(link, { border: 2 }));
	if (publicOrigin === origin)
		console.log(
			`\n(A phone reaches this machine with HOST=0.0.0.0 npm start on the same network, or PUBLIC_URL=https://… through a tunnel.)\n`
		);
}

/** This machine's first IPv4 address on a network (not loopback), for a phone on the same one. */
function lanAddress() {
	for (const list of Object.values(networkInterfaces()))
		for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
	return '127.0.0.1';
}

/** Creates .dev.vars with a random CREDENTIALS_KEY and LOCAL_BOOTSTRAP=1, or adds what it lacks. */
function ensureDevVars(path) {
	let text = existsSync(path)
		? readFileSync(path, 'utf8')
		: '# Local secrets for wrangler dev. Never commit this file.\n';
	const added = [];
	if (!/^CREDENTIALS_KEY=\S+/m.test(text)) {
		text = text.replace(/^CREDENTIALS_KEY=.*\n?/m, '');
		text += `${text && !text.endsWith('\n') ? '\n' : ''}CREDENTIALS_KEY=${randomBytes(32).toString('base64')}\n`;
		added.push('CREDENTIALS_KEY');
	}
	if (!/^LOCAL_BOOTSTRAP=/m.test(text)) {
		text += `${text && !text.endsWith('\n') ? '\n' : ''}LOCAL_BOOTSTRAP=1\n`;
		added.push('LOCAL_BOOTSTRAP');
	}
	if (added.length === 0) return;
	writeFileSync(path, text, { mode: 0o600 });
	console.log(`Wrote ${added.join(' and ')} to ${path}`);
}
