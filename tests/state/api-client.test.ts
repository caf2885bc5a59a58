/** The typed API client: errors as ApiError (offline is status 0), and the event-stream parser. */
import { describe, expect, test } from 'vitest';
import { ApiError, createApi, sseParser } from '../../src/lib/api/client';

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
