/**
 * Fuzzing the API's own routes in workerd: every route of the table (worker/api/router.ts), with an
 * owner's token, gets generated path parameters (ids that exist, ids that do not, malformed
 * percent-encodings, dot segments), bodies (plausible shapes with wrong types, any JSON, not JSON,
 * not UTF-8) and content types. Whatever comes in: never a 500; an error is the API's JSON error
 * body (`{ error, message }`) whose status is the one its code has; the only 5xx a route may give
 * is a system's failure (502 source-failed) or something not set up here (503 not-configured).
 *
 * Left out: the sandbox's SCIM routes (sandbox.fuzz.test.ts) and the progress streams, which stay
 * open while a run lasts.
 */
import { env } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { fc, test } from '@fast-check/vitest';
import { beforeAll, describe, expect } from 'vitest';
import worker from '../../worker/index';
import { API_ROUTES, type Route } from '../../worker/api/router';
import { ERROR_CODES } from '../../worker/api/errors';
import { ORIGIN, api, expectJson, tokenFor, unique } from './support';

const ROUTES = API_ROUTES.filter((r) => !r.path.includes('/scim/v2') && !r.path.endsWith('/events'));

const ids = { system: '', other: '', link: '', rule: '', run: '' };
let owner: string;

beforeAll(async () => {
	owner = await tokenFor('owner');
	const system = async (name: string) =>
		(
			await expectJson(
				api('/api/systems', { token: owner, body: { name: unique(name), connector: 'sandbox', region: 'eu' } }),
				201
			)
		).id as string;
	ids.system = await system('fuzz-a');
	ids.other = await system('fuzz-b');
	await env.SANDBOXES.getByName(ids.system).seed({
		people: ['p-1', 'p-2', 'p-3'].map((id) => ({
			id,
			displayName: `Person ${id}`,
			email: `${id}@example.org`,
			memberType: 'staff' as const,
			buildings: ['north'],
			active: true
		})),
		groups: [{ id: 'g-1', name: 'Group 1', kind: 'group' as const }],
		memberships: [{ groupId: 'g-1', personId: 'p-1', role: 'member' as const }]
	});
	ids.rule = (
		await expectJson(
			api(`/api/systems/${ids.system}/rules`, {
				token: owner,
				body: {
					name: 'North staff',
					groupId: 'g-1',
					scope: 'buildings',
					buildings: ['north'],
					memberTypes: ['staff'],
					role: 'member'
				}
			}),
			201
		)
	).id;
	ids.link = (
		await expectJson(
			api('/api/links', {
				token: owner,
				body: { name: unique('fuzz'), mode: 'two-way', systems: { a: ids.system, b: ids.other } }
			}),
			201
		)
	).config.id;
	ids.run = (await expectJson(api(`/api/links/${ids.link}/runs`, { token: owner, body: { dryRun: true } }), 202)).id;
});

const MALFORMED = [
	'%',
	'%zz',
	'%E0%A4%A',
	'%C0%AF',
	'%00',
	'%2F',
	'..',
	'.',
	'%2e%2e',
	'a%20b',
	'\u00e9',
	'x'.repeat(300)
];
const RIGHT = Symbol('the existing id this parameter names');
/** A path parameter: mostly the existing id it names, so the handler gets past its lookup. */
const arbParam: fc.Arbitrary<string | typeof RIGHT> = fc.oneof(
	{ weight: 6, arbitrary: fc.constant(RIGHT) },
	fc.constantFrom('system', 'other', 'link', 'rule', 'run'),
	fc.constantFrom(...MALFORMED),
	fc.string({ maxLength: 12 }).map((s) => encodeURIComponent(s))
);

const KEYS = [
	'name',
	'mode',
	'systems',
	'connector',
	'region',
	'baseUrl',
	'token',
	'dryRun',
	'enabled',
	'schedule',
	'match',
	'fieldMap',
	'limits',
	'resolutions',
	'role',
	'email',
	'code',
	'rules',
	'filter',
	'people',
	'csv',
	'counts',
	'__proto__',
	'constructor'
];
const arbValue = fc.oneof(
	fc.jsonValue({ maxDepth: 2 }),
	fc.constantFrom('', 'x'.repeat(5000), '\u0000', 'two-way', 'provision', 'owner', 'sandbox', -1, 1e308, null),
	fc.constant(undefined)
);
const arbBody = fc.oneof(
	{
		weight: 4,
		arbitrary: fc.dictionary(fc.constantFrom(...KEYS), arbValue, { maxKeys: 5 }).map((b) => JSON.stringify(b))
	},
	fc.jsonValue({ maxDepth: 3 }).map((b) => JSON.stringify(b)),
	fc.constantFrom('', '{', '{"a":', 'null', '[]', '"x"', 'name=x&mode=y', '{"a":1}{"b":2}'),
	fc.string({ maxLength: 40 }),
	fc.uint8Array({ maxLength: 40 }),
	fc.integer({ min: 100, max: 3000 }).map((n) => `{"a":${'['.repeat(n)}${']'.repeat(n)}}`)
);
const arbContentType = fc.constantFrom(
	'application/json',
	'application/json',
	'application/json; charset=utf-8',
	'text/csv',
	'text/plain',
	'multipart/form-data; boundary=x',
	undefined
);
const arbRequest = fc.record({
	route: fc.constantFrom(...ROUTES),
	params: fc.array(arbParam, { minLength: 3, maxLength: 3 }),
	body: fc.option(arbBody, { nil: undefined, freq: 5 }),
	contentType: arbContentType,
	query: fc.option(
		fc.dictionary(
			fc.constantFrom('limit', 'offset', 'dryRun', 'since', 'cursor', 'kind', 'page', 'q', 'change'),
			fc.oneof(
				fc.string({ maxLength: 8 }),
				fc.nat().map(String),
				// Numbers SQLite cannot bind as a limit or an offset.
				fc.constantFrom('1.5', '1e20', '-1', '', '0x10', 'NaN', 'Infinity', '99999999999999999999')
			)
		),
		{ nil: undefined }
	)
});

/** The route's path with each `:name` filled in: the id it names, another one, or nonsense. */
function pathOf(route: Route, params: (string | typeof RIGHT)[]): string {
	let n = 0;
	return route.path
		.split('/')
		.map((segment) => {
			if (!segment.startsWith(':')) return segment;
			const name = segment.slice(1);
			const pick = params[n++ % params.length];
			// The fixtures every other request needs are never deleted (deletion has its own tests).
			if (route.method === 'DELETE' && (pick === RIGHT || pick in ids)) return `${name}_nope`;
			if (pick !== RIGHT) return pick in ids ? ids[pick as keyof typeof ids] : pick;
			if (name === 'systemId' || (name === 'id' && route.path.startsWith('/api/systems/'))) return ids.system;
			if (name === 'id') return ids.link;
			if (name === 'ruleId') return ids.rule;
			if (name === 'runId') return ids.run;
			if (name === 'personId') return 'p-1';
			return `${name}_nope`;
		})
		.join('/');
}

describe('fuzzing the API routes', () => {
	test.prop([arbRequest], { numRuns: 1000 })(
		'never a 500; an error is the API error body with the status of its code',
		async (r) => {
			const path = pathOf(r.route, r.params);
			const query = r.query && Object.keys(r.query).length > 0 ? `?${new URLSearchParams(r.query)}` : '';
			const method = r.route.method === 'ANY' ? 'POST' : r.route.method;
			const withBody = r.body !== undefined && method !== 'GET' && method !== 'DELETE';
			const headers: Record<string, string> = { authorization: `Bearer ${owner}` };
			if (withBody && r.contentType) headers['content-type'] = r.contentType;
			// The Worker's own fetch, called directly: the test pool's loopback (exports.default.fetch)
			// grows slower with every request a file makes (12 ms at first, 300 ms after 600).
			const ctx = createExecutionContext();
			const res = await worker.fetch(
				new Request(`${ORIGIN}${path}${query}`, { method, headers, body: withBody ? r.body : undefined }),
				env,
				ctx
			);
			const text = await res.text();
			const what = `${method} ${path}${query} ${withBody ? String(r.body).slice(0, 200) : ''} → ${res.status} ${text.slice(0, 300)}`;
			expect(res.status, what).not.toBe(500);
			if (res.status >= 400) {
				const body = JSON.parse(text);
				expect(Object.keys(ERROR_CODES), what).toContain(body.error);
				expect(typeof body.message, what).toBe('string');
				expect(res.status, what).toBe(ERROR_CODES[body.error as keyof typeof ERROR_CODES]);
				if (res.status >= 500) expect(['source-failed', 'not-configured'], what).toContain(body.error);
			}
			await waitOnExecutionContext(ctx);
			expect(({} as Record<string, unknown>).polluted).toBeUndefined();
		},
		// Some routes reconcile or start a run: hundreds of requests take longer than the default.
		120_000
	);
});
