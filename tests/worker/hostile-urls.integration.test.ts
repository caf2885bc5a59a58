/**
 * Where a system may live, and what its credentials must be: the edge refuses base URLs on its own
 * network (loopback and private hosts only when it runs locally; link-local, metadata and reserved
 * addresses and internal names never), on create, on change and when a stored one is used; and
 * credentials shorter than 8 characters, which could not be told from text to be scrubbed.
 */
import { env } from 'cloudflare:workers';
import { createExecutionContext } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import worker from '../../worker/index';
import type { Env } from '../../worker/env';
import { ConnectorError } from '../../worker/connectors/types';
import { connectorFor } from '../../worker/systems/connect';
import { hostKind, type HostKind } from '../../worker/systems/url';
import { ORIGIN, api, expectJson, tokenFor, unique } from './support';

const TOKEN = 'a-token-long-enough-1234';

describe('hostKind', () => {
	it.each<[string, HostKind]>([
		['https://idp.example.com/scim/v2', 'public'],
		['https://93.184.216.34/scim', 'public'],
		['https://[2606:4700::1111]/scim', 'public'],
		['http://127.0.0.1:8080/scim', 'loopback'],
		['http://127.1/scim', 'loopback'],
		['http://2130706433/scim', 'loopback'],
		['http://0x7f000001/scim', 'loopback'],
		['http://localhost:3000/scim', 'loopback'],
		['http://api.localhost/scim', 'loopback'],
		['http://[::1]/scim', 'loopback'],
		['http://[::ffff:127.0.0.1]/scim', 'loopback'],
		['https://10.0.0.5/scim', 'private'],
		['https://172.16.0.1/scim', 'private'],
		['https://172.31.255.255/scim', 'private'],
		['https://192.168.1.10/scim', 'private'],
		['https://100.64.0.1/scim', 'private'],
		['https://[fc00::1]/scim', 'private'],
		['https://[fd12:3456::1]/scim', 'private'],
		['https://[::ffff:10.1.2.3]/scim', 'private'],
		['https://[64:ff9b::a01:203]/scim', 'private'],
		['https://[2002:c0a8:0101::1]/scim', 'private'],
		['https://169.254.10.20/scim', 'link-local'],
		['https://[fe80::1]/scim', 'link-local'],
		['http://169.254.169.254/latest/meta-data', 'metadata'],
		['http://[::ffff:169.254.169.254]/latest', 'metadata'],
		['http://[fd00:ec2::254]/latest', 'metadata'],
		['http://metadata.google.internal/computeMetadata/v1', 'metadata'],
		['http://metadata.google.internal./computeMetadata/v1', 'metadata'],
		// More than one trailing dot: `new URL` keeps them all.
		['https://metadata.google.internal../computeMetadata/v1', 'metadata'],
		['https://169.254.169.254../latest/meta-data', 'metadata'],
		['http://localhost../scim', 'loopback'],
		['https://intranet.corp../scim', 'internal-name'],
		['http://100.100.100.200/latest', 'metadata'],
		['https://0.0.0.0/scim', 'reserved'],
		['https://[::]/scim', 'reserved'],
		['https://224.0.0.1/scim', 'reserved'],
		['https://intranet/scim', 'internal-name'],
		['https://scim.corp.internal/scim', 'internal-name'],
		['https://printer.local/scim', 'internal-name'],
		['https://172.32.0.1/scim', 'public']
	])('%s is %s', (url, kind) => {
		expect(hostKind(new URL(url).hostname)).toBe(kind);
	});
});

/** POST /api/systems through the Worker with `overrides` in its environment. */
function create(owner: string, body: Record<string, unknown>, overrides: Partial<Env> = {}): Promise<Response> {
	return worker.fetch!(
		new Request(`${ORIGIN}/api/systems`, {
			method: 'POST',
			headers: { authorization: `Bearer ${owner}`, 'content-type': 'application/json' },
			body: JSON.stringify({ name: unique('url'), connector: 'scim', region: 'eu', ...body })
		}) as Request<unknown, IncomingRequestCfProperties>,
		{ ...env, ...overrides },
		createExecutionContext()
	);
}

const DEPLOYED: Partial<Env> = { LOCAL_DEV: '', LOCAL_BOOTSTRAP: '' };

describe('system URLs', () => {
	let owner: string;
	beforeAll(async () => {
		owner = await tokenFor('owner');
	});

	it.each([
		['http://169.254.169.254/latest/meta-data', 'must not point at a cloud metadata service: 169.254.169.254'],
		['https://metadata.google.internal/computeMetadata/v1', 'must not point at a cloud metadata service'],
		['https://[fd00:ec2::254]/scim', 'must not point at a cloud metadata service'],
		['https://169.254.1.1/scim', 'must not point at a link-local address: 169.254.1.1'],
		['https://[fe80::1]/scim', 'must not point at a link-local address'],
		['https://intranet.internal/scim', 'must name a public host'],
		['https://0.0.0.0/scim', 'must not point at a reserved address']
	])('refuses %s, even locally', async (baseUrl, message) => {
		const body = await expectJson(create(owner, { baseUrl, credentials: { token: TOKEN } }), 400);
		expect(body).toMatchObject({
			error: 'invalid',
			issues: [{ field: 'baseUrl', message: expect.stringContaining(message) }]
		});
		expect(body.message).toContain(`baseUrl: ${message}`);
	});

	it.each([
		['http://127.0.0.1:9/scim/v2', 'must not point at this machine: 127.0.0.1'],
		[
			'https://127.0.0.1/scim/v2',
			'must not point at this machine: 127.0.0.1 (allowed only when the edge runs locally)'
		],
		['https://localhost/scim/v2', 'must not point at this machine: localhost'],
		['https://10.1.2.3/scim/v2', 'must not point at a private network address: 10.1.2.3'],
		['https://192.168.0.7/scim/v2', 'must not point at a private network address'],
		['https://[fd12::1]/scim/v2', 'must not point at a private network address']
	])('refuses %s when deployed', async (baseUrl, message) => {
		const body = await expectJson(create(owner, { baseUrl, credentials: { token: TOKEN } }, DEPLOYED), 400);
		expect(body.issues).toEqual([{ field: 'baseUrl', message: expect.stringContaining(message) }]);
	});

	it('refuses http to a private host even locally: only this machine is spoken to in clear text', async () => {
		const body = await expectJson(
			create(owner, { baseUrl: 'http://10.1.2.3/scim/v2', credentials: { token: TOKEN } }, { LOCAL_DEV: '1' }),
			400
		);
		expect(body.issues).toEqual([{ field: 'baseUrl', message: expect.stringContaining('must be an https URL') }]);
	});

	it.each([
		['http://127.0.0.1:9/scim/v2', { LOCAL_DEV: '1' }],
		['https://10.1.2.3/scim/v2', { LOCAL_DEV: '1' }],
		['http://localhost:9/scim/v2', { LOCAL_DEV: '', LOCAL_BOOTSTRAP: '1' }]
	])('accepts %s when the edge runs locally (%j)', async (baseUrl, overrides) => {
		await expectJson(create(owner, { baseUrl, credentials: { token: TOKEN } }, overrides), 201);
	});

	it('refuses a change to a private URL as it refuses a new one', async () => {
		const created = await expectJson(
			api('/api/systems', {
				token: owner,
				body: { name: unique('url'), connector: 'scim', region: 'eu', baseUrl: 'https://idp.example.com/scim' }
			}),
			201
		);
		const res = await expectJson(
			api(`/api/systems/${created.id}`, {
				method: 'PATCH',
				token: owner,
				body: { baseUrl: 'http://169.254.169.254/latest' }
			}),
			400
		);
		expect(res.issues).toEqual([{ field: 'baseUrl', message: expect.stringContaining('cloud metadata service') }]);
	});

	it('does not call a stored URL the edge no longer accepts', async () => {
		// Stored while the edge ran locally; the same store, deployed.
		const created = await expectJson(
			create(owner, { baseUrl: 'http://127.0.0.1:9/scim/v2', credentials: { token: TOKEN } }),
			201
		);
		const error = await connectorFor({ ...env, ...DEPLOYED }, created.id).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(ConnectorError);
		expect(error).toMatchObject({ code: 'invalid', system: created.id, field: 'baseUrl' });
		expect((error as ConnectorError).message).toContain(
			'the stored base URL is not called: must not point at this machine'
		);
	});
});

describe('credentials', () => {
	let owner: string;
	beforeAll(async () => {
		owner = await tokenFor('owner');
	});

	it.each(['', 'short', '7-chars'])('refuses a token of %j, naming the field', async (token) => {
		const body = await expectJson(
			create(owner, { baseUrl: 'https://idp.example.com/scim', credentials: { token } }),
			400
		);
		expect(body.issues).toEqual([{ field: 'credentials.token', message: 'must be at least 8 characters' }]);
		expect(JSON.stringify(body)).not.toContain(`"${token}"`);
	});

	it('refuses a short token as a change too, and accepts 8 characters', async () => {
		const created = await expectJson(
			create(owner, { baseUrl: 'https://idp.example.com/scim', credentials: { token: '8-chars!' } }),
			201
		);
		const body = await expectJson(
			api(`/api/systems/${created.id}`, { method: 'PATCH', token: owner, body: { credentials: { token: 'abc' } } }),
			400
		);
		expect(body.issues).toEqual([{ field: 'credentials.token', message: 'must be at least 8 characters' }]);
	});
});
