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
