/**
 * /api/systems/:systemId/rules and /api/rules: auto-membership rules and their runs (docs/api.md,
 * "Rules"). Each system's rules live in its RulesDO (named by the system id); the account keeps
 * which system a rule is on. Owners change rules, reviewers preview (and dry-run), viewers read.
 */
import * as v from 'valibot';
import { RULE_CHANGE_KINDS, RULE_SCOPES } from '$lib/core';
import { MEMBER_TYPES, ROLES } from '$lib/core/model';
import type { RuleConfig, RulePatch } from '$lib/api/rules';
import type { Env } from '../env';
import { json } from '../http';
import { account } from '../account/account-do';
import { requireRole } from '../auth';
import { randomToken } from '../crypto';
import { progressStream } from '../link/progress';
import { rulesOf, type PreviewQuery } from '../rules/rules-do';
import { ApiError, parseBody, readJson, unwrap } from './errors';
import { intParam } from './params';
import type { Route, RouteContext } from './router';

const Name = v.pipe(
	v.string('must be a string'),
	v.trim(),
	v.minLength(1, 'must not be empty'),
	v.maxLength(100, 'is longer than 100 characters')
);
const Id = v.pipe(v.string('must be a string'), v.minLength(1, 'must not be empty'), v.maxLength(256, 'is too long'));
const Buildings = v.pipe(
	v.array(
		v.pipe(v.string('must be a building identifier'), v.trim(), v.minLength(1, 'must not be empty')),
		'must be a list of buildings'
	),
	v.maxLength(500, 'lists more than 500 buildings')
);
const MemberTypes = v.pipe(
	v.array(v.picklist(MEMBER_TYPES, `must be ${MEMBER_TYPES.join(' or ')}`), 'must be a list of member types'),
	v.minLength(1, 'must name staff, student or both')
);
const fields = {
	name: Name,
	groupId: Id,
	scope: v.picklist(RULE_SCOPES, `must be ${RULE_SCOPES.join(' or ')}`),
	buildings: v.optional(Buildings, []),
	memberTypes: MemberTypes,
	role: v.picklist(ROLES, `must be ${ROLES.join(' or ')}`)
};
const withBuildings = <T extends { scope?: string; buildings?: string[] }>(r: T) =>
	r.scope !== 'buildings' || (r.buildings?.length ?? 0) > 0;
const BUILDINGS_NEEDED = 'a rule of scope buildings names at least one building';

const Config = v.pipe(v.strictObject(fields, 'is not a field of a rule'), v.check(withBuildings, BUILDINGS_NEEDED));
const NewRule = v.pipe(
	v.strictObject({ ...fields, enabled: v.optional(v.boolean('must be true or false')) }, 'is not a field of a rule'),
	v.check(withBuildings, BUILDINGS_NEEDED)
);
const Patch = v.strictObject(
	{
		name: v.optional(Name),
		groupId: v.optional(Id),
		scope: v.optional(fields.scope),
		buildings: v.optional(Buildings),
		memberTypes: v.optional(MemberTypes),
		role: v.optional(fields.role),
		enabled: v.optional(
			v.literal(
				true,
				'can only be true here: turning a rule off is POST /api/rules/:ruleId/disable, which asks what happens to its members'
			)
		)
	},
	'is not a field that can be changed'
);
const RunRequest = v.strictObject(
	{ dryRun: v.optional(v.boolean('must be true or false'), false) },
	'is not a field of a run request'
);
const DisableRequest = v.strictObject(
	{
		removeMembers: v.boolean('must be true (remove the members the rule added) or false (keep them)'),
		dryRun: v.optional(v.boolean('must be true or false'), false)
	},
	'is not a field of a disable request'
);
const UndoRequest = v.strictObject(
	{ dryRun: v.optional(v.boolean('must be true or false'), false) },
	'is not a field of an undo request'
);

function previewQuery(url: URL): PreviewQuery {
	const change = url.searchParams.get('change') ?? undefined;
	if (change !== undefined && !(RULE_CHANGE_KINDS as readonly string[]).includes(change))
		throw new ApiError('invalid', `Query parameter change must be one of ${RULE_CHANGE_KINDS.join(', ')}.`, [
			{ field: 'change', message: `must be one of ${RULE_CHANGE_KINDS.join(', ')}` }
		]);
	const q = url.searchParams.get('q') ?? undefined;
	return {
		q: q?.slice(0, 200),
		change: change as PreviewQuery['change'],
		offset: intParam(url, 'offset', 0),
		limit: Math.min(intParam(url, 'limit', 50), 500)
	};
}

async function systemOf(env: Env, systemId: string) {
	const system = await account(env).getSystem(systemId);
	if (!system) throw new ApiError('not-found', `There is no system "${systemId}".`);
	return system;
}

/** The RulesDO of the system a rule lives on, or a 404. */
async function ruleHome(env: Env, ruleId: string) {
	const systemId = await account(env).ruleSystem(ruleId);
	if (!systemId) throw new ApiError('not-found', `There is no rule "${ruleId}".`);
	return { systemId, rules: rulesOf(env, systemId) };
}

const body = async <S extends v.GenericSchema>(c: RouteContext, schema: S, what: string) =>
	parseBody(schema, (await readJson(c.request)) ?? {}, what);

export const ruleRoutes: Route[] = [
	{
		method: 'GET',
		path: '/api/systems/:systemId/rules',
		role: 'viewer',
		handler: async ({ env, params }) => {
			await systemOf(env, params.systemId);
			return json(await rulesOf(env, params.systemId).list());
		}
	},
	{
		method: 'POST',
		path: '/api/systems/:systemId/rules',
		role: 'owner',
		handler: async (c) => {
			const rule = parseBody(NewRule, await readJson(c.request), 'rule');
			await systemOf(c.env, c.params.systemId);
			const id = `rul_${randomToken(9)}`;
			// Indexed first: a rule the DO holds is always found by its id.
			await account(c.env).indexRule(id, c.params.systemId);
			const result = await rulesOf(c.env, c.params.systemId).create({
				id,
				systemId: c.params.systemId,
				rule,
				startedBy: c.caller.name
			});
			if (!result.ok) await account(c.env).unindexRule(id);
			return json(unwrap(result), 201);
		}
	},
	{
		method: 'POST',
		path: '/api/systems/:systemId/rules/preview',
		role: 'reviewer',
		handler: async (c) => {
			const config = parseBody(Config, await readJson(c.request), 'rule') as RuleConfig;
			await systemOf(c.env, c.params.systemId);
			return json(
				unwrap(await rulesOf(c.env, c.params.systemId).preview(c.params.systemId, { config }, previewQuery(c.url)))
			);
		}
	},
	{
		method: 'GET',
		path: '/api/rules/:ruleId',
		role: 'viewer',
		handler: async ({ env, params }) => {
			const { rules } = await ruleHome(env, params.ruleId);
			const view = await rules.get(params.ruleId);
			if (!view) throw new ApiError('not-found', `There is no rule "${params.ruleId}".`);
			return json(view);
		}
	},
	{
		method: 'PATCH',
		path: '/api/rules/:ruleId',
		role: 'owner',
		handler: async (c) => {
			const patch = parseBody(Patch, await readJson(c.request), 'rule changes') as RulePatch;
			const { rules } = await ruleHome(c.env, c.params.ruleId);
			if (patch.scope === 'buildings' && patch.buildings?.length === 0)
				throw new ApiError('invalid', `Invalid rule changes: buildings: ${BUILDINGS_NEEDED}.`, [
					{ field: 'buildings', message: BUILDINGS_NEEDED }
				]);
			const current = await rules.get(c.params.ruleId);
			if (
				current &&
				!withBuildings({ scope: patch.scope ?? current.scope, buildings: patch.buildings ?? current.buildings })
			)
				throw new ApiError('invalid', `Invalid rule changes: buildings: ${BUILDINGS_NEEDED}.`, [
					{ field: 'buildings', message: BUILDINGS_NEEDED }
				]);
			return json(unwrap(await rules.update(c.params.ruleId, patch, c.caller.name)));
		}
	},
	{
		method: 'DELETE',
		path: '/api/rules/:ruleId',
		role: 'owner',
		handler: async ({ env, params }) => {
			const { rules } = await ruleHome(env, params.ruleId);
			unwrap(await rules.remove(params.ruleId));
			await account(env).unindexRule(params.ruleId);
			return new Response(null, { status: 204 });
		}
	},
	{
		method: 'POST',
		path: '/api/rules/:ruleId/preview',
		role: 'reviewer',
		handler: async (c) => {
			const patch = parseBody(Patch, (await readJson(c.request)) ?? {}, 'rule changes') as RulePatch;
			const { systemId, rules } = await ruleHome(c.env, c.params.ruleId);
			return json(unwrap(await rules.preview(systemId, { ruleId: c.params.ruleId, patch }, previewQuery(c.url))));
		}
	},
	{
		method: 'POST',
		path: '/api/rules/:ruleId/run',
		role: 'reviewer',
		handler: async (c) => {
			const { dryRun } = await body(c, RunRequest, 'run request');
			if (!dryRun) requireRole(c.caller, 'owner', 'apply a rule to its system (a reviewer may start a dry run)');
			const { rules } = await ruleHome(c.env, c.params.ruleId);
			const run = unwrap(await rules.run(c.params.ruleId, { dryRun, startedBy: c.caller.name }));
			return json(run, dryRun ? 200 : 202);
		}
	},
	{
		method: 'POST',
		path: '/api/rules/:ruleId/disable',
		role: 'reviewer',
		handler: async (c) => {
			const { removeMembers, dryRun } = parseBody(DisableRequest, await readJson(c.request), 'disable request');
			if (!dryRun) requireRole(c.caller, 'owner', 'turn a rule off (a reviewer may ask what it would touch)');
			const { rules } = await ruleHome(c.env, c.params.ruleId);
			return json(unwrap(await rules.disable(c.params.ruleId, { removeMembers, dryRun, startedBy: c.caller.name })));
		}
	},
	{
		method: 'GET',
		path: '/api/rules/:ruleId/runs',
		role: 'viewer',
		handler: async ({ env, params, url }) => {
			const { rules } = await ruleHome(env, params.ruleId);
			const runs = await rules.runs(params.ruleId, intParam(url, 'limit', 30));
			if (!runs) throw new ApiError('not-found', `There is no rule "${params.ruleId}".`);
			return json(runs);
		}
	},
	{
		method: 'GET',
		path: '/api/rules/:ruleId/runs/:runId',
		role: 'viewer',
		handler: async ({ env, params, url }) => {
			const { rules } = await ruleHome(env, params.ruleId);
			const run = await rules.runDetails(
				params.ruleId,
				params.runId,
				intParam(url, 'offset', 0),
				intParam(url, 'limit', 500)
			);
			if (!run) throw new ApiError('not-found', `Rule "${params.ruleId}" has no run "${params.runId}".`);
			return json(run);
		}
	},
	{
		method: 'GET',
		path: '/api/rules/:ruleId/runs/:runId/events',
		role: 'viewer',
		handler: async ({ env, params, request }) => {
			const { rules } = await ruleHome(env, params.ruleId);
			const poll = () => rules.progress(params.ruleId, params.runId);
			if (!(await poll())) throw new ApiError('not-found', `Rule "${params.ruleId}" has no run "${params.runId}".`);
			return new Response(progressStream(poll, { signal: request.signal }), {
				headers: {
					'content-type': 'text/event-stream; charset=utf-8',
					'cache-control': 'no-store',
					connection: 'keep-alive'
				}
			});
		}
	},
	{
		method: 'POST',
		path: '/api/rules/:ruleId/runs/:runId/undo',
		role: 'reviewer',
		handler: async (c) => {
			const { dryRun } = await body(c, UndoRequest, 'undo request');
			if (!dryRun) requireRole(c.caller, 'owner', 'undo a rule’s run (a reviewer may ask what it would touch)');
			const { rules } = await ruleHome(c.env, c.params.ruleId);
			const answer = unwrap(await rules.undo(c.params.ruleId, c.params.runId, { dryRun, startedBy: c.caller.name }));
			return json(answer, dryRun ? 200 : 202);
		}
	}
];
