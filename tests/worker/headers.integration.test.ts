/**
 * Every answer of the Worker's API carries the security headers: whatever the route, status or
 * body (JSON, an error, an empty 204, an event stream, a sandbox's SCIM answer).
 */
import { exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { API_SECURITY_HEADERS } from '../../worker/http';
import { ORIGIN, api, expectJson, tokenFor } from './support';

const expectSecured = (res: Response) => {
	expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
	expect(res.headers.get('x-content-type-options')).toBe('nosniff');
	expect(res.headers.get('referrer-policy')).toBe('no-referrer');
	expect(res.headers.get('x-frame-options')).toBe('DENY');
	expect(Object.fromEntries(Object.keys(API_SECURITY_HEADERS).map((k) => [k, res.headers.get(k)]))).toEqual(
		API_SECURITY_HEADERS
	);
};

describe('API security headers', () => {
	let owner: string;
	beforeAll(async () => {
		owner = await tokenFor('owner');
	});

	it.each([
		{ case: 'the public health check', path: '/api/health', status: 200 },
		{ case: 'a route without a credential', path: '/api/me', status: 401 },
		{ case: 'an unknown path', path: '/api/nope', status: 404 },
		{ case: 'a path that is only the prefix', path: '/api', status: 404 }
	])('on $case', async ({ path, status }) => {
		const res = await exports.default.fetch(`${ORIGIN}${path}`);
		expect(res.status).toBe(status);
		expectSecured(res);
	});

	it('on an authenticated answer, a refusal, a 405 and a 204', async () => {
		const me = await api('/api/me', { token: owner });
		expect(me.status).toBe(200);
		expectSecured(me);
		const refused = await api('/api/systems', { token: owner, body: { name: '' } });
		expect(refused.status).toBe(400);
		expectSecured(refused);
		const wrongMethod = await api('/api/health', { method: 'DELETE' });
		expect(wrongMethod.status).toBe(405);
		expectSecured(wrongMethod);
		const issued = await expectJson(
			api('/api/tokens', { token: owner, body: { name: 'short-lived', role: 'viewer' } }),
			201
		);
		const revoked = await api(`/api/tokens/${issued.id}`, { method: 'DELETE', token: owner });
		expect(revoked.status).toBe(204);
		expectSecured(revoked);
	});
});
