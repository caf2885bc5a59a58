/**
 * Rate limits and failures on the wire: Retry-After (seconds and HTTP date), backoff with full
 * jitter, bounded attempts, unreachable servers, aborts, and the semaphore bounding requests.
 * The clock is injected: waits are recorded, never slept.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { startThrottleServer, type Refusal, type ThrottleServer } from '../support/throttle-server';
import { connectorError } from '../support/scim-suite';
import { ScimConnector } from '../../worker/connectors/scim';
import { backoffDelay, DEFAULT_RETRY, parseRetryAfter, realClock, type Clock } from '../../worker/connectors/retry';
import { Semaphore, mapLimit } from '../../worker/connectors/semaphore';

/** Noon, 1 Jan 2026, on the second: HTTP dates carry whole seconds. */
const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);

function recordingClock(random = 0.5): Clock & { waits: number[] } {
	const waits: number[] = [];
	return { waits, now: () => NOW, random: () => random, sleep: async (ms) => void waits.push(ms) };
}

let server: ThrottleServer | undefined;
afterEach(async () => {
	await server?.close();
	server = undefined;
});

async function connectorFor(refusals: Refusal[], options: { attempts?: number; users?: number; clock?: Clock } = {}) {
	server = await startThrottleServer({ users: options.users ?? 7, refusals });
	const clock = options.clock ?? recordingClock();
	const connector = new ScimConnector({
		systemId: 'busy',
		baseUrl: server.url,
		token: 't',
		clock,
		// One request at a time: refusals land on requests in a known order.
		concurrency: 1,
		pageSize: 3,
		retry: { attempts: options.attempts ?? 5, baseMs: 100, capMs: 1000 }
	});
	return { connector, clock, server };
}

describe('SCIM connector under rate limits', () => {
	it('waits as Retry-After says (seconds, then an HTTP date), backs off without it, then reads', async () => {
		const clock = recordingClock(0.5);
		const { connector, server } = await connectorFor(
			[
				{ status: 429, retryAfter: '2' },
				{ status: 503, retryAfter: new Date(NOW + 5000).toUTCString() },
				{ status: 429 }
			],
			{ clock }
		);
		const snapshot = await connector.read();
		expect(snapshot.people.map((p) => p.id)).toEqual(['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7']);
		// 2 s; 5 s to the date; third retry without a header: 0.5 * min(1000, 100 * 2^2).
		expect(clock.waits).toEqual([2000, 5000, 200]);
		expect(server.log.slice(0, 4)).toEqual(Array(4).fill('GET /scim/v2/ServiceProviderConfig'));
	});

	it('falls back when the server has no discovery endpoints and no Groups', async () => {
		const { connector } = await connectorFor([]);
		expect(await connector.discover()).toMatchObject({ groups: false, roles: false, filter: false, softRemove: true });
		expect(connector.features).toEqual({});
		const snapshot = await connector.read();
		expect(snapshot.groups).toEqual([]);
		expect(snapshot.people).toHaveLength(7);
	});

	it('gives up after the bounded attempts with a retryable error', async () => {
		const clock = recordingClock();
		const { connector, server } = await connectorFor(Array(9).fill({ status: 429, retryAfter: '1' }), {
			attempts: 3,
			clock
		});
		const error = await connectorError(connector.read());
		expect(error).toMatchObject({ code: 'http', status: 429, retryable: true, system: 'busy' });
		expect(clock.waits).toEqual([1000, 1000]);
		expect(server.log).toHaveLength(3);
	});

	it('does not wait for a Retry-After beyond the limit', async () => {
		const clock = recordingClock();
		const { connector } = await connectorFor(
			[{ status: 503, retryAfter: String(DEFAULT_RETRY.maxRetryAfterMs / 1000 + 1) }],
			{ clock }
		);
		expect(await connectorError(connector.read())).toMatchObject({ code: 'http', status: 503, retryable: true });
		expect(clock.waits).toEqual([]);
	});

	it('reports an unreachable server after backing off', async () => {
		const closed = await startThrottleServer({ users: 0 });
		await closed.close();
		const clock = recordingClock(1);
		const connector = new ScimConnector({
			systemId: 'gone',
			baseUrl: closed.url,
			token: 't',
			clock,
			retry: { attempts: 3, baseMs: 100, capMs: 1000 }
		});
		expect(await connectorError(connector.read())).toMatchObject({
			code: 'unreachable',
			retryable: true,
			system: 'gone'
		});
		// The first request, tried three times: waits of 1 * 100, then 1 * 200.
		expect(clock.waits).toEqual([100, 200]);
	});

	it('stops at once when aborted while waiting', async () => {
		const controller = new AbortController();
		const clock: Clock = {
			now: () => NOW,
			random: () => 0,
			sleep: (ms, signal) => {
				controller.abort(new Error('run cancelled'));
				return realClock.sleep(ms, signal);
			}
		};
		const { connector } = await connectorFor([{ status: 429, retryAfter: '30' }], { clock });
		await expect(connector.read(controller.signal)).rejects.toThrow('run cancelled');
	});
});

describe('Retry-After and backoff', () => {
	it.each([
		{ header: '120', expected: 120_000 },
		{ header: ' 3 ', expected: 3000 },
		{ header: '0', expected: 0 },
		{ header: new Date(NOW + 90_000).toUTCString(), expected: 90_000 },
		{ header: new Date(NOW - 90_000).toUTCString(), expected: 0 },
		{ header: 'soon', expected: undefined },
		{ header: null, expected: undefined }
	])('Retry-After $header waits $expected ms', ({ header, expected }) => {
		expect(parseRetryAfter(header, NOW)).toBe(expected);
	});

	test.prop([fc.nat(20), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })])(
		'backoff is full jitter: between 0 and the capped exponential',
		(retry, random) => {
			const delay = backoffDelay(retry, DEFAULT_RETRY, () => random);
			expect(delay).toBeGreaterThanOrEqual(0);
			expect(delay).toBeLessThanOrEqual(Math.min(DEFAULT_RETRY.capMs, DEFAULT_RETRY.baseMs * 2 ** retry));
		}
	);
});

describe('Semaphore', () => {
	test.prop([fc.integer({ min: 1, max: 6 }), fc.array(fc.nat(5), { minLength: 1, maxLength: 30 })])(
		'never runs more than its limit at once, and runs everything',
		async (limit, ticks) => {
			const semaphore = new Semaphore(limit);
			let running = 0;
			let peak = 0;
			const done = await Promise.all(
				ticks.map((t, i) =>
					semaphore.run(async () => {
						peak = Math.max(peak, ++running);
						for (let k = 0; k < t; k++) await Promise.resolve();
						running--;
						return i;
					})
				)
			);
			expect(peak).toBeLessThanOrEqual(limit);
			expect(done).toEqual(ticks.map((_, i) => i));
			expect(semaphore.active + semaphore.waiting).toBe(0);
		}
	);

	it('gives the permit back when a task fails', async () => {
		const semaphore = new Semaphore(1);
		await expect(semaphore.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
		await expect(semaphore.run(async () => 'next')).resolves.toBe('next');
	});

	it('mapLimit keeps input order', async () => {
		expect(await mapLimit([3, 1, 2], 2, async (n) => n * 10)).toEqual([30, 10, 20]);
	});

	it('refuses a limit below one', () => {
		expect(() => new Semaphore(0)).toThrow(RangeError);
	});
});
