import pkg from '../package.json';

/** The release this Worker was built from (package.json "version"). */
export const VERSION: string = pkg.version;

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

/** A JSON response; API answers are never cached (the service worker skips /api/ too). */
export function json(body: unknown, status = 200): Response {
	return new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
}
