import pkg from '../package.json';

/** The release this Worker was built from (package.json "version"). */
export const VERSION: string = pkg.version;

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

/** A JSON response; API answers are never cached (the service worker skips /api/ too). */
export function json(body: unknown, status = 200): Response {
	return jsonText(JSON.stringify(body), status);
}

/** JSON already serialized (an answer shared between requests). */
export function jsonText(text: string, status = 200): Response {
	return new Response(text, { status, headers: JSON_HEADERS });
}

/**
 * Sent with every answer of the Worker itself (the API): JSON is never a page, so it may load
 * nothing, be framed by nobody, be sniffed into nothing else and send no referrer. The PWA's files
 * get theirs from static/_headers (Workers Static Assets applies it; this Worker never sees them).
 */
export const API_SECURITY_HEADERS: Readonly<Record<string, string>> = {
	'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
	'x-content-type-options': 'nosniff',
	'x-frame-options': 'DENY',
	'referrer-policy': 'no-referrer'
};

/** `response` with the API's security headers. */
export function withSecurityHeaders(response: Response): Response {
	const secure = (r: Response) => {
		for (const [name, value] of Object.entries(API_SECURITY_HEADERS)) r.headers.set(name, value);
		return r;
	};
	try {
		return secure(response);
	} catch {
		// Headers of a response that came from fetch() (a Durable Object's, a system's) are
		// immutable: copy it; the body streams through.
		return secure(new Response(response.body, response));
	}
}

/**
 * The entity tags an If-None-Match header names (RFC 9110 §13.1.2), as they were sent (quoted,
 * weak ones without their W/). At most 8, none longer than 200 characters: anything else in the
 * header is ignored, not trusted.
 */
export function requestedTags(request: Request): string[] {
	const header = request.headers.get('if-none-match');
	if (!header) return [];
	return header
		.split(',')
		.map((t) => t.trim().replace(/^W\//, ''))
		.filter((t) => /^"[\x21\x23-\x7e]{1,198}"$/.test(t))
		.slice(0, 8);
}

/** A stored answer and its entity tag; no body when the caller holds that answer already. */
export interface TaggedAnswer {
	etag: string;
	body: ReadableStream<Uint8Array> | Uint8Array | string | null;
	/** The body is gzipped (asked for by a caller that takes gzip: see acceptsGzip). */
	encoding?: 'gzip';
}

/**
 * A stored answer as HTTP: 304 without a body when the caller named its tag, else the JSON with
 * its ETag. Still no-store: the app keeps its copy in IndexedDB (erased at sign-out), never in
 * the browser's HTTP cache, and sends the tag back itself. A gzipped body goes out as it is.
 */
export function taggedJson(answer: TaggedAnswer): Response {
	const headers: Record<string, string> = { ...JSON_HEADERS, etag: answer.etag };
	if (answer.body === null) return new Response(null, { status: 304, headers });
	if (!answer.encoding) return new Response(answer.body, { headers });
	headers['content-encoding'] = answer.encoding;
	headers.vary = 'accept-encoding';
	// Manual: the runtime sends the bytes as they are instead of compressing them a second time.
	return new Response(answer.body, { headers, encodeBody: 'manual' });
}

/**
 * Whether the caller takes a gzipped answer (RFC 9110 §12.5.3): gzip (or x-gzip, or *) named in
 * Accept-Encoding without q=0. Browsers and fetch() in Node always do.
 */
export function acceptsGzip(request: Request): boolean {
	const header = request.headers.get('accept-encoding');
	if (!header) return false;
	return header.split(',').some((item) => {
		const [coding, ...params] = item.split(';').map((s) => s.trim().toLowerCase());
		if (coding !== 'gzip' && coding !== 'x-gzip' && coding !== '*') return false;
		const q = params.find((p) => p.startsWith('q='));
		return q === undefined || Number(q.slice(2)) > 0;
	});
}

/** `plain` gzipped as it is read. */
export function gzip(plain: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
	const packer = new CompressionStream('gzip');
	// Pumped by hand, not piped: a failed read errors the packed stream, where its reader sees it,
	// and nowhere else (workerd's pipeTo reports it a second time, as an unhandled rejection).
	const writer = packer.writable.getWriter();
	const reader = plain.getReader();
	void (async () => {
		try {
			for (;;) {
				const { done, value } = await reader.read();
				if (done) break;
				await writer.write(value);
			}
			await writer.close();
		} catch (e) {
			await writer.abort(e).catch(() => undefined);
		}
	})();
	return packer.readable as ReadableStream<Uint8Array>;
}
