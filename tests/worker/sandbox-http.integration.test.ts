/**
 * The sandbox's SCIM over HTTP refuses what is malformed with an RFC 7644 §3.12 error, never a
 * 500: the token before the body, bodies bounded on Content-Length and while they stream in.
 */
import { env, exports } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SandboxDO } from '../../worker/sandbox/sandbox-do';
import { MAX_BODY_BYTES } from '../../worker/sandbox/scim-http';
import { ORIGIN, api, expectJson, tokenFor } from './support';

const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const BASE = 'https://sandbox.internal/scim/v2';

let systemId: string;
let token: string;
beforeAll(async () => {
	const owner = await tokenFor('owner');
	systemId = (
		await expectJson(
			api('/api/systems', { token: owner, body: { name: 'HTTP edges', connector: 'sandbox', region: 'eu' } }),
			201
		)
	).id;
	token = (await expectJson(api(`/api/sandbox/${systemId}/token`, { token: owner, body: {} }), 201)).token;
});

/** A body of `bytes` spaces that counts how much of it was pulled (nothing is pulled ahead). */
function countingBody(bytes: number, chunk = 64 * 1024) {
	let pulled = 0;
	const stream = new ReadableStream<Uint8Array>(
		{
			pull(controller) {
				if (pulled >= bytes) return controller.close();
				const n = Math.min(chunk, bytes - pulled);
				pulled += n;
				controller.enqueue(new Uint8Array(n).fill(0x20));
			}
		},
		{ highWaterMark: 0 }
	);
	return { stream, pulled: () => pulled };
}

/**
 * A request straight to the sandbox's handler (what the edge's transport hands it), made inside the
 * Durable Object: a body the runtime streams cannot be read across I/O contexts, a JS stream can.
 */
function direct(path: string, init: RequestInit): Promise<Response> {
	return runInDurableObject(env.SANDBOXES.getByName(systemId), (instance: SandboxDO) =>
		instance.fetch(new Request(`${BASE}${path}`, init))
	);
}

/** A request through the public route, headers as given (the token unless one is given). */
function scim(path: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}) {
	return exports.default.fetch(`${ORIGIN}/api/sandbox/${systemId}/scim/v2${path}`, {
		method: init.method ?? 'GET',
		headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json', ...init.headers },
		body: init.body
	});
}

async function expectScimError(response: Response | Promise<Response>, status: number, scimType?: string) {
	const res = await response;
	const body = await res.json<Record<string, unknown>>();
	expect(res.status, JSON.stringify(body)).toBe(status);
	expect(res.headers.get('content-type')).toMatch(/^application\/scim\+json/);
	expect(body).toMatchObject({ schemas: [ERROR], status: String(status) });
	if (scimType) expect(body.scimType).toBe(scimType);
	else expect(body.scimType).toBeUndefined();
	return body as { detail: string };
}

describe('malformed requests get a SCIM error, never a 500', () => {
	it('a malformed percent-encoding in the path is a 400 invalidSyntax', async () => {
		for (const path of ['/Users/%E0%A4%A', '/Groups/%', '/Users/%zz', '/%E0%A4%A'])
			expect((await expectScimError(scim(path), 400, 'invalidSyntax')).detail).toContain('percent-encoding');
	});

	it('a PATCH value filter with a bad escape is a 400 invalidPath naming the operation', async () => {
		const group = await expectJson(
			scim('/Groups', { method: 'POST', body: JSON.stringify({ displayName: 'Escapes' }) }),
			201
		);
		for (const path of ['members[value eq "a\\q"]', 'members[value eq "a\\"]', 'emails[type eq "\\u12"].value']) {
			const detail = (
				await expectScimError(
					scim(`/Groups/${group.id}`, {
						method: 'PATCH',
						body: JSON.stringify({ schemas: [PATCH_OP], Operations: [{ op: 'remove', path }] })
					}),
					400,
					'invalidPath'
				)
			).detail;
			expect(detail).toContain('Operations[0]');
		}
	});

	it('a list filter with a bad escape, a control character or too deep a nesting is a 400 invalidFilter', async () => {
		for (const filter of [
			'userName eq "a\\q"',
			'userName eq "a\nb"',
			`${'not ('.repeat(40)}userName pr${')'.repeat(40)}`
		])
			await expectScimError(scim(`/Users?filter=${encodeURIComponent(filter)}`), 400, 'invalidFilter');
	});

	it('refuses a body that is not JSON, not UTF-8, not an object or nested too deeply with 400 invalidSyntax', async () => {
		const post = (body: BodyInit) =>
			direct('/Users', {
				method: 'POST',
				headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
				body
			});
		await expectScimError(post('{nope'), 400, 'invalidSyntax');
		await expectScimError(post(new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])), 400, 'invalidSyntax');
		await expectScimError(post('[1]'), 400, 'invalidSyntax');
		await expectScimError(post(`{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`), 400, 'invalidSyntax');
	});

	it('a body that is not JSON by its Content-Type is a 415', async () => {
		for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'])
			expect(
				(
					await expectScimError(
						scim('/Users', { method: 'POST', headers: { 'content-type': type }, body: '{"userName":"x"}' }),
						415
					)
				).detail
			).toContain('application/scim+json');
	});

	it('through the public route, each page carries its version and If-Match keeps a read on it', async () => {
		const first = await scim('/Users?count=1');
		const etag = first.headers.get('etag')!;
		expect(etag).toMatch(/^W\/".+"$/);
		await expectJson(scim('/Users', { method: 'POST', body: JSON.stringify({ userName: 'pinned@example.org' }) }), 201);
		const pinned = await scim('/Users?count=100', { headers: { 'if-match': etag } });
		expect(pinned.headers.get('etag')).toBe(etag);
		const users = (await pinned.json<{ Resources: { userName: string }[] }>()).Resources;
		expect(users.map((u) => u.userName)).not.toContain('pinned@example.org');
		await expectScimError(scim('/Users', { headers: { 'if-match': 'W/"gone.1"' } }), 412);
	});

	it('a method a route does not take is a 405 with Allow', async () => {
		const res = await scim('/Users', { method: 'PUT', body: '{}', headers: { 'content-type': 'application/json' } });
		await expectScimError(res.clone(), 405);
		expect(res.headers.get('allow')).toBe('GET, POST');
	});
});

describe('the token comes before the body, and bodies are bounded', () => {
	it('a 20 MB body without a valid token is a 401 and is never read', async () => {
		for (const authorization of [undefined, 'Bearer wrong', 'Basic x']) {
			const body = countingBody(20 * 1024 * 1024);
			await expectScimError(
				direct('/Users', {
					method: 'POST',
					headers: { 'content-type': 'application/scim+json', ...(authorization ? { authorization } : {}) },
					body: body.stream
				}),
				401
			);
			expect(body.pulled()).toBe(0);
		}
	});

	it('a body over the limit by its Content-Length is a 413 naming the limit, before it is read', async () => {
		const body = countingBody(MAX_BODY_BYTES + 1);
		const detail = (
			await expectScimError(
				direct('/Users', {
					method: 'POST',
					headers: {
						authorization: `Bearer ${token}`,
						'content-type': 'application/scim+json',
						'content-length': String(MAX_BODY_BYTES + 1)
					},
					body: body.stream
				}),
				413
			)
		).detail;
		expect(detail).toContain(String(MAX_BODY_BYTES));
		expect(body.pulled()).toBe(0);
	});

	it('a 20 MB body without a Content-Length is cut off at the limit with a 413', async () => {
		const body = countingBody(20 * 1024 * 1024);
		const detail = (
			await expectScimError(
				direct('/Users', {
					method: 'POST',
					headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
					body: body.stream
				}),
				413
			)
		).detail;
		expect(detail).toContain(String(MAX_BODY_BYTES));
		expect(body.pulled()).toBeLessThanOrEqual(MAX_BODY_BYTES + 64 * 1024);
	});

	it('through the public route: 401 for a 20 MB body without a token, 413 with one', async () => {
		const big = ' '.repeat(20 * 1024 * 1024);
		await expectScimError(scim('/Users', { method: 'POST', headers: { authorization: '' }, body: big }), 401);
		// The edge hands the body on as a stream: without a token, next to nothing of it is read.
		const stream = countingBody(20 * 1024 * 1024);
		await expectScimError(
			exports.default.fetch(`${ORIGIN}/api/sandbox/${systemId}/scim/v2/Users`, {
				method: 'POST',
				headers: { 'content-type': 'application/scim+json' },
				body: stream.stream
			}),
			401
		);
		expect(stream.pulled()).toBeLessThan(MAX_BODY_BYTES);
		await expectScimError(scim('/Users', { method: 'POST', body: big }), 413);
		// The request still works after: nothing was left half-read.
		expect((await scim('/Users?count=1')).status).toBe(200);
	});
});
