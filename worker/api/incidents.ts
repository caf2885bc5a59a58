/**
 * Incident pushes over the API (docs/api.md, "Incident pushes"):
 * - `POST /api/links/:id/incident-secret` [owner]: a new webhook secret, shown once (sealed at rest);
 * - `POST /api/links/:id/incidents` [the closing system, by signature]: a closed incident;
 * - `GET /api/links/:id/incidents[/:key]` [viewer], `POST …/:key/resend` [owner];
 * and the demo's sandboxes: the Operations Center opens and closes incidents (closing one calls the
 * signed webhook of every link that issued it a secret), Team Manager's stored records read back.
 */
import * as v from 'valibot';
import { parseIncident, type IncidentPayload } from '$lib/core/incidents';
import type { Env } from '../env';
import { json } from '../http';
import { account } from '../account/account-do';
import { sandboxStub } from '../systems/connect';
import {
	checkSignature,
	issueSecret,
	openSecret,
	signIncident,
	SIGNATURE_HEADER,
	TIMESTAMP_HEADER
} from '../link/incident-signature';
import { incidentsOf } from '../link/incidents';
import type { DemoIncident } from '$lib/api/incidents-client';
import { ApiError, parseBody, readJson, readText, unwrap } from './errors';
import { intParam } from './params';
import type { Route, RouteContext } from './router';

const link = (env: Env, id: string) => env.LINKS.getByName(id);

/** A webhook body is a small JSON document: larger ones are refused before they are read whole. */
const MAX_WEBHOOK_BYTES = 1024 * 1024;

async function configOf(env: Env, id: string) {
	const view = await link(env, id).get();
	if (!view) throw new ApiError('not-found', `There is no link "${id}".`);
	return view.config;
}

/** The webhook: signature and timestamp first, then the payload; nothing is written unless all hold. */
async function receive({ env, request, params }: RouteContext): Promise<Response> {
	const body = await readText(request, MAX_WEBHOOK_BYTES);
	// Anyone may call this: an id that names no link never brings a Durable Object (and its storage) into being.
	const sealed = (await account(env).hasLink(params.id)) ? await link(env, params.id).incidentSecret() : undefined;
	// One answer for an unknown link and a link without a secret: a caller learns nothing from it.
	if (!sealed) throw new ApiError('unauthorized', 'This link takes no incidents: no webhook secret was issued.');
	const refusal = await checkSignature({
		secret: await openSecret(env, params.id, sealed),
		timestamp: request.headers.get(TIMESTAMP_HEADER),
		signature: request.headers.get(SIGNATURE_HEADER),
		body,
		now: Date.now()
	});
	if (refusal)
		throw new ApiError(
			'unauthorized',
			{
				missing: `The request needs ${SIGNATURE_HEADER} and ${TIMESTAMP_HEADER} headers.`,
				malformed: `${SIGNATURE_HEADER} must be sha256=<hex> and ${TIMESTAMP_HEADER} unix seconds.`,
				stale: 'The timestamp is outside the 5-minute window: refused as a possible replay.',
				mismatch: 'The signature does not match the body and timestamp.'
			}[refusal],
			undefined,
			{ reason: refusal }
		);
	let raw: unknown;
	try {
		raw = JSON.parse(body);
	} catch {
		throw new ApiError('invalid', 'The body is not valid JSON.');
	}
	const payload = parseIncident(raw);
	const received = unwrap(await link(env, params.id).receiveIncident(payload));
	return json(received, received.duplicate ? 200 : 202);
}

const NewIncident = v.object({
	title: v.pipe(v.string('must be a string'), v.trim(), v.minLength(1, 'must not be empty'), v.maxLength(512)),
	type: v.optional(v.pipe(v.string('must be a string'), v.trim(), v.minLength(1), v.maxLength(128)), 'incident'),
	location: v.optional(v.pipe(v.string('must be a string'), v.maxLength(512))),
	people: v.pipe(
		v.array(
			v.object({
				id: v.pipe(v.string('must be a person id'), v.minLength(1)),
				role: v.optional(v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(128)), 'responder')
			}),
			'must be a list'
		),
		v.minLength(1, 'must name at least one person'),
		v.maxLength(500)
	)
});

async function sandboxOf(env: Env, systemId: string) {
	const system = await account(env).getSystem(systemId);
	if (!system || system.connector !== 'sandbox')
		throw new ApiError('not-found', `There is no sandbox system "${systemId}".`);
	return sandboxStub(env, system.id);
}

/** The payload an Operations Center sends for a closed incident. */
export const payloadOf = (incident: DemoIncident): IncidentPayload => ({
	id: incident.id,
	title: incident.title,
	type: incident.type,
	startedAt: incident.startedAt,
	endedAt: incident.endedAt ?? incident.startedAt,
	...(incident.location ? { location: incident.location } : {}),
	people: incident.people.map((p) => ({ id: p.id, role: p.role }))
});

export const incidentRoutes: Route[] = [
	{
		method: 'POST',
		path: '/api/links/:id/incident-secret',
		role: 'owner',
		handler: async ({ env, params, url }) => {
			const config = await configOf(env, params.id);
			const { secret, sealed } = await issueSecret(env, params.id);
			unwrap(await link(env, params.id).setIncidentSecret(sealed));
			// The demo's closing system is configured at once, as an admin would paste the secret in.
			const from = config.systems[incidentsOf(config).from];
			const system = await account(env).getSystem(from);
			if (system?.connector === 'sandbox') await sandboxStub(env, from).subscribeIncidents(params.id, secret);
			return json(
				{
					secret,
					url: `${url.origin}/api/links/${encodeURIComponent(params.id)}/incidents`,
					signatureHeader: SIGNATURE_HEADER,
					timestampHeader: TIMESTAMP_HEADER,
					configured: system?.connector === 'sandbox' ? from : undefined
				},
				201
			);
		}
	},
	{ method: 'POST', path: '/api/links/:id/incidents', role: 'public', handler: receive },
	{
		method: 'GET',
		path: '/api/links/:id/incidents',
		role: 'viewer',
		handler: async ({ env, params, url }) => {
			await configOf(env, params.id);
			return json(await link(env, params.id).incidentPushes(intParam(url, 'limit', 100)));
		}
	},
	{
		method: 'GET',
		path: '/api/links/:id/incidents/:key',
		role: 'viewer',
		handler: async ({ env, params }) => {
			await configOf(env, params.id);
			const push = await link(env, params.id).incidentPush(params.key);
			if (!push) throw new ApiError('not-found', `Link "${params.id}" has no incident push "${params.key}".`);
			return json(push);
		}
	},
	{
		method: 'POST',
		path: '/api/links/:id/incidents/:key/resend',
		role: 'owner',
		handler: async ({ env, params, caller }) => {
			await configOf(env, params.id);
			return json(unwrap(await link(env, params.id).resendIncident(params.key, caller.name)));
		}
	},
	{
		method: 'GET',
		path: '/api/sandbox/:systemId/incidents',
		role: 'viewer',
		handler: async ({ env, params }) => json(await (await sandboxOf(env, params.systemId)).incidents())
	},
	{
		method: 'POST',
		path: '/api/sandbox/:systemId/incidents',
		role: 'owner',
		handler: async ({ env, params, request }) => {
			const body = parseBody(NewIncident, await readJson(request), 'incident');
			const opened = await (await sandboxOf(env, params.systemId)).openIncident(body);
			if ('unknown' in opened) {
				const message = `names no person of this system: ${opened.unknown.map((id) => `"${id}"`).join(', ')}`;
				throw new ApiError('invalid', `Invalid incident: people ${message}.`, [{ field: 'people', message }]);
			}
			return json(opened.incident, 201);
		}
	},
	{
		method: 'POST',
		path: '/api/sandbox/:systemId/incidents/:incidentId/close',
		role: 'owner',
		handler: async ({ env, params, url, ctx }) => {
			const stub = await sandboxOf(env, params.systemId);
			const incident = await stub.closeIncident(params.incidentId);
			if (!incident) throw new ApiError('not-found', `There is no incident "${params.incidentId}" in this system.`);
			// The closing system calls each link's webhook, signed, as an external system would.
			const body = JSON.stringify(payloadOf(incident));
			const calls = [];
			for (const hook of await stub.incidentWebhooks()) {
				const timestamp = Math.floor(Date.now() / 1000);
				const request = new Request(`${url.origin}/api/links/${encodeURIComponent(hook.linkId)}/incidents`, {
					method: 'POST',
					headers: {
						'content-type': 'application/json',
						[TIMESTAMP_HEADER]: String(timestamp),
						[SIGNATURE_HEADER]: await signIncident(hook.secret, timestamp, body)
					},
					body
				});
				// In-process: a Worker cannot fetch its own hostname (STACK.md); the route is the same.
				const { handleApi } = await import('./router');
				const response = await handleApi(request, env, ctx);
				calls.push({ linkId: hook.linkId, status: response.status, answer: await response.json() });
			}
			return json({ incident, webhooks: calls });
		}
	},
	{
		method: 'GET',
		path: '/api/sandbox/:systemId/records',
		role: 'viewer',
		handler: async ({ env, params }) => json(await (await sandboxOf(env, params.systemId)).storedRecords())
	},
	{
		method: 'GET',
		path: '/api/sandbox/:systemId/records/:recordId',
		role: 'viewer',
		handler: async ({ env, params }) => {
			const record = await (await sandboxOf(env, params.systemId)).storedRecord(params.recordId);
			if (!record) throw new ApiError('not-found', `There is no record "${params.recordId}" in this system.`);
			return json(record);
		}
	}
];
