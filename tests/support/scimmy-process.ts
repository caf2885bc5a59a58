/** Starts tests/support/scimmy-server.ts in a child process and stops it by its process id. */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import type { ScimmyTarget } from './scimmy-target';

export type { ScimmyTarget };

export interface ScimmyProcess extends ScimmyTarget {
	pid: number;
	stop(): Promise<void>;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export async function startScimmyProcess(timeoutMs = 30_000): Promise<ScimmyProcess> {
	// node itself, not npx/tsx wrappers: the pid is the server's, so a kill reaches it.
	const child = spawn(process.execPath, ['--import', 'tsx', 'tests/support/scimmy-server.ts'], {
		cwd: ROOT,
		stdio: ['ignore', 'pipe', 'pipe']
	});
	let errors = '';
	child.stderr?.on('data', (d) => (errors += d));
	const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
	const ready = new Promise<ScimmyTarget>((resolve, reject) => {
		const lines = createInterface({ input: child.stdout! });
		lines.once('line', (line) => {
			try {
				resolve(JSON.parse(line));
			} catch (e) {
				reject(e);
			}
		});
		child.once('exit', (code) => reject(new Error(`SCIMMY server exited (${code}): ${errors}`)));
		setTimeout(
			() => reject(new Error(`SCIMMY server did not start within ${timeoutMs} ms: ${errors}`)),
			timeoutMs
		).unref();
	});
	const target = await ready;
	return {
		...target,
		pid: child.pid!,
		stop: async () => {
			if (child.exitCode !== null || child.signalCode !== null) return;
			child.kill('SIGTERM');
			const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
			await exited;
			clearTimeout(timer);
		}
	};
}
