/** Starts the plain SCIM peer (tests/support/scim-plain-server.ts) in a child process and stops it by its process id. */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { PlainQuirks, PlainTarget } from './scim-peers';
import type { ScimPeer } from './scim-scimmy';

export interface PlainProcess extends PlainTarget, ScimPeer {
	pid: number;
	/** Same as close(): stops the process. */
	stop(): Promise<void>;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export async function startPlainScimProcess(
	quirks: Partial<PlainQuirks> = {},
	timeoutMs = 30_000
): Promise<PlainProcess> {
	// node itself, not npx/tsx wrappers: the pid is the server's, so a kill reaches it.
	const child = spawn(process.execPath, ['--import', 'tsx', 'tests/support/scim-plain-server.ts'], {
		cwd: ROOT,
		env: { ...process.env, PLAIN_QUIRKS: JSON.stringify(quirks) },
		stdio: ['ignore', 'pipe', 'pipe']
	});
	let errors = '';
	child.stderr?.on('data', (d) => (errors += d));
	const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
	const target = await new Promise<PlainTarget>((resolve, reject) => {
		const lines = createInterface({ input: child.stdout! });
		lines.once('line', (line) => {
			try {
				resolve(JSON.parse(line));
			} catch (e) {
				reject(e);
			}
		});
		child.once('exit', (code) => reject(new Error(`plain SCIM server exited (${code}): ${errors}`)));
		setTimeout(
			() => reject(new Error(`plain SCIM server did not start within ${timeoutMs} ms: ${errors}`)),
			timeoutMs
		).unref();
	});
	const stop = async () => {
		if (child.exitCode !== null || child.signalCode !== null) return;
		child.kill('SIGTERM');
		const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
		await exited;
		clearTimeout(timer);
	};
	return { ...target, pid: child.pid!, stop, close: stop };
}
