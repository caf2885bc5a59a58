/** Helpers for the edge's workerd tests: tokens, requests through the real Worker, unique names. */
import { env, exports } from 'cloudflare:workers';
import type { AccountRole } from '../../worker/auth';

export const ORIGIN = 'http://rostersync.test';

let serial = 0;
/** A name no other test of the file uses. */
export const unique = (label: string) => `${label}-${++serial}-${crypto.randomUUID().slice(0, 6)}`;

/** Issues a token straight in the AccountDO (as an owner would through the API). */
export async function tokenFor(role: AccountRole, name = unique(role)): Promise<string> {
	return (await env.ACCOUNT.getByName('account').issueToken({ name, role })).token;
}

export interface Call {
	method?: string;
	token?: string;
	body?: unknown;
	headers?: Record<string, string>;
}

/** A request to the real Worker (same isolate as the test). */
export function api(path: string, call: Call = {}): Promise<Response> {
	const headers: Record<string, string> = { ...call.headers };
	if (call.token) headers.authorization = `Bearer ${call.token}`;
	if (call.body !== undefined) headers['content-type'] ??= 'application/json';
	return exports.default.fetch(`${ORIGIN}${path}`, {
		method: call.method ?? (call.body === undefined ? 'GET' : 'POST'),
		headers,
		body: call.body === undefined ? undefined : typeof call.body === 'string' ? call.body : JSON.stringify(call.body)
	});
}

/** The JSON of a response whose status must be `status`. */
export async function expectJson<T = any>(response: Response | Promise<Response>, status: number): Promise<T> {
	const res = await response;
	const text = await res.text();
	if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${text}`);
	return (text ? JSON.parse(text) : undefined) as T;
}
