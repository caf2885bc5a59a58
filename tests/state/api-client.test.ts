/**
 * The typed API client: errors as ApiError (offline is status 0), an answer cut off part-way (read
 * again once when it is a read), and the event-stream parser.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ApiError, createApi, sseParser } from '../../src/lib/api/client';
import { classify } from '../../src/lib/state/outbox.svelte';

describe('event stream parser', () => {
	test('events split across chunks, comments, CRLF and multi-line data', () => {
		const seen: string[] = [];
		const feed = sseParser((event, data) => seen.push(`${event}=${data}`));
		for (const chunk of [
			': hello\n\nevent: progress\nda',
			'ta: {"a":1}\n\n',
			'event: progress\r\ndata: x\r\ndata: y\r\n\r\n',
			'data: plain\n\n'
		])
			feed(chunk);
		expect(seen).toEqual(['progress={"a":1}', 'progress=x\ny', 'message=plain']);
	});
});

describe('api client', () => {
	const api = (impl: typeof fetch) => createApi({ auth: () => ({ base: 'http://edge', token: 't0k' }), fetch: impl });

	test('sends the bearer token and decodes JSON', async () => {
		let seen: RequestInit | undefined;
		const me = await api(async (_url, init) => {
			seen = init;
			return new Response(JSON.stringify({ subject: 'token:ci', role: 'owner', via: 'token' }), { status: 200 });
		}).me();
		expect(me.role).toBe('owner');
		expect((seen!.headers as Record<string, string>).authorization).toBe('Bearer t0k');
	});

	test('an error answer becomes an ApiError with code, message and issues', async () => {
		const err = await api(
			async () =>
				new Response(
					JSON.stringify({ error: 'invalid', message: 'Bad', issues: [{ record: 'r', field: 'f', message: 'm' }] }),
					{ status: 400 }
				)
		)
			.createSystem({ name: '', connector: 'scim', baseUrl: '', region: 'eu' })
			.catch((e) => e);
		expect(err).toBeInstanceOf(ApiError);
		expect(err).toMatchObject({ status: 400, code: 'invalid', message: 'Bad', offline: false });
		expect(err.issues).toHaveLength(1);
	});

	test('a CSV upload sends the bytes of the file as a form, and a refusal keeps its issue count', async () => {
		const bytes = new Uint8Array([...new TextEncoder().encode('ID\nJos'), 0xe9]);
		let seen: RequestInit | undefined;
		const err = await api(async (_url, init) => {
			seen = init;
			return new Response(
				JSON.stringify({ error: 'invalid', message: 'Refused', issues: [{ row: 2, message: 'm' }], issueCount: 7 }),
				{
					status: 400
				}
			);
		})
			.uploadCsv('sys_1', { file: new Blob([bytes]), columns: { externalId: 'ID' } })
			.catch((e) => e);
		expect((seen!.headers as Record<string, string>)['content-type']).toBeUndefined();
		const form = seen!.body as FormData;
		expect(JSON.parse(form.get('columns') as string)).toEqual({ externalId: 'ID' });
		expect(new Uint8Array(await (form.get('file') as Blob).arrayBuffer())).toEqual(bytes);
		expect(err).toMatchObject({ status: 400, body: { issueCount: 7 } });
	});

	test('no answer at all is offline (status 0)', async () => {
		const err = await api(async () => {
			throw new TypeError('Failed to fetch');
		})
			.links()
			.catch((e) => e);
		expect(err).toMatchObject({ status: 0, offline: true });
	});

	test('progress events are decoded until the stream ends', async () => {
		const body =
			'event: progress\ndata: {"status":"running","tally":{"total":2,"done":1,"failed":0,"skipped":0,"staged":0,"pending":1}}\n\nevent: progress\ndata: {"status":"done","tally":{"total":2,"done":2,"failed":0,"skipped":0,"staged":0,"pending":0}}\n\n';
		const seen: string[] = [];
		await api(
			async () => new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } })
		).runEvents('L1', 'R1', (p) => seen.push(`${p.status}:${p.tally.done}`));
		expect(seen).toEqual(['running:1', 'done:2']);
	});
});

describe('an answer cut off part-way', () => {
	// A server on 127.0.0.1 that sends the headers and half the body of its next `cuts` answers,
	// then drops the connection, as a connection lost under load does.
	let server: Server;
	let base = '';
	let cuts = 0;
	let served = 0;
	const plan = JSON.stringify({ linkId: 'L1', ops: Array.from({ length: 5000 }, (_, i) => ({ key: `k${i}` })) });

	beforeAll(async () => {
		server = createServer((req, res) => {
			served++;
			const body = req.method === 'GET' ? plan : JSON.stringify({ accepted: ['c1'], stale: [] });
			res.writeHead(200, {
				'content-type': 'application/json',
				'content-length': String(Buffer.byteLength(body)),
				etag: '"plan-1"'
			});
			if (cuts === 0) return res.end(body);
			cuts--;
			res.write(body.slice(0, body.length / 2), () => res.socket?.destroy());
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	});
	afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

	const api = () => createApi({ auth: () => ({ base, token: 't0k' }) });

	test('a read is made once more, and the caller gets the whole answer', async () => {
		cuts = 1;
		served = 0;
		expect(await api().planIfChanged('L1', undefined)).toEqual({ value: JSON.parse(plan), etag: '"plan-1"' });
		expect(served).toBe(2);
		cuts = 1;
		served = 0;
		expect(await api().plan('L1')).toEqual(JSON.parse(plan));
		expect(served).toBe(2);
	});

	test('cut twice, the read fails saying so: an ApiError, not offline', async () => {
		cuts = 2;
		served = 0;
		const err = await api()
			.plan('L1')
			.catch((e) => e);
		expect(err).toBeInstanceOf(ApiError);
		expect(err).toMatchObject({ status: 200, code: 'answer-cut', offline: false });
		expect(err.message).toContain('cut off before its end');
		expect(served).toBe(2);
	});

	test('a write is sent once: its lost answer is an error the outbox sends again later', async () => {
		cuts = 1;
		served = 0;
		const err = await api()
			.sendResolutions('L1', [])
			.catch((e) => e);
		expect(err).toMatchObject({ code: 'answer-cut', offline: false });
		expect(served).toBe(1);
		expect(classify(err)).toEqual({ retry: true, message: err.message });
	});
});
