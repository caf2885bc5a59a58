/**
 * The SCIM connector against a hostile server (tests/support/scim-hostile.ts): a credential echoed
 * in every field and encoding never reaches an error, a record or a message; a stuck server fails
 * with a clear error within the limit; redirects stay within the origin; answers and records are
 * bounded; an answer that is not SCIM is called that, and is never quoted.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TargetRef } from '$lib/core/ops';
import { RecordWriter } from '../../worker/connectors/records';
import { ScimConnector, type ScimOptions } from '../../worker/connectors/scim';
import { ConnectorError } from '../../worker/connectors/types';
import { startHostileScim, type HostileServer } from '../support/scim-hostile';
import { credentialTraces, hostileToken, hostileUrl, tracesIn, type HostileMode } from '../support/scim-hostile-client';
import { connectorError } from '../support/scim-suite';
import { ops } from '../support/scim-ops';

const TOKEN = hostileToken();
const TRACES = credentialTraces(TOKEN);

let server: HostileServer;
beforeAll(async () => {
	server = await startHostileScim();
});
afterAll(async () => {
	server.release();
	await server.close();
});

let tenants = 0;
/** A connector to a fresh tenant of the hostile server in `mode`. */
function connector(mode: HostileMode, options: Partial<ScimOptions> = {}) {
	const tenant = `t${++tenants}`;
	const c = new ScimConnector({
		systemId: `hostile-${mode}`,
		baseUrl: hostileUrl(server, tenant, mode),
		token: TOKEN,
		retry: { attempts: 1 },
		...options
	});
	return { c, tenant, log: () => server.log(tenant) };
}

/** Everything an error carries, as the journal and the API would store and show it. */
const shown = (e: ConnectorError) => JSON.stringify({ message: e.message, ...e.toJSON() });

const resolve = (ref: TargetRef) => ('id' in ref ? ref.id : 'none');

describe('a credential echoed by the server', () => {
	it('is in the server errors this test reads (the server does echo it)', async () => {
		const res = await fetch(`${hostileUrl(server, 'probe', 'deny')}/Users`, {
			headers: { authorization: `Bearer ${TOKEN}` }
		});
		const text = await res.text();
		expect(tracesIn(text, TRACES).length).toBeGreaterThan(10);
		expect(tracesIn(res.headers.get('x-echo-authorization') ?? '', TRACES)).not.toEqual([]);
	});

	it.each([
		[
			'fail-400',
			400,
			'invalid',
			// Base64 keeps "Bearer " and the few bits of the characters it shares with the token.
			/refused Bearer \[redacted\]; base64 QmVhcmVyIE\[redacted\]\w?=*; percent \[redacted\]; JSON \{"authorization":"Bearer \[redacted\]"\}; cut \[redacted\]$/
		],
		['fail-409', 409, 'conflict', /refused Bearer \[redacted\]/],
		['fail-500', 500, 'http', /refused Bearer \[redacted\]/],
		[
			'fail-text',
			400,
			'invalid',
			/: 400 Bad Request; the answer is not a SCIM error \(text that is not JSON \(text\/plain\)\)$/
		],
		['fail-huge', 500, 'http', /: 500 Internal Server Error; the answer is not a SCIM error \(text that is not JSON/]
	])('%s: the error names status and record, without the credential', async (how, status, code, detail) => {
		const { c } = connector('echo');
		const e = await connectorError(
			c.apply(ops.createPerson({ externalId: `${how}-1`, displayName: 'Ann', email: `${how}@example.org` }), resolve)
		);
		expect(e).toMatchObject({ status, code, recordKind: 'person', recordId: `${how}-1` });
		expect(e.detail).toMatch(/^POST \/Users: /);
		expect(e.detail).toMatch(detail);
		expect(tracesIn(shown(e), TRACES)).toEqual([]);
	});

	it('is scrubbed from the scimType, and from a 401 on the first request', async () => {
		const { c } = connector('deny');
		const e = await connectorError(c.read());
		expect(e).toMatchObject({ code: 'auth', status: 401, scimType: 'Bearer [redacted]' });
		expect(tracesIn(shown(e), TRACES)).toEqual([]);
	});

	it('is scrubbed from records: a user holding it in every attribute reads without it', async () => {
		const { c } = connector('echo');
		const snapshot = await c.read();
		const mirror = snapshot.people.find((p) => p.id === 'mirror');
		expect(mirror).toMatchObject({
			displayName: 'Bearer [redacted]',
			givenName: '[redacted]',
			familyName: '[redacted]'
		});
		expect(tracesIn(JSON.stringify(snapshot), TRACES)).toEqual([]);
	});

	it('a token too short to tell from text (the API refuses one) is not looked for', async () => {
		const { c } = connector('echo', { token: 'e' });
		const e = await connectorError(
			c.apply(
				ops.createPerson({ externalId: 'fail-400-e', displayName: 'Eve', email: 'fail-400@example.org' }),
				resolve
			)
		);
		expect(e.detail).toContain('refused Bearer e; base64 QmVhcmVyIGU=; percent e;');
	});
});

describe("an incident's record written to a hostile system", () => {
	const record = {
		kind: 'event' as const,
		sourceId: 'inc-1',
		title: 'Fire drill',
		type: 'exercise',
		startedAt: '2026-11-30T10:00:00Z',
		endedAt: '2026-11-30T11:00:00Z',
		people: []
	};
	const writer = (mode: HostileMode) =>
		new RecordWriter({
			systemId: `hostile-${mode}`,
			baseUrl: hostileUrl(server, `r${++tenants}`, mode),
			token: TOKEN,
			timeoutMs: 1500
		});
	const refusal = (mode: HostileMode) =>
		writer(mode)
			.write(record, 'idem-1')
			.then(
				() => expect.unreachable('the write was refused'),
				(e: unknown) => {
					expect(e).toBeInstanceOf(ConnectorError);
					return e as ConnectorError;
				}
			);

	it.each([
		['deny', 'auth'],
		['deny-empty', 'auth'],
		['redirect-away', 'invalid'],
		['hang', 'unreachable'],
		['html', 'invalid']
	] as const)('%s: the refusal carries no trace of the token', async (mode, code) => {
		const e = await refusal(mode);
		expect(e.code).toBe(code);
		expect(tracesIn(shown(e), TRACES)).toEqual([]);
	});

	it('a refusal with nothing but a status text says that text, scrubbed', async () => {
		const e = await refusal('deny-empty');
		expect(e.detail).toBe('writing the event was refused: Refused [redacted]');
	});
});

describe('time limits', () => {
	it('a server that never answers fails the request at its limit, naming it, and is not asked again', async () => {
		const { c, log } = connector('hang', { limits: { timeoutMs: 200 }, retry: { attempts: 3 } });
		const e = await connectorError(c.read());
		expect(e).toMatchObject({ code: 'unreachable', retryable: true, system: 'hostile-hang' });
		expect(e.message).toBe('system hostile-hang: did not answer within 200 ms (GET /ServiceProviderConfig)');
		expect(log()).toHaveLength(1);
	});

	it('a server that stops in the middle of an answer fails at the same limit', async () => {
		const { c } = connector('stall', { limits: { timeoutMs: 200 } });
		const e = await connectorError(c.read());
		expect(e.detail).toBe('did not answer within 200 ms (GET /ServiceProviderConfig)');
	});

	it('the caller stopping a read is a stop, not a timeout', async () => {
		const { c } = connector('hang', { limits: { timeoutMs: 60_000 } });
		const stop = new AbortController();
		const read = c.read(stop.signal);
		stop.abort(new Error('stopped by the test'));
		await expect(read).rejects.toThrow('stopped by the test');
	});

	it('a slow server is read whole within the default limits', async () => {
		const { c } = connector('slow');
		expect((await c.read()).people.map((p) => p.id)).toEqual(['mirror']);
	});

	it('a read has an overall limit, whatever each request takes', async () => {
		// Each answer takes SLOW_MS (150 ms): longer than the whole read may.
		const { c } = connector('slow', { limits: { scanTimeoutMs: 100 } });
		const e = await connectorError(c.read());
		expect(e).toMatchObject({ code: 'unreachable', retryable: true });
		expect(e.detail).toBe('could not be read within 100 ms');
	});

	it('an operation has an overall limit, whatever each request takes', async () => {
		const { c } = connector('slow', { limits: { operationTimeoutMs: 100 } });
		const e = await connectorError(
			c.apply(ops.createPerson({ externalId: 'E1', displayName: 'Ann', email: 'ann@example.org' }), resolve)
		);
		expect(e).toMatchObject({ code: 'unreachable', recordKind: 'person', recordId: 'E1' });
		expect(e.detail).toBe('create-person did not finish within 100 ms');
	});
});

describe('timers', () => {
	afterEach(() => vi.restoreAllMocks());

	/** Timers started and not yet cleared or fired; AbortSignal.timeout's cannot be cleared at all. */
	function liveTimers(): () => number {
		const live = new Set<unknown>();
		const [set, clear, timeout] = [globalThis.setTimeout, globalThis.clearTimeout, AbortSignal.timeout];
		vi.spyOn(AbortSignal, 'timeout').mockImplementation((ms) => {
			live.add(Symbol('AbortSignal.timeout'));
			return timeout.call(AbortSignal, ms);
		});
		vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
			const handle = set(() => {
				live.delete(handle);
				fn();
			}, ms);
			live.add(handle);
			return handle;
		}) as typeof setTimeout);
		vi.spyOn(globalThis, 'clearTimeout').mockImplementation((handle) => {
			live.delete(handle);
			clear(handle);
		});
		return () => live.size;
	}

	it('every request and operation clears its timers when it ends (workerd allows 10,000 live ones)', async () => {
		const live = liveTimers();
		let created = 0;
		const c = new ScimConnector({
			systemId: 'fast',
			baseUrl: 'https://idp.example.com/scim/v2',
			token: TOKEN,
			// In-process: no timer but the connector's own is started.
			fetch: async (input, init) =>
				init.method === 'POST'
					? Response.json({ id: `u${++created}`, userName: 'x' }, { status: 201 })
					: Response.json({ schemas: [], status: '404', detail: `no ${new URL(input).pathname}` }, { status: 404 })
		});
		for (let i = 0; i < 200; i++)
			await c.apply(ops.createPerson({ externalId: `E${i}`, displayName: 'Ann', email: `a${i}@example.org` }), resolve);
		expect(created).toBe(200);
		expect(live()).toBe(0);
	});
});

describe('redirects', () => {
	it('are followed within the origin, a write with its body (307)', async () => {
		const { c, log } = connector('redirect');
		const created = await c.apply(
			ops.createPerson({ externalId: 'E1', displayName: 'Ann', email: 'ann@example.org' }),
			resolve
		);
		expect(created.id).toMatch(/^u\d+$/);
		expect(log().filter((l) => l.method === 'POST')).toEqual([
			expect.objectContaining({ path: expect.stringMatching(/\/redirect\/scim\/v2\/Users$/) }),
			expect.objectContaining({ path: expect.stringMatching(/\/echo\/scim\/v2\/Users$/) })
		]);
	});

	it('to another origin are refused, naming both, and the other origin is never asked', async () => {
		const { c, log } = connector('redirect-away');
		const e = await connectorError(c.read());
		expect(e.detail).toBe(
			`GET /Users?startIndex=1&count=100: redirected to another origin (${server.origin} to ${server.otherOrigin}); redirects are followed only within the system's own origin`
		);
		expect(log().map((l) => l.host)).not.toContain(new URL(server.otherOrigin).host);
	});

	it('are followed a bounded number of times', async () => {
		const { c, log } = connector('redirect-loop');
		const e = await connectorError(c.read());
		expect(e.detail).toBe('GET /Users?startIndex=1&count=100: redirected more than 5 times');
		expect(log().filter((l) => l.path.includes('/Users'))).toHaveLength(6);
	});
});

describe('sizes', () => {
	it('an answer announced larger than the limit is refused before it is read', async () => {
		const { c } = connector('big-declared');
		const e = await connectorError(c.read());
		expect(e).toMatchObject({ code: 'invalid' });
		expect(e.detail).toBe('GET /Users?startIndex=1&count=100: the answer is 30 MB, over the 20 MB one answer may be');
	});

	it.each([
		[1024 * 1024, '1 MB'],
		[undefined, '20 MB']
	])('an answer that keeps coming is cut at the limit (%s bytes)', async (maxBodyBytes, shownLimit) => {
		const { c } = connector('big-streamed', { limits: maxBodyBytes ? { maxBodyBytes } : {} });
		const e = await connectorError(c.read());
		expect(e.detail).toBe(`GET /Users?startIndex=1&count=100: the answer is over the ${shownLimit} one answer may be`);
	});

	it('a record larger than a record may be is refused, naming the record and the field', async () => {
		const { c } = connector('big-record');
		const e = await connectorError(c.read());
		expect(e).toMatchObject({ code: 'invalid', recordKind: 'person', recordId: 'u-big', field: 'displayName' });
		expect(e.detail).toBe('the record is 10 MB, over the 256 KB one record may be (most of it in displayName)');
	});
});

describe('an answer that is not SCIM', () => {
	it.each([
		['html', 'GET /ServiceProviderConfig answered an HTML page, not SCIM JSON'],
		['malformed', 'GET /ServiceProviderConfig answered text that is not JSON (application/scim+json), not SCIM JSON'],
		['json', 'GET /Users?startIndex=1&count=100 answered JSON that is not a SCIM ListResponse']
	] as const)('%s is "not a SCIM server", its content never quoted', async (mode, said) => {
		const { c } = connector(mode);
		const e = await connectorError(c.read());
		expect(e.code).toBe('invalid');
		expect(e.detail).toBe(`not a SCIM server: ${said}`);
		expect(tracesIn(shown(e), TRACES)).toEqual([]);
		expect(shown(e)).not.toMatch(/Sign in|welcome|userName/);
	});

	it('discovery alone says so too, when no discovery endpoint answers SCIM', async () => {
		const e = await connectorError(connector('html').c.discover());
		expect(e.detail).toBe('not a SCIM server: GET /ServiceProviderConfig answered an HTML page, not SCIM JSON');
	});
});
