/** The rules routes of the API client: each method's verb, path, query and body, and run progress. */
import { describe, expect, test } from 'vitest';
import { createApi } from '../../src/lib/api/client';
import type { RuleConfig } from '../../src/lib/api/rules';

type Seen = { method: string; url: string; body?: unknown };

function recording(answer: unknown = {}) {
	const seen: Seen[] = [];
	const api = createApi({
		auth: () => ({ base: 'http://edge', token: 't0k' }),
		fetch: async (url, init) => {
			seen.push({
				method: init?.method ?? 'GET',
				url: String(url),
				body: init?.body === undefined ? undefined : JSON.parse(init.body as string)
			});
			return new Response(JSON.stringify(answer), { status: 200 });
		}
	});
	return { api, seen };
}

const config: RuleConfig = {
	name: 'Lincoln staff',
	groupId: 'mg/1',
	scope: 'buildings',
	buildings: ['LIN'],
	memberTypes: ['staff'],
	role: 'member'
};

describe('rules routes', () => {
	test.each<[string, (api: ReturnType<typeof createApi>) => Promise<unknown>, Seen]>([
		['list', (a) => a.rules('sys 1'), { method: 'GET', url: 'http://edge/api/systems/sys%201/rules' }],
		[
			'create, on',
			(a) => a.createRule('s1', { ...config, enabled: true }),
			{ method: 'POST', url: 'http://edge/api/systems/s1/rules', body: { ...config, enabled: true } }
		],
		[
			'preview a new rule, searched and paged',
			(a) => a.previewNewRule('s1', config, { q: 'ada lo', offset: 100, limit: 50 }),
			{ method: 'POST', url: 'http://edge/api/systems/s1/rules/preview?q=ada+lo&offset=100&limit=50', body: config }
		],
		['one rule', (a) => a.rule('r/1'), { method: 'GET', url: 'http://edge/api/rules/r%2F1' }],
		[
			'turn on',
			(a) => a.updateRule('r1', { enabled: true }),
			{ method: 'PATCH', url: 'http://edge/api/rules/r1', body: { enabled: true } }
		],
		['delete', (a) => a.deleteRule('r1'), { method: 'DELETE', url: 'http://edge/api/rules/r1' }],
		[
			'preview the saved rule',
			(a) => a.previewRule('r1'),
			{ method: 'POST', url: 'http://edge/api/rules/r1/preview', body: {} }
		],
		[
			'preview an edit',
			(a) => a.previewRule('r1', { role: 'manager' }, { limit: 100 }),
			{ method: 'POST', url: 'http://edge/api/rules/r1/preview?limit=100', body: { role: 'manager' } }
		],
		[
			'apply now',
			(a) => a.startRuleRun('r1', false),
			{ method: 'POST', url: 'http://edge/api/rules/r1/run', body: { dryRun: false } }
		],
		[
			'dry run',
			(a) => a.startRuleRun('r1', true),
			{ method: 'POST', url: 'http://edge/api/rules/r1/run', body: { dryRun: true } }
		],
		[
			'turn off, removing',
			(a) => a.disableRule('r1', true),
			{ method: 'POST', url: 'http://edge/api/rules/r1/disable', body: { removeMembers: true } }
		],
		[
			'what turning off keeping would touch',
			(a) => a.previewDisableRule('r1', false),
			{ method: 'POST', url: 'http://edge/api/rules/r1/disable', body: { removeMembers: false, dryRun: true } }
		],
		['runs', (a) => a.ruleRuns('r1', 10), { method: 'GET', url: 'http://edge/api/rules/r1/runs?limit=10' }],
		[
			'one run, paged',
			(a) => a.ruleRun('r1', 'rrn_1', 200, 100),
			{ method: 'GET', url: 'http://edge/api/rules/r1/runs/rrn_1?offset=200&limit=100' }
		],
		[
			'undo',
			(a) => a.undoRuleRun('r1', 'rrn_1'),
			{ method: 'POST', url: 'http://edge/api/rules/r1/runs/rrn_1/undo', body: {} }
		],
		[
			'what undo would reverse',
			(a) => a.previewUndoRuleRun('r1', 'rrn_1'),
			{ method: 'POST', url: 'http://edge/api/rules/r1/runs/rrn_1/undo', body: { dryRun: true } }
		]
	])('%s', async (_name, call, expected) => {
		const { api, seen } = recording();
		await call(api);
		expect(seen).toEqual([expected]);
	});

	test("a rule run's progress is followed from its own stream until it ends", async () => {
		let url = '';
		const body =
			'event: progress\ndata: {"status":"running","tally":{"total":3,"done":1,"failed":0,"skipped":0,"staged":0,"pending":2}}\n\n' +
			'event: progress\ndata: not json\n\n' +
			'event: progress\ndata: {"status":"done","tally":{"total":3,"done":3,"failed":0,"skipped":0,"staged":0,"pending":0}}\n\n';
		const seen: string[] = [];
		await createApi({
			auth: () => ({ base: '', token: 't' }),
			fetch: async (u) => {
				url = String(u);
				return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
			}
		}).ruleRunEvents('r1', 'rrn_1', (p) => seen.push(`${p.status}:${p.tally.done}`));
		expect(url).toBe('/api/rules/r1/runs/rrn_1/events');
		expect(seen).toEqual(['running:1', 'done:3']);
	});
});
