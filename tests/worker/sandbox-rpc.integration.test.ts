import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../worker/crypto';
import { createSandbox } from '../../worker/sandbox/provision';
import { STREAM_OVER } from '../../worker/sandbox/scim-rpc';
import { sandboxFetch, sandboxStub } from '../../worker/systems/connect';
import { ORIGIN, api, unique } from './support';

const TOKEN = 'sandbox-rpc-test-token';
const PEOPLE = 300;
let systemId: string;

beforeAll(async () => {
	systemId = unique('sys_rpc');
	await createSandbox(env, {
		id: systemId,
		name: 'RPC directory',
		region: 'eu',
		origin: ORIGIN,
		records: {
			people: Array.from({ length: PEOPLE }, (_, i) => ({
				id: `p${String(i).padStart(3, '0')}`,
				displayName: `Person ${i}`,
				email: `person.${i}@example.org`,
				active: true
			})),
			groups: [],
			memberships: []
		}
	});
	await sandboxStub(env, systemId).setExternalToken(await sha256Hex(TOKEN));
});

const auth = { authorization: `Bearer ${TOKEN}` };

describe("a sandbox's scim RPC method", () => {
	it('answers a small request as text and a large page as a stream, with the same records', async () => {
		const stub = sandboxStub(env, systemId);
		const small = await stub.scim({ method: 'GET', path: '/scim/v2/Users?count=1', headers: auth });
		expect(small.status).toBe(200);
		expect(typeof small.body).toBe('string');
		expect(small.headers['content-type']).toMatch(/^application\/scim\+json/);

		const large = await stub.scim({ method: 'GET', path: `/scim/v2/Users?count=${PEOPLE}`, headers: auth });
		expect(large.body).toBeInstanceOf(ReadableStream);
		const text = await new Response(large.body).text();
		expect(text.length).toBeGreaterThan(STREAM_OVER);
		const page = JSON.parse(text);
		expect(page.totalResults).toBe(PEOPLE);
		expect(page.Resources).toHaveLength(PEOPLE);
		expect(page.Resources[0]).toEqual(JSON.parse(small.body as string).Resources[0]);
	});

	it('answers a 204 without a body', async () => {
		const stub = sandboxStub(env, systemId);
		const created = await stub.scim({
			method: 'POST',
			path: '/scim/v2/Users',
			headers: { ...auth, 'content-type': 'application/scim+json' },
			body: JSON.stringify({ userName: 'to.delete@example.org', displayName: 'To Delete' })
		});
		expect(created.status).toBe(201);
		const { id } = JSON.parse(created.body as string);
		const deleted = await stub.scim({ method: 'DELETE', path: `/scim/v2/Users/${id}`, headers: auth });
		expect(deleted).toMatchObject({ status: 204, body: null });
	});

	it('refuses a streamed body without the token, and answers the next request', async () => {
		const stub = sandboxStub(env, systemId);
		const refused = await stub.scim({
			method: 'POST',
			path: '/scim/v2/Users',
			headers: { 'content-type': 'application/scim+json' },
			body: new Response('x'.repeat(200_000)).body!
		});
		expect(refused.status).toBe(401);
		const next = await stub.scim({ method: 'GET', path: '/scim/v2/Users/p002', headers: auth });
		expect(next.status).toBe(200);
	});
});

describe('sandboxFetch', () => {
	it('gives the SCIM connector Responses built from the RPC answers', async () => {
		const fetch = sandboxFetch(sandboxStub(env, systemId));
		const res = await fetch(
			`https://sandbox.internal/scim/v2/Users?filter=${encodeURIComponent('userName eq "person.7@example.org"')}`,
			{
				headers: auth
			}
		);
		expect(res.status).toBe(200);
		const page = (await res.json()) as { Resources: { id: string }[] };
		expect(page.Resources.map((r) => r.id)).toEqual(['p007']);
	});

	it('rejects with the reason of an aborted signal, without asking the sandbox', async () => {
		const controller = new AbortController();
		controller.abort(new Error('gave up'));
		await expect(
			sandboxFetch(sandboxStub(env, systemId))('https://sandbox.internal/scim/v2/Users', {
				headers: auth,
				signal: controller.signal
			})
		).rejects.toThrow('gave up');
	});

	it('serves the public SCIM route through the RPC method, with the public base in meta.location', async () => {
		const res = await api(`/api/sandbox/${systemId}/scim/v2/Users/p001`, { headers: auth });
		expect(res.status).toBe(200);
		const user = (await res.json()) as { meta: { location: string } };
		expect(user.meta.location).toBe(`${ORIGIN}/api/sandbox/${systemId}/scim/v2/Users/p001`);
	});
});
