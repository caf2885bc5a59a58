/**
 * /api/links: links and their runs (docs/api.md, "Links" and "Runs"). Each link lives in its own
 * LinkDO (named by the link id); these handlers check roles, validate, and translate the DO's
 * answers (plain data or a refusal) to HTTP. Large bodies (a plan, snapshots) are streamed.
 */
import * as v from 'valibot';
import type { LinkConfig, Snapshot } from '$lib/core';
import type { Env } from '../env';
import { acceptsGzip, json, requestedTags, taggedJson } from '../http';
import { account } from '../account/account-do';
import { requireRole } from '../auth';
import { randomToken } from '../crypto';
import { connectorFor } from '../systems/connect';
import { assertSameRegion } from '../systems/region';
import { jsonParts } from '../link/json-chunks';
import { progressStream } from '../link/progress';
import type { LinkView } from '../link/types';
import { ApiError, parseBody, readJson, unwrap } from './errors';
import { intParam } from './params';
import type { Route, RouteContext } from './router';

const stub = (env: Env, id: string) => env.LINKS.getByName(id);

async function linkOf(env: Env, id: string): Promise<LinkView> {
	const view = await stub(env, id).get();
	if (!view) throw new ApiError('not-found', `There is no link "${id}".`);
	return view;
}

/**
 * `read` of link `id`, asked together with whether the link exists: on a busy isolate every call
 * waits its turn, and two asked at once wait once. A missing link is a 404 whatever `read` found.
 */
async function withLink<T>(env: Env, id: string, read: () => Promise<T>): Promise<T> {
	const [view, value] = await Promise.allSettled([linkOf(env, id), read()]);
	if (view.status === 'rejected') throw view.reason;
	if (value.status === 'rejected') throw value.reason;
	return value.value;
}

/** A JSON response streamed from parts (no whole-body string in memory). */
function streamJson(parts: Iterable<string>, status = 200): Response {
	const encoder = new TextEncoder();
	const iterator = parts[Symbol.iterator]();
	const body = new ReadableStream<Uint8Array>({
		pull(controller) {
			// Batch small parts into chunks of about 64 KB.
			let chunk = '';
			for (let next = iterator.next(); ; next = iterator.next()) {
				if (next.done) {
					if (chunk) controller.enqueue(encoder.encode(chunk));
					controller.close();
					return;
				}
				chunk += next.value;
				if (chunk.length >= 65_536) break;
			}
			controller.enqueue(encoder.encode(chunk));
		}
	});
	return new Response(body, {
		status,
		headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }
	});
}

/**
 * The current plan of a link, as stored (JSON text), with its ETag; 304 when `known` (the
 * caller's If-None-Match) names it; 404 before the first reconciliation.
 */
async function planResponse(env: Env, id: string, known: string[] = [], gzip = false): Promise<Response> {
	const answer = await stub(env, id).plan(known, gzip);
	if (!answer)
		throw new ApiError('not-found', `Link "${id}" has not been reconciled yet: POST /api/links/${id}/reconcile first.`);
	return taggedJson(answer);
}

const NewLink = v.looseObject({
	name: v.string('must be a string'),
	mode: v.string('must be a string'),
	systems: v.object(
		{ a: v.string('must be a system id'), b: v.string('must be a system id') },
		'must be { a, b } with two system ids'
	)
});

const RunRequest = v.strictObject(
	{ dryRun: v.optional(v.boolean('must be true or false'), false) },
	'is not a field of a run request'
);

/** `expect`: the digest of the undo preview the owner confirmed (GET …/undo); absent, no check. */
const UndoRequest = v.strictObject(
	{ expect: v.optional(v.pipe(v.string('must be a string'), v.maxLength(64, 'is longer than 64 characters'))) },
	'is not a field of an undo request'
);

async function createLink({ env, request }: RouteContext): Promise<Response> {
	const raw = await readJson(request);
	const body = parseBody(NewLink, raw, 'link');
	if ('enabled' in (raw as object) && (raw as { enabled?: unknown }).enabled !== false) {
		throw new ApiError(
			'invalid',
			'Invalid link: enabled: a new link starts disabled; enable it once nothing requires action.',
			[{ field: 'enabled', message: 'is set through POST /api/links/:id/enable' }]
		);
	}
	const [a, b] = await Promise.all([account(env).getSystem(body.systems.a), account(env).getSystem(body.systems.b)]);
	const missing = [a ? undefined : body.systems.a, b ? undefined : body.systems.b].filter(Boolean);
	if (!a || !b)
		throw new ApiError(
			'invalid',
			`Invalid link: systems: there is no system ${missing.map((m) => `"${m}"`).join(' or ')}.`,
			[{ field: 'systems', message: `names an unknown system (${missing.join(', ')})` }]
		);
	assertSameRegion(a, b);
	const id = `lnk_${randomToken(9)}`;
	const view = unwrap(await stub(env, id).create({ ...(raw as object), id, enabled: false }));
	await account(env).addLink(id, view.config.systems);
	return json(view, 201);
}

/**
 * The records of the link's current plan, as the link's Durable Object scanned them (with an ETag
 * that changes with the plan; 304 to a caller holding them); before the first reconciliation,
 * both systems read now through the edge (credentials stay here).
 */
async function snapshots({ env, params, request }: RouteContext): Promise<Response> {
	const { config } = await linkOf(env, params.id);
	const stored = await stub(env, params.id).snapshots(requestedTags(request), acceptsGzip(request));
	if (stored) return taggedJson(stored);
	const read = (systemId: string) =>
		connectorFor(env, systemId, { removeMode: config.removeMode }).then((c) => c.read());
	const [a, b]: Snapshot[] = await Promise.all([read(config.systems.a), read(config.systems.b)]);
	await stub(env, params.id).noteVersions({ a: a.version, b: b.version });
	return streamJson(jsonParts({ a, b }));
}

export const linkRoutes: Route[] = [
	{
		method: 'GET',
		path: '/api/links',
		role: 'viewer',
		handler: async ({ env }) =>
			json((await Promise.all((await account(env).listLinks()).map((l) => stub(env, l.id).get()))).filter(Boolean))
	},
	{ method: 'POST', path: '/api/links', role: 'owner', handler: createLink },
	{
		method: 'GET',
		path: '/api/links/:id',
		role: 'viewer',
		handler: async ({ env, params }) => json(await linkOf(env, params.id))
	},
	{
		method: 'PATCH',
		path: '/api/links/:id',
		role: 'owner',
		handler: async ({ env, request, params, url }) => {
			const body = await readJson(request);
			if (body === null || typeof body !== 'object' || Array.isArray(body))
				throw new ApiError('invalid', 'Invalid link changes: the body must be an object of LinkConfig fields.');
			// ?dryRun=true: what the change would do (settings, next run, plan before and after), applying nothing.
			const dryRun = url.searchParams.get('dryRun');
			if (dryRun !== null && dryRun !== 'true' && dryRun !== 'false')
				throw new ApiError('invalid', 'Query parameter dryRun must be true or false.', [
					{ field: 'dryRun', message: 'must be true or false' }
				]);
			await linkOf(env, params.id);
			const link = stub(env, params.id);
			const patch = body as Partial<LinkConfig>;
			return json(unwrap(dryRun === 'true' ? await link.previewUpdate(patch) : await link.update(patch)));
		}
	},
	{
		method: 'DELETE',
		path: '/api/links/:id',
		role: 'owner',
		handler: async ({ env, params }) => {
			await linkOf(env, params.id);
			unwrap(await stub(env, params.id).destroy());
			await account(env).removeLink(params.id);
			return new Response(null, { status: 204 });
		}
	},
	{ method: 'GET', path: '/api/links/:id/snapshots', role: 'viewer', handler: snapshots },
	{
		method: 'POST',
		path: '/api/links/:id/reconcile',
		role: 'reviewer',
		handler: async ({ env, params, request }) => {
			await linkOf(env, params.id);
			unwrap(await stub(env, params.id).reconcile());
			return planResponse(env, params.id, [], acceptsGzip(request));
		}
	},
	{
		method: 'GET',
		path: '/api/links/:id/plan',
		role: 'viewer',
		handler: async ({ env, params, request }) =>
			withLink(env, params.id, () => planResponse(env, params.id, requestedTags(request), acceptsGzip(request)))
	},
	{
		method: 'GET',
		path: '/api/links/:id/resolutions',
		role: 'viewer',
		handler: async ({ env, params }) => {
			await linkOf(env, params.id);
			return json(await stub(env, params.id).resolutions());
		}
	},
	{
		method: 'POST',
		path: '/api/links/:id/resolutions',
		role: 'reviewer',
		handler: async ({ env, request, params, caller }) => {
			const body = (await readJson(request)) as { resolutions?: unknown } | undefined;
			if (!body || typeof body !== 'object' || !Array.isArray(body.resolutions)) {
				throw new ApiError('invalid', 'Invalid resolutions: the body must be { resolutions: Resolution[] }.', [
					{ field: 'resolutions', message: 'must be a list' }
				]);
			}
			await linkOf(env, params.id);
			return json(unwrap(await stub(env, params.id).resolve(body.resolutions, caller.name)));
		}
	},
	{
		method: 'POST',
		path: '/api/links/:id/enable',
		role: 'owner',
		handler: async ({ env, params }) => {
			await linkOf(env, params.id);
			return json(unwrap(await stub(env, params.id).enable()));
		}
	},
	{
		method: 'POST',
		path: '/api/links/:id/disable',
		role: 'owner',
		handler: async ({ env, params }) => {
			await linkOf(env, params.id);
			return json(unwrap(await stub(env, params.id).disable()));
		}
	},
	{
		method: 'POST',
		path: '/api/links/:id/runs',
		role: 'reviewer',
		handler: async ({ env, request, params, caller }) => {
			const { dryRun } = parseBody(RunRequest, (await readJson(request)) ?? {}, 'run request');
			if (!dryRun)
				requireRole(caller, 'owner', 'start a run that writes to the systems (a reviewer may start a dry run)');
			await linkOf(env, params.id);
			return json(
				unwrap(await stub(env, params.id).startRun({ dryRun, startedBy: { kind: 'person', subject: caller.name } })),
				202
			);
		}
	},
	{
		method: 'GET',
		path: '/api/links/:id/runs',
		role: 'viewer',
		handler: async ({ env, url, params }) =>
			json(await withLink(env, params.id, async () => stub(env, params.id).runs(intParam(url, 'limit', 30))))
	},
	{
		method: 'GET',
		path: '/api/links/:id/runs/:runId',
		role: 'viewer',
		handler: async ({ env, url, params }) => {
			const run = await withLink(env, params.id, async () =>
				stub(env, params.id).run(params.runId, intParam(url, 'offset', 0), intParam(url, 'limit', 500))
			);
			if (!run) throw new ApiError('not-found', `Link "${params.id}" has no run "${params.runId}".`);
			return json(run);
		}
	},
	{
		method: 'GET',
		path: '/api/links/:id/runs/:runId/events',
		role: 'viewer',
		handler: async ({ env, params, request }) => {
			await linkOf(env, params.id);
			const link = stub(env, params.id);
			if (!(await link.progress(params.runId)))
				throw new ApiError('not-found', `Link "${params.id}" has no run "${params.runId}".`);
			return new Response(
				progressStream(() => link.progress(params.runId), { signal: request.signal }),
				{
					headers: {
						'content-type': 'text/event-stream; charset=utf-8',
						'cache-control': 'no-store',
						connection: 'keep-alive'
					}
				}
			);
		}
	},
	{
		method: 'POST',
		path: '/api/links/:id/runs/:runId/stop',
		role: 'owner',
		handler: async ({ env, params, caller }) => {
			await linkOf(env, params.id);
			return json(unwrap(await stub(env, params.id).stop(params.runId, caller.name)), 202);
		}
	},
	{
		method: 'POST',
		path: '/api/links/:id/runs/preview',
		role: 'reviewer',
		handler: async ({ env, params }) => {
			await linkOf(env, params.id);
			return json(unwrap(await stub(env, params.id).runPreview()));
		}
	},
	{
		method: 'GET',
		path: '/api/links/:id/runs/:runId/undo',
		role: 'owner',
		handler: async ({ env, params }) => {
			await linkOf(env, params.id);
			return json(unwrap(await stub(env, params.id).undoPreview(params.runId)));
		}
	},
	{
		method: 'POST',
		path: '/api/links/:id/runs/:runId/undo',
		role: 'owner',
		handler: async ({ env, request, params, caller }) => {
			const { expect } = parseBody(UndoRequest, (await readJson(request)) ?? {}, 'undo request');
			await linkOf(env, params.id);
			return json(unwrap(await stub(env, params.id).undo(params.runId, caller.name, expect)), 202);
		}
	},
	{
		method: 'GET',
		path: '/api/links/:id/removed',
		role: 'viewer',
		handler: async ({ env, params }) => {
			await linkOf(env, params.id);
			return json((await stub(env, params.id).removed()) ?? []);
		}
	},
	{
		method: 'POST',
		path: '/api/links/:id/removed/:personId/restore',
		role: 'owner',
		handler: async ({ env, params, caller }) => {
			await linkOf(env, params.id);
			return json(unwrap(await stub(env, params.id).restore(params.personId, caller.name)), 202);
		}
	},
	{
		method: 'GET',
		path: '/api/links/:id/notices',
		role: 'viewer',
		handler: async ({ env, url, params }) => {
			await linkOf(env, params.id);
			return json((await stub(env, params.id).noticeViews(intParam(url, 'limit', 500))) ?? []);
		}
	},
	{
		method: 'GET',
		path: '/api/links/:id/staged',
		role: 'viewer',
		handler: async ({ env, params }) => {
			await linkOf(env, params.id);
			return json((await stub(env, params.id).staged()) ?? []);
		}
	},
	{
		method: 'POST',
		path: '/api/links/:id/confirm-counts',
		role: 'owner',
		handler: async ({ env, params }) => {
			await linkOf(env, params.id);
			return json(unwrap(await stub(env, params.id).confirmCounts()));
		}
	},
	...(['approve', 'reject'] as const).map((decision): Route => ({
		method: 'POST',
		path: `/api/links/:id/staged/:conflictId/${decision}`,
		role: 'owner',
		handler: async ({ env, params, caller }) => {
			await linkOf(env, params.id);
			return json(unwrap(await stub(env, params.id).decideStaged(params.conflictId, decision, caller.name)));
		}
	}))
];
