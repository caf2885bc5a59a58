/**
 * A sandbox's SCIM over RPC: the request and its answer as plain data, so that the edge never
 * passes a Response through a Durable Object's `stub.fetch()`. In wrangler dev 4.86 (workerd
 * 1.20260426) every Response that went through `stub.fetch()` stayed in the heap: 20 readers and a
 * provisioning run, a snapshot read page after page, grew workerd by about 75 MB/s until V8
 * aborted (STACK.md). The SandboxDO's `scim` method turns a SandboxRequest into a Request for its
 * SCIM handler and the handler's Response into a SandboxResponse (worker/systems/connect.ts,
 * `sandboxFetch`, is the other end).
 */

/** One SCIM request as plain data. */
export interface SandboxRequest {
	method: string;
	/** The request's path and query, e.g. `/scim/v2/Users?startIndex=1&count=500`. */
	path: string;
	/** The headers the handler reads: authorization, accept, content-type and -length, the public base. */
	headers: Record<string, string>;
	body?: string | ReadableStream<Uint8Array>;
}

/** One SCIM answer as plain data; `body` is null for an answer without one (a 204). */
export interface SandboxResponse {
	status: number;
	headers: Record<string, string>;
	/** Text when small; a stream when large (a page of users, a large group), so no RPC message holds it whole. */
	body: string | ReadableStream<Uint8Array> | null;
}

/** Answers longer than this (UTF-16 code units) are returned as a stream. */
export const STREAM_OVER = 64 * 1024;

/** The origin of the Request the handler sees (`meta.location` shows it when no public base is sent). */
const RPC_ORIGIN = 'https://sandbox.internal';

/** The Request a SandboxRequest stands for. */
export function toRequest(req: SandboxRequest): Request {
	const method = req.method.toUpperCase();
	const body = method === 'GET' || method === 'HEAD' ? undefined : req.body;
	// Always below RPC_ORIGIN: a path of `@host/…` would otherwise name another host.
	const path = req.path.startsWith('/') ? req.path : `/${req.path}`;
	return new Request(`${RPC_ORIGIN}${path}`, { method, headers: req.headers, body: body ?? null });
}

/**
 * The handler's answer to `request` as plain data. A request body the handler did not read (a 401
 * comes before any) is cancelled, so a stream the caller sent is released either way.
 */
export async function toPlain(request: Request, response: Response): Promise<SandboxResponse> {
	if (!request.bodyUsed) await request.body?.cancel().catch(() => {});
	const { status } = response;
	const headers = Object.fromEntries(response.headers);
	if (response.body === null) return { status, headers, body: null };
	const text = await response.text();
	return { status, headers, body: text.length > STREAM_OVER ? new Response(text).body! : text };
}
