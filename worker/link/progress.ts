/**
 * A run's progress as Server-Sent Events: `event: progress` with `{ status, tally }` whenever the
 * counts move, until the run is no longer running. The stream polls the link's Durable Object
 * (one cheap RPC: the counters are columns of the run's row) instead of being pushed from it: a
 * run continues in alarm after alarm, possibly in fresh instances, and a poller survives that.
 */
import type { RunProgress } from './types';

export interface ProgressOptions {
	/** Between two polls. */
	intervalMs?: number;
	/** A comment line at least this often keeps proxies from closing an idle stream. */
	heartbeatMs?: number;
	signal?: AbortSignal;
	sleep?: (ms: number) => Promise<void>;
}

const encoder = new TextEncoder();
const frame = (p: RunProgress) => encoder.encode(`event: progress\ndata: ${JSON.stringify(p)}\n\n`);

/** The SSE body for one run; `poll` answers null when the run is gone. */
export function progressStream(
	poll: () => Promise<RunProgress | null>,
	options: ProgressOptions = {}
): ReadableStream<Uint8Array> {
	const interval = options.intervalMs ?? 250;
	const heartbeat = options.heartbeatMs ?? 15_000;
	const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
	let last = '';
	let lastSent = 0;
	let first = true;
	return new ReadableStream<Uint8Array>({
		async pull(controller) {
			if (first) {
				first = false;
				// Tells EventSource how soon to reconnect if the connection drops.
				controller.enqueue(encoder.encode('retry: 2000\n\n'));
			}
			for (;;) {
				if (options.signal?.aborted) return controller.close();
				const progress = await poll();
				if (!progress) return controller.close();
				const text = JSON.stringify(progress);
				if (text !== last) {
					last = text;
					lastSent = Date.now();
					controller.enqueue(frame(progress));
					if (progress.status !== 'running') controller.close();
					return;
				}
				if (Date.now() - lastSent >= heartbeat) {
					lastSent = Date.now();
					controller.enqueue(encoder.encode(': still running\n\n'));
					return;
				}
				await sleep(interval);
			}
		}
	});
}
