import { env } from 'cloudflare:workers';
import { createExecutionContext, runInDurableObject } from 'cloudflare:test';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import worker from '../../worker/index';
import { API_ROUTES, type Route } from '../../worker/api/router';
import { ACCOUNT_ROLES, authenticate, roleAtLeast, type AccountRole } from '../../worker/auth';
import { accessConfig, clearAccessKeys, verifyAccessJwt } from '../../worker/auth/access';
import { base64urlEncode, sha256Hex } from '../../worker/crypto';
import type { Env } from '../../worker/env';
import { ORIGIN, api, expectJson, tokenFor, unique } from './support';

/** A concrete path for a route pattern. */
const pathOf = (route: Route) => route.path.replace(/:(\w+)/g, 'some-$1').replace(/\/\*$/, '/Users');
const protectedRoutes = API_ROUTES.filter((r) => r.role !== 'public');

describe('every route but the public ones needs a credential', () => {
	it('has routes to check', () => {
		expect(protectedRoutes.length).toBeGreaterThanOrEqual(10);
		expect(
			API_ROUTES.filter((r) => r.role === 'public')
				.map((r) => r.path)
				.sort()
		).toEqual(
			[
				'/api/bootstrap',
				'/api/health',
				// Signed with the link's webhook secret instead (tests/worker/incidents.integration.test.ts).
				'/api/links/:id/incidents',
				'/api/sandbox/:systemId/scim/v2',
				'/api/sandbox/:systemId/scim/v2/*',
				'/api/sign-in'
			].sort()
		);
	});

	it.each(protectedRoutes.map((r) => [`${r.method} ${r.path}`, r] as const))(
		'%s: 401 without, with a malformed and with an unknown token',
		async (_, route) => {
			const method = route.method === 'ANY' ? 'GET' : route.method;
			const variants: Record<string, string>[] = [
				{},
				{ authorization: 'Basic dXNlcjpwYXNz' },
				{ authorization: 'Bearer not-a-token' },
				{ authorization: 'Bearer' }
			];
			for (const headers of variants) {
				const res = await api(pathOf(route), { method, headers });
				const body = await expectJson(res, 401);
				expect(body).toMatchObject({ error: 'unauthorized', message: expect.any(String) });
				expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
			}
		}
	);

	it('GET /api/health answers without a credential', async () => {
		expect(await expectJson(api('/api/health'), 200)).toMatchObject({ ok: true });
	});
});

describe('roles: owner > reviewer > viewer', () => {
	const tokens = {} as Record<AccountRole, string>;
	beforeAll(async () => {
		for (const role of ACCOUNT_ROLES) tokens[role] = await tokenFor(role);
	});

	const cases = protectedRoutes.flatMap((route) =>
		ACCOUNT_ROLES.filter((role) => !roleAtLeast(role, route.role as AccountRole)).map(
			(role) => [`${route.method} ${route.path} as ${role}`, route, role] as const
		)
	);
	it('covers every role below each route', () => expect(cases.length).toBeGreaterThan(10));

	it.each(cases)('%s: 403', async (_, route, role) => {
		const method = route.method === 'ANY' ? 'GET' : route.method;
		const body = await expectJson(
			api(pathOf(route), {
				method,
				token: tokens[role],
				body: method === 'GET' || method === 'DELETE' ? undefined : {}
			}),
			403
		);
		expect(body).toMatchObject({ error: 'forbidden', message: expect.stringContaining(`is a ${role}`) });
	});

	it('GET /api/me names the caller for every role', async () => {
		for (const role of ACCOUNT_ROLES) {
			const me = await expectJson(api('/api/me', { token: tokens[role] }), 200);
			expect(me).toEqual({ subject: expect.stringMatching(/^token:/), role, via: 'token' });
		}
	});

	it('a reviewer reads but cannot change systems; an owner can', async () => {
		await expectJson(api('/api/systems', { token: tokens.reviewer }), 200);
		await expectJson(api('/api/systems', { token: tokens.viewer }), 200);
		await expectJson(
			api('/api/systems', { token: tokens.reviewer, body: { name: 'X', connector: 'csv', region: 'eu' } }),
			403
		);
		await expectJson(
			api('/api/systems', { token: tokens.owner, body: { name: 'X', connector: 'csv', region: 'eu' } }),
			201
		);
	});
});

describe('tokens', () => {
	it('an owner issues a token, shown once, which then works with its role', async () => {
		const owner = await tokenFor('owner');
		const name = unique('ci');
		const issued = await expectJson(api('/api/tokens', { token: owner, body: { name, role: 'reviewer' } }), 201);
		expect(issued).toEqual({
			id: expect.stringMatching(/^tok_/),
			name,
			role: 'reviewer',
			createdAt: expect.any(String),
			token: expect.stringMatching(/^[\w-]{43}$/)
		});
		expect(await expectJson(api('/api/me', { token: issued.token }), 200)).toEqual({
			subject: `token:${name}`,
			role: 'reviewer',
			via: 'token'
		});

		const list = await expectJson<any[]>(api('/api/tokens', { token: owner }), 200);
		const listed = list.find((t) => t.id === issued.id);
		expect(listed).toEqual({
			id: issued.id,
			name,
			role: 'reviewer',
			createdAt: issued.createdAt,
			lastUsedAt: expect.any(String)
		});
		expect(JSON.stringify(list)).not.toContain(issued.token);
	});

	it('stores only the SHA-256 digest of a token', async () => {
		const owner = await tokenFor('owner');
		const issued = await expectJson(
			api('/api/tokens', { token: owner, body: { name: unique('hashed'), role: 'viewer' } }),
			201
		);
		const rows = await runInDurableObject(env.ACCOUNT.getByName('account'), (_, state) =>
			state.storage.sql.exec('SELECT * FROM tokens').toArray()
		);
		const dump = JSON.stringify(rows);
		expect(dump).not.toContain(issued.token);
		const row = rows.find((r) => r.id === issued.id)!;
		expect(row.hash).toBe(await sha256Hex(issued.token));
	});

	it('a revoked token is refused; revoking needs an owner and an existing token', async () => {
		const owner = await tokenFor('owner');
		const issued = await expectJson(
			api('/api/tokens', { token: owner, body: { name: unique('temp'), role: 'owner' } }),
			201
		);
		await expectJson(api('/api/me', { token: issued.token }), 200);
		const revoked = await api(`/api/tokens/${issued.id}`, { method: 'DELETE', token: owner });
		expect(revoked.status).toBe(204);
		expect(await expectJson(api('/api/me', { token: issued.token }), 401)).toMatchObject({ error: 'unauthorized' });
		const list = await expectJson<any[]>(api('/api/tokens', { token: owner }), 200);
		expect(list.find((t) => t.id === issued.id)?.revokedAt).toEqual(expect.any(String));
		expect(await expectJson(api('/api/tokens/tok_nope', { method: 'DELETE', token: owner }), 404)).toMatchObject({
			error: 'not-found'
		});
	});

	it('keeps the last active owner token', async () => {
		// Revoke every other owner token first, then the last one is refused.
		const mine = await tokenFor('owner', 'last-owner');
		const all = await expectJson<any[]>(api('/api/tokens', { token: mine }), 200);
		const me = all.find((t) => t.name === 'last-owner' && !t.revokedAt)!;
		for (const t of all.filter((t) => t.role === 'owner' && !t.revokedAt && t.id !== me.id)) {
			expect((await api(`/api/tokens/${t.id}`, { method: 'DELETE', token: mine })).status).toBe(204);
		}
		const refused = await expectJson(api(`/api/tokens/${me.id}`, { method: 'DELETE', token: mine }), 409);
		expect(refused).toMatchObject({ error: 'conflict', message: expect.stringContaining('last active owner') });
	});

	it('validates the body and names the field', async () => {
		const owner = await tokenFor('owner');
		const bad = await expectJson(api('/api/tokens', { token: owner, body: { name: '', role: 'admin' } }), 400);
		expect(bad.error).toBe('invalid');
		expect(bad.issues.map((i: { field: string }) => i.field).sort()).toEqual(['name', 'role']);
		const notJson = await expectJson(api('/api/tokens', { token: owner, body: '{nope' }), 400);
		expect(notJson.message).toContain('not valid JSON');
	});
});

// ---- Cloudflare Access ----------------------------------------------------------------------------

const TEAM = 'rostersync-test.cloudflareaccess.com';
const CERTS = `https://${TEAM}/cdn-cgi/access/certs`;
const AUD = 'aud-0123456789abcdef';

interface Signer {
	kid: string;
	jwk: JsonWebKey;
	sign(claims: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>;
}

async function signer(kid: string): Promise<Signer> {
	const pair = (await crypto.subtle.generateKey(
		{ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
		true,
		['sign', 'verify']
	)) as CryptoKeyPair;
	const jwk = (await crypto.subtle.exportKey('jwk', pair.publicKey)) as JsonWebKey;
	const part = (value: unknown) => base64urlEncode(new TextEncoder().encode(JSON.stringify(value)));
	return {
		kid,
		jwk: { ...jwk, kid, alg: 'RS256', use: 'sig' } as JsonWebKey,
		async sign(claims, header = {}) {
			const head = `${part({ alg: 'RS256', kid, typ: 'JWT', ...header })}.${part(claims)}`;
			const signature = new Uint8Array(
				await crypto.subtle.sign('RSASSA-PKCS1-v1_5', pair.privateKey, new TextEncoder().encode(head))
			);
			return `${head}.${base64urlEncode(signature)}`;
		}
	};
}

describe('Cloudflare Access', () => {
	let key: Signer;
	let rotated: Signer;
	let certsFetched = 0;
	const accessEnv = (extra: Partial<Env> = {}): Env => ({
		...env,
		ACCESS_TEAM_DOMAIN: TEAM,
		ACCESS_AUD: AUD,
		ACCESS_ROLES: JSON.stringify({ 'Olga.Owner@example.org': 'owner', 'rita@example.org': 'reviewer' }),
		ACCESS_DEFAULT_ROLE: 'viewer',
		...extra
	});
	const now = () => Math.floor(Date.now() / 1000);
	const claims = (extra: Record<string, unknown> = {}) => ({
		aud: [AUD],
		iss: `https://${TEAM}`,
		email: 'olga.owner@example.org',
		iat: now(),
		nbf: now() - 5,
		exp: now() + 600,
		sub: 'user-1',
		...extra
	});
	const call = async (jwt: string | undefined, e: Env = accessEnv(), path = '/api/me') => {
		const headers: Record<string, string> = jwt ? { 'cf-access-jwt-assertion': jwt } : {};
		return worker.fetch!(
			new Request(`${ORIGIN}${path}`, { headers }) as Request<unknown, IncomingRequestCfProperties>,
			e,
			createExecutionContext()
		);
	};

	beforeAll(async () => {
		key = await signer('key-1');
		rotated = await signer('key-2');
	});

	const serveKeys = (keys: Signer[]) => {
		const real = globalThis.fetch;
		// Only the team's JWKS URL is answered here; anything else is a real fetch.
		vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
			const url = input instanceof Request ? input.url : String(input);
			if (url !== CERTS) return real(input, init);
			certsFetched++;
			return Response.json({ keys: keys.map((k) => k.jwk), public_cert: { kid: keys[0].kid, cert: '' } });
		});
	};

	afterEach(() => {
		vi.restoreAllMocks();
		clearAccessKeys();
		certsFetched = 0;
	});

	it('maps a valid assertion to its role by email (case-insensitive), others to the default role', async () => {
		serveKeys([key]);
		expect(await expectJson(call(await key.sign(claims())), 200)).toEqual({
			subject: 'olga.owner@example.org',
			role: 'owner',
			via: 'access'
		});
		expect(await expectJson(call(await key.sign(claims({ email: 'rita@example.org' }))), 200)).toMatchObject({
			role: 'reviewer'
		});
		expect(await expectJson(call(await key.sign(claims({ email: 'someone@example.org' }))), 200)).toMatchObject({
			role: 'viewer'
		});
		// Keys are fetched once and reused.
		expect(certsFetched).toBe(1);
	});

	it('names the caller as runs, stops, undos and answers record it: the email, or the token label', async () => {
		serveKeys([key]);
		const viaAccess = new Request(`${ORIGIN}/api/me`, {
			headers: { 'cf-access-jwt-assertion': await key.sign(claims()) }
		});
		expect(await authenticate(viaAccess, accessEnv())).toMatchObject({
			name: 'olga.owner@example.org',
			via: 'access'
		});
		const label = unique('Rita (phone)');
		const viaToken = new Request(`${ORIGIN}/api/me`, {
			headers: { authorization: `Bearer ${await tokenFor('reviewer', label)}` }
		});
		expect(await authenticate(viaToken, accessEnv())).toMatchObject({
			subject: `token:${label}`,
			name: label,
			via: 'token'
		});
	});

	it('the role decides what the identity may do', async () => {
		serveKeys([key]);
		const viewer = await key.sign(claims({ email: 'someone@example.org' }));
		expect((await call(viewer, accessEnv(), '/api/tokens')).status).toBe(403);
		expect((await call(await key.sign(claims()), accessEnv(), '/api/tokens')).status).toBe(200);
	});

	it('refuses identities without a role when the default role is "none"', async () => {
		serveKeys([key]);
		const res = await call(
			await key.sign(claims({ email: 'stranger@example.org' })),
			accessEnv({ ACCESS_DEFAULT_ROLE: 'none' })
		);
		expect(await expectJson(res, 403)).toMatchObject({
			error: 'forbidden',
			message: expect.stringContaining('no role')
		});
	});

	it.each([
		['expired', () => claims({ exp: now() - 120 }), 'expired'],
		['not valid yet', () => claims({ nbf: now() + 600 }), 'not valid yet'],
		['for another application', () => claims({ aud: ['someone-else'] }), 'aud'],
		['from another issuer', () => claims({ iss: 'https://evil.cloudflareaccess.com' }), 'iss'],
		['without an expiry', () => claims({ exp: undefined }), 'exp'],
		['without an email', () => claims({ email: undefined }), 'email']
	])('refuses an assertion %s', async (_, make, reason) => {
		serveKeys([key]);
		const body = await expectJson(call(await key.sign(make())), 401);
		expect(body).toMatchObject({ error: 'unauthorized', message: expect.stringContaining(reason) });
	});

	it('refuses a forged signature, an unknown key, alg none, and garbage', async () => {
		serveKeys([key]);
		const forged = await rotated.sign(claims(), { kid: 'key-1' });
		expect((await expectJson(call(forged), 401)).message).toContain('signature');
		expect((await expectJson(call(await rotated.sign(claims())), 401)).message).toContain('unknown key');
		const [, payload, sig] = (await key.sign(claims())).split('.');
		const none = `${base64urlEncode(new TextEncoder().encode(JSON.stringify({ alg: 'none', kid: 'key-1' })))}.${payload}.${sig}`;
		expect((await expectJson(call(none), 401)).message).toContain('RS256');
		await expectJson(call('not.a.jwt'), 401);
		await expectJson(call('garbage'), 401);
	});

	it('fetches the keys with a time limit, and refuses a key set too large to be one', async () => {
		const real = globalThis.fetch;
		let signal: AbortSignal | undefined;
		vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
			const url = input instanceof Request ? input.url : String(input);
			if (url !== CERTS) return real(input, init);
			signal = init?.signal ?? undefined;
			return Response.json({ keys: [key.jwk], padding: 'x'.repeat(512 * 1024) });
		});
		const refused = await expectJson(call(await key.sign(claims())), 401);
		expect(refused.message).toContain('could not be read');
		expect(signal).toBeInstanceOf(AbortSignal);
	});

	it('fetches the keys again when a new key id appears (rotation)', async () => {
		serveKeys([key]);
		await expectJson(call(await key.sign(claims())), 200);
		vi.restoreAllMocks();
		certsFetched = 0;
		serveKeys([rotated, key]);
		await expectJson(call(await rotated.sign(claims())), 200);
		expect(certsFetched).toBe(1);
	});

	it('fetches the keys once for concurrent callers, and again for unknown key ids at most once per 30 s', async () => {
		serveKeys([key]);
		const signed = await Promise.all(Array.from({ length: 5 }, () => key.sign(claims())));
		await Promise.all(signed.map((jwt) => expectJson(call(jwt), 200)));
		expect(certsFetched).toBe(1);
		const unknown = async (kid: string) => (await expectJson(call(await rotated.sign(claims(), { kid })), 401)).message;
		expect(await unknown('made-up-1')).toContain('unknown key');
		expect(certsFetched).toBe(2);
		for (const kid of ['made-up-2', 'made-up-3', 'made-up-4']) expect(await unknown(kid)).toContain('unknown key');
		expect(certsFetched).toBe(2);
		// Known keys are still served from the keys fetched.
		await expectJson(call(await key.sign(claims())), 200);
		expect(certsFetched).toBe(2);
	});

	it('fetches again for an unknown key id once the 30 s have passed', async () => {
		let clock = Date.now();
		let fetched = 0;
		const deps = { now: () => clock, fetch: async () => (fetched++, Response.json({ keys: [key.jwk] })) };
		const config = accessConfig(accessEnv())!;
		const verify = async (kid: string) => verifyAccessJwt(await rotated.sign(claims(), { kid }), config, deps);
		await verifyAccessJwt(await key.sign(claims()), config, deps);
		await expect(verify('made-up-1')).rejects.toThrow('unknown key');
		clock += 29_000;
		await expect(verify('made-up-2')).rejects.toThrow('unknown key');
		expect(fetched).toBe(2);
		clock += 1_000;
		await expect(verify('made-up-3')).rejects.toThrow('unknown key');
		expect(fetched).toBe(3);
	});

	it('ignores the header when Access is not configured, and prefers a bearer token when both come', async () => {
		serveKeys([key]);
		const jwt = await key.sign(claims());
		expect(await expectJson(call(jwt, env as Env), 401)).toMatchObject({ error: 'unauthorized' });
		const viewer = await tokenFor('viewer');
		const res = await worker.fetch!(
			new Request(`${ORIGIN}/api/me`, {
				headers: { 'cf-access-jwt-assertion': jwt, authorization: `Bearer ${viewer}` }
			}) as Request<unknown, IncomingRequestCfProperties>,
			accessEnv(),
			createExecutionContext()
		);
		expect(await expectJson(res, 200)).toMatchObject({ role: 'viewer', via: 'token' });
	});

	it('refuses everyone when ACCESS_ROLES is malformed', async () => {
		serveKeys([key]);
		const body = await expectJson(
			call(await key.sign(claims()), accessEnv({ ACCESS_ROLES: '{"a@b.c": "admin"}' })),
			401
		);
		expect(body.message).toContain('misconfigured');
	});
});
