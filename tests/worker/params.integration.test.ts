/**
 * Query parameters (worker/api/params.ts): a limit or an offset is a non-negative whole number in
 * plain digits, or the request is a 400 naming it. A fraction, or an integer past what SQLite
 * binds as 64 bits, once reached SQLite from a viewer's request and came back a 500.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../worker/api/errors';
import { intParam } from '../../worker/api/params';
import type { RunSummary } from '../../worker/link/types';
import { finish, newLink, roster, sandboxSystem } from '../support/links';
import { api, expectJson, tokenFor } from './support';

describe('intParam', () => {
	const read = (query: string) => intParam(new URL(`https://x.example/api?${query}`), 'limit', 30);
	it.each([
		['', 30],
		['limit=0', 0],
		['limit=50', 50],
		['limit=007', 7],
		['limit=999999999999999', 999_999_999_999_999]
	])('?%s is %d', (query, value) => {
		expect(read(query)).toBe(value);
	});
	it.each([
		'limit=1.5',
		'limit=1e20',
		'limit=-1',
		'limit=',
		'limit=0x10',
		'limit=%201',
		'limit=NaN',
		'limit=1000000000000000'
	])('?%s is refused, naming the parameter', (query) => {
		expect(() => read(query)).toThrow(ApiError);
		expect(() => read(query)).toThrow('Query parameter limit must be a non-negative integer.');
	});
});

describe("a viewer's limits and offsets at the routes", () => {
	let viewer: string;
	let linkId: string;
	let runId: string;

	beforeAll(async () => {
		const owner = await tokenFor('owner');
		viewer = await tokenFor('viewer');
		const a = await sandboxSystem(roster('lim', 2, 1), 'Operations Center');
		const b = await sandboxSystem({ people: [], groups: [], memberships: [] }, 'Team Manager');
		linkId = await newLink(owner, {
			mode: 'two-way',
			systems: { a: a.id, b: b.id },
			incidents: { from: 'a', as: 'event' }
		});
		await expectJson(api(`/api/links/${linkId}/reconcile`, { token: owner, body: {} }), 200);
		runId = (
			await expectJson<RunSummary>(api(`/api/links/${linkId}/runs`, { token: owner, body: { dryRun: true } }), 202)
		).id;
		await finish(linkId, runId);
	});

	it.each([
		['incidents?limit=1.5', 'limit', () => `/api/links/${linkId}/incidents?limit=1.5`],
		['runs?limit=2.5', 'limit', () => `/api/links/${linkId}/runs?limit=2.5`],
		['runs/:runId?offset=1e20', 'offset', () => `/api/links/${linkId}/runs/${runId}?offset=1e20`],
		['notices?limit=99999999999999999999', 'limit', () => `/api/links/${linkId}/notices?limit=99999999999999999999`]
	])('GET %s is a 400 naming the parameter', async (_, name, path) => {
		const body = await expectJson(api(path(), { token: viewer }), 400);
		expect(body).toMatchObject({ error: 'invalid', issues: [{ field: name }] });
	});

	it('a whole number still reads the page', async () => {
		const run = await expectJson(api(`/api/links/${linkId}/runs/${runId}?offset=0&limit=10`, { token: viewer }), 200);
		expect(run).toMatchObject({ id: runId });
		expect(await expectJson(api(`/api/links/${linkId}/incidents?limit=5`, { token: viewer }), 200)).toEqual(
			expect.any(Array)
		);
	});
});
