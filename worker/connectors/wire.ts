/**
 * How the edge talks HTTP to a system it does not trust: every request has a time limit, every
 * answer a size limit, and a redirect is followed only within the system's own origin (a system
 * must not send our credentials, or our requests, anywhere else). Connectors turn a WireError
 * into a ConnectorError naming the system, the request and the record.
 */

/** The bounds a connector keeps to; each can be lowered per connector (tests use small ones). */
export interface WireLimits {
	/** One request, from sending it to the last byte of its answer (default 30 s). */
	timeoutMs: number;
	/** A whole read of a system (every page of every collection; default 15 min). */
	scanTimeoutMs: number;
	/** One operation, with every request it takes (look-ups, read-modify-write; default 2 min). */
	operationTimeoutMs: number;
	/** One answer's body (default 20 MB); a larger one is refused, early when Content-Length says so. */
	maxBodyBytes: number;
	/** One error answer's body read for its detail (default 64 KB); the rest is not read. */
	maxErrorBytes: number;
	/** One SCIM resource, as JSON (default 256 KB). */
	maxRecordBytes: number;
	/** Redirects followed within the system's origin (default 5). */
	maxRedirects: number;
}

export const DEFAULT_LIMITS: WireLimits = {
	timeoutMs: 30_000,
	scanTimeoutMs: 15 * 60_000,
	operationTimeoutMs: 2 * 60_000,
	maxBodyBytes: 20 * 1024 * 1024,
	maxErrorBytes: 64 * 1024,
	maxRecordBytes: 256 * 1024,
	maxRedirects: 5
};

export const WIRE_FAILURES = ['timeout', 'redirect', 'too-large'] as const;
export type WireFailure = (typeof WIRE_FAILURES)[number];

/** A request the wire refused to go on with; `message` says why, in the system's terms. */
export class WireError extends Error {
	constructor(
		readonly kind: WireFailure,
		message: string
	) {
		super(message);
		this.name = 'WireError';
	}
}

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** A time limit on some work, aborting `signal` when it runs out (or when the caller's signal aborts). */
export interface Deadline {
	signal: AbortSignal;
	/** The limit ran out (not the caller's signal). */
	expired(): boolean;
	/** The work is over: the timer goes. */
	clear(): void;
}

/**
 * A time limit that is cleared once the work is done. Not AbortSignal.timeout: its timer lives
 * until it fires, and workerd allows 10,000 live timers per isolate, so a run slice sending a few
 * thousand requests, each with a 30 s limit, would soon be refused every new one.
 */
export function deadline(ms: number, caller?: AbortSignal): Deadline {
	const controller = new AbortController();
	let expired = false;
	const timer = setTimeout(() => {
		expired = true;
		controller.abort(new DOMException(`the time limit of ${duration(ms)} ran out`, 'TimeoutError'));
	}, ms);
	const follow = () => controller.abort(caller?.reason);
	if (caller?.aborted) follow();
	else caller?.addEventListener('abort', follow, { once: true });
	return {
		signal: controller.signal,
		expired: () => expired && caller?.aborted !== true,
		clear() {
			clearTimeout(timer);
			caller?.removeEventListener('abort', follow);
		}
	};
}

const REDIRECTS = [301, 302, 303, 307, 308];

/** "30 s", "200 ms", "15 min": how a limit reads in an error. */
export function duration(ms: number): string {
	if (ms < 1000) return `${ms} ms`;
	if (ms < 120_000) return `${Math.round(ms / 100) / 10} s`;
	return `${Math.round(ms / 6000) / 10} min`;
}

/** "20 MB", "256 KB", "812 bytes". */
export function size(bytes: number): string {
	if (bytes < 1024) return `${bytes} bytes`;
	if (bytes < 1024 * 1024) return `${Math.round((bytes / 1024) * 10) / 10} KB`;
	return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`;
}

/**
 * `fetch` with `redirect: 'manual'`, following redirects to the same origin only (at most
 * `maxRedirects`). A 307/308 repeats the request as it was; a 301/302/303 is followed only by a
 * GET, since a write must never be replayed as a read somewhere else. Throws WireError('redirect').
 */
export async function fetchWithinOrigin(
	fetch: FetchLike,
	url: string,
	init: RequestInit,
	maxRedirects: number
): Promise<Response> {
	const origin = new URL(url).origin;
	let current = url;
	for (let hop = 0; ; hop++) {
		const response = await fetch(current, { ...init, redirect: 'manual' });
		const location = response.headers.get('location');
		if (!REDIRECTS.includes(response.status) || location === null) return response;
		await response.body?.cancel().catch(() => {});
		let next: URL;
		try {
			next = new URL(location, current);
		} catch {
			throw new WireError('redirect', `answered ${response.status} with a Location that is not a URL`);
		}
		if (next.origin !== origin)
			throw new WireError(
				'redirect',
				`redirected to another origin (${origin} to ${next.origin}); redirects are followed only within the system's own origin`
			);
		if (hop >= maxRedirects) throw new WireError('redirect', `redirected more than ${maxRedirects} times`);
		const method = (init.method ?? 'GET').toUpperCase();
		if (method !== 'GET' && [301, 302, 303].includes(response.status))
			throw new WireError(
				'redirect',
				`answered a ${method} with ${response.status}: a write is never repeated as a GET elsewhere`
			);
		current = next.toString();
	}
}

/** A body as text, `cut` when it was longer than the limit and only its start was read. */
export interface Body {
	text: string;
	cut: boolean;
	/** Bytes read. */
	bytes: number;
}

/**
 * Reads a body (an answer's, or a request's) up to `maxBytes`: `over: 'refuse'` throws WireError('too-large') past it (before
 * reading anything when Content-Length says so), `over: 'cut'` keeps the first `maxBytes`.
 * Aborting `signal` stops the read with its reason, even while the system sends nothing.
 */
export async function readBody(
	response: Pick<Response, 'headers' | 'body'>,
	opts: { maxBytes: number; over: 'refuse' | 'cut'; signal?: AbortSignal }
): Promise<Body> {
	const { maxBytes, over, signal } = opts;
	const declared = Number(response.headers.get('content-length') ?? NaN);
	if (over === 'refuse' && declared > maxBytes) {
		await response.body?.cancel().catch(() => {});
		throw new WireError('too-large', `the answer is ${size(declared)}, over the ${size(maxBytes)} one answer may be`);
	}
	if (!response.body) return { text: '', cut: false, bytes: 0 };
	const reader = response.body.getReader();
	const decoder = new TextDecoder();
	const onAbort = () => void reader.cancel(signal?.reason).catch(() => {});
	signal?.addEventListener('abort', onAbort, { once: true });
	let text = '';
	let bytes = 0;
	try {
		signal?.throwIfAborted();
		for (;;) {
			const { done, value } = await reader.read();
			signal?.throwIfAborted();
			if (done) break;
			if (bytes + value.byteLength > maxBytes) {
				await reader.cancel().catch(() => {});
				if (over === 'refuse')
					throw new WireError('too-large', `the answer is over the ${size(maxBytes)} one answer may be`);
				text += decoder.decode(value.subarray(0, maxBytes - bytes));
				return { text, cut: true, bytes: maxBytes };
			}
			bytes += value.byteLength;
			text += decoder.decode(value, { stream: true });
		}
		return { text: text + decoder.decode(), cut: false, bytes };
	} catch (e) {
		await reader.cancel().catch(() => {});
		throw e;
	} finally {
		signal?.removeEventListener('abort', onAbort);
	}
}
