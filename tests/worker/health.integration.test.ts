import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import pkg from '../../package.json';

describe('GET /api/health', () => {
	it('answers publicly with the service name and version', async () => {
		const res = await exports.default.fetch('http://rostersync.test/api/health');
		expect(res.status).toBe(200);
		expect(res.headers.get('content-type')).toMatch(/^application\/json/);
		expect(await res.json()).toEqual({ ok: true, service: 'rostersync', version: pkg.version });
	});

	it('answers other /api/ paths with a JSON 404, not the SPA shell', async () => {
		const res = await exports.default.fetch('http://rostersync.test/api/nope');
		expect(res.status).toBe(404);
		expect(await res.json()).toMatchObject({ error: 'not-found', path: '/api/nope' });
	});
});
