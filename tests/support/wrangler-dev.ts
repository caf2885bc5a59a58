import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A running `wrangler dev` serving build/ and the API; `stop()` ends its whole process group. */
export interface WranglerDev {
	url: string;
	pid: number;
	/** The V8 inspector of the Worker (wrangler's inspector proxy). */
	inspectorPort: number;
	/** Everything wrangler (and the Worker's console) printed so far. */
	output(): string;
	stop(): Promise<void>;
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export async function freePort(): Promise<number> {
	const server = createServer();
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	const { port } = server.address() as { port: number };
	server.close();
	await once(server, 'close');
	return port;
}

export interface WranglerDevOptions {
	timeoutMs?: number;
	/** Local state prepared beforehand (kept by stop()); default a throwaway directory. */
	persistTo?: string;
	/** The CREDENTIALS_KEY that state was sealed with; default a random one. */
	credentialsKey?: string;
	/** A copy of the project to serve instead of this one (wrangler dev restarts on every change of its sources). */
	root?: string;
	/** wrangler's --log-level (default warn; info shows reloads). */
	logLevel?: 'warn' | 'info' | 'debug';
}

/**
 * Starts node_modules/.bin/wrangler directly (never through npx, whose children outlive a kill)
 * in its own process group, with throwaway local state, and waits until /api/health answers.
 */
export async function startWranglerDev({
	timeoutMs = 60_000,
	persistTo,
	credentialsKey,
	root = ROOT,
	logLevel = 'warn'
}: WranglerDevOptions = {}): Promise<WranglerDev> {
	const port = await freePort();
	const inspectorPort = await freePort();
	const state = persistTo ?? mkdtempSync(join(tmpdir(), 'rostersync-wrangler-'));
	const child = spawn(
		join(ROOT, 'node_modules/.bin/wrangler'),
		[
			'dev',
			'--ip',
			'127.0.0.1',
			'--port',
			String(port),
			'--inspector-port',
			String(inspectorPort),
			'--persist-to',
			state,
			'--show-interactive-dev-session=false',
			'--log-level',
			logLevel,
			// Throwaway state, so a throwaway credentials key; the local bootstrap (first owner
			// token and the sandbox systems) as `npm start` enables it. A fresh clone has no .dev.vars.
			'--var',
			`CREDENTIALS_KEY:${credentialsKey ?? randomBytes(32).toString('base64')}`,
			'--var',
			'LOCAL_BOOTSTRAP:1'
		],
		{
			cwd: root,
			detached: true, // own process group: stop() kills workerd too
			stdio: ['ignore', 'pipe', 'pipe'],
			env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false', CI: '1' }
		}
	);
	let output = '';
	child.stdout?.on('data', (d) => (output += d));
	child.stderr?.on('data', (d) => (output += d));
	const url = `http://127.0.0.1:${port}`;
	let stopping = false;
	// A server that dies while the tests use it fails them with "connection refused": say why here.
	child.once('exit', (code, signal) => {
		if (!stopping)
			console.error(
				`wrangler dev exited (code ${code}, signal ${signal}) while in use; its output:\n${output.slice(-8000)}`
			);
	});
	const stop = async () => {
		stopping = true;
		await killGroup(child);
		if (!persistTo) rmSync(state, { recursive: true, force: true });
	};
	try {
		await waitForHealth(url, child, timeoutMs);
	} catch (error) {
		await stop();
		throw new Error(`${(error as Error).message}\n--- wrangler output ---\n${output}`, { cause: error });
	}
	return { url, pid: child.pid!, inspectorPort, output: () => output, stop };
}

async function waitForHealth(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		if (child.exitCode !== null) throw new Error(`wrangler dev exited with code ${child.exitCode}`);
		try {
			const res = await fetch(`${url}/api/health`);
			if (res.ok) return;
		} catch {
			// not listening yet
		}
		await new Promise((r) => setTimeout(r, 250));
	}
	throw new Error(`wrangler dev did not answer ${url}/api/health within ${timeoutMs} ms`);
}

async function killGroup(child: ChildProcess): Promise<void> {
	if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
	const exited = once(child, 'exit');
	const signal = (sig: NodeJS.Signals) => {
		try {
			process.kill(-child.pid!, sig);
		} catch {
			// the group is already gone
		}
	};
	signal('SIGTERM');
	const timer = setTimeout(() => signal('SIGKILL'), 5_000);
	await exited;
	clearTimeout(timer);
	signal('SIGKILL'); // whatever else remains in the group (workerd)
}
