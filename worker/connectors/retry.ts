/**
 * Rate limits and transient failures: 429/503 honour Retry-After (seconds or an HTTP date),
 * otherwise exponential backoff with full jitter; network errors retry the same way. Bounded:
 * after `attempts` tries the last answer is returned (or the network error thrown) to the caller.
 */

/** Time, waiting and chance, injectable so tests run without real time passing. */
export interface Clock {
	now(): number;
	sleep(ms: number, signal?: AbortSignal): Promise<void>;
	/** A number in [0, 1). */
	random(): number;
}

export const realClock: Clock = {
	now: () => Date.now(),
	random: () => Math.random(),
	sleep: (ms, signal) =>
		new Promise((resolve, reject) => {
			if (signal?.aborted) return reject(signal.reason);
			const timer = setTimeout(() => {
				signal?.removeEventListener('abort', onAbort);
				resolve();
			}, ms);
			const onAbort = () => {
				clearTimeout(timer);
				reject(signal?.reason);
			};
			signal?.addEventListener('abort', onAbort, { once: true });
		})
};

export interface RetryPolicy {
	/** Tries in all, the first included. */
	attempts: number;
	/** Backoff before retry n (0-based) is random() * min(capMs, baseMs * 2^n). */
	baseMs: number;
	capMs: number;
	/** A Retry-After longer than this is not waited for: the answer goes back to the caller. */
	maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseMs: 500, capMs: 30_000, maxRetryAfterMs: 120_000 };

/** Statuses that mean "not now": retried. */
export const RETRY_STATUSES: readonly number[] = [429, 503];

/** Milliseconds a Retry-After header asks to wait (RFC 9110 §10.2.3), or undefined if absent/garbled. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
	if (value == null) return undefined;
	const text = value.trim();
	if (/^\d+$/.test(text)) return Number(text) * 1000;
	const at = Date.parse(text);
	if (Number.isNaN(at)) return undefined;
	return Math.max(0, at - now);
}

/** Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"): spreads retrying clients apart. */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number): number {
	return Math.floor(random() * Math.min(policy.capMs, policy.baseMs * 2 ** retry));
}

/** The request never got an answer (after retries): DNS, refused connection, reset. */
export class NetworkError extends Error {
	constructor(cause: unknown) {
		super(cause instanceof Error ? cause.message : String(cause), { cause });
		this.name = 'NetworkError';
	}
}

const isAbort = (e: unknown, signal?: AbortSignal) =>
	signal?.aborted === true || (e instanceof Error && (e.name === 'AbortError' || e.name === 'TimeoutError'));

/**
 * Sends a request (`send` builds a fresh one each try) until it gets an answer that is not
 * 429/503, or the attempts run out. Aborting the signal stops at once with its reason. An error
 * `fatal` accepts (a timeout, a refused redirect) is thrown at once: trying again cannot help.
 */
export async function sendWithRetry(
	send: () => Promise<Response>,
	opts: { clock: Clock; policy: RetryPolicy; signal?: AbortSignal; fatal?: (e: unknown) => boolean }
): Promise<Response> {
	const { clock, policy, signal, fatal } = opts;
	for (let attempt = 0; ; attempt++) {
		signal?.throwIfAborted();
		const last = attempt >= policy.attempts - 1;
		let response: Response;
		try {
			response = await send();
		} catch (e) {
			if (fatal?.(e)) throw e;
			if (isAbort(e, signal)) throw signal?.reason ?? e;
			if (last) throw new NetworkError(e);
			await clock.sleep(backoffDelay(attempt, policy, clock.random), signal);
			continue;
		}
		if (!RETRY_STATUSES.includes(response.status) || last) return response;
		const asked = parseRetryAfter(response.headers.get('retry-after'), clock.now());
		if (asked !== undefined && asked > policy.maxRetryAfterMs) return response;
		// Free the connection before waiting.
		await response.body?.cancel().catch(() => {});
		await clock.sleep(asked ?? backoffDelay(attempt, policy, clock.random), signal);
	}
}
