/**
 * Incident pushes through the API, between the demo's two sandboxes: "Operations Center" closes an
 * incident and calls the link's signed webhook; the edge checks signature and timestamp, validates
 * the payload, maps the people through the link's pairs and writes an event with attendance to
 * "Team Manager", once per incident, retrying a target that failed.
 */
import { env } from 'cloudflare:workers';
import { listDurableObjectIds, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import type { IncidentPayload, IncidentPush } from '$lib/core/incidents';
import type { SystemView } from '../../worker/account/account-do';
import type { RunSummary } from '../../worker/link/types';
import type { LinkDO } from '../../worker/link/link-do';
import { sandboxStub } from '../../worker/systems/connect';
import { signIncident, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../worker/link/incident-signature';
import { finish, newLink, roster, sandboxSystem } from '../support/links';
import { api, expectJson, tokenFor } from './support';

const oc = roster('ic', 4, 2);
let owner: string;
let viewer: string;
let a: SystemView;
let b: SystemView;
let linkId: string;
let secret: string;

const records = () => sandboxStub(env, b.id).storedRecords();
const pushes = () => expectJson<IncidentPush[]>(api(`/api/links/${linkId}/incidents`, { token: viewer }), 200);
/** Team Manager's id of an Operations Center person (the link paired them by email). */
const inB = async (aId: string) => {
	const email = oc.people.find((p) => p.id === aId)!.email;
	return (await sandboxStub(env, b.id).snapshot()).people.find((p) => p.email === email)!.id;
};

const payload = (id: string, people: { id: string; role: string }[] = []): IncidentPayload => ({
	id,
	title: `Flood ${id}`,
	type: 'flood',
	startedAt: '2026-12-01T08:00:00Z',
	endedAt: '2026-12-01T11:30:00Z',
	location: 'Harbour',
	people
});

async function send(body: unknown, opts: { at?: number; key?: string; raw?: string } = {}): Promise<Response> {
	const text = opts.raw ?? JSON.stringify(body);
	const at = opts.at ?? Math.floor(Date.now() / 1000);
	return api(`/api/links/${linkId}/incidents`, {
		method: 'POST',
		body: text,
		headers: {
			'content-type': 'application/json',
			[TIMESTAMP_HEADER]: String(at),
			[SIGNATURE_HEADER]: await signIncident(opts.key ?? secret, at, text)
		}
	});
}

beforeAll(async () => {
	[owner, viewer] = await Promise.all([tokenFor('owner'), tokenFor('viewer')]);
	a = await sandboxSystem(oc, 'Operations Center');
	b = await sandboxSystem({ people: [], groups: [], memberships: [] }, 'Team Manager');
	linkId = await newLink(owner, {
		mode: 'two-way',
		systems: { a: a.id, b: b.id },
		incidents: { from: 'a', as: 'event' }
	});
	await expectJson(api(`/api/links/${linkId}/reconcile`, { token: owner, body: {} }), 200);
	await expectJson(api(`/api/links/${linkId}/enable`, { token: owner, body: {} }), 200);
	const run = await expectJson<RunSummary>(
		api(`/api/links/${linkId}/runs`, { token: owner, body: { dryRun: false } }),
		202
	);
	expect((await finish(linkId, run.id)).status).toBe('done');
});

describe('the webhook secret', () => {
	it('is issued to an owner only, shown once, stored sealed, and configures the demo Operations Center', async () => {
		expect((await api(`/api/links/${linkId}/incident-secret`, { token: viewer, body: {} })).status).toBe(403);
		const issued = await expectJson(api(`/api/links/${linkId}/incident-secret`, { token: owner, body: {} }), 201);
		secret = issued.secret;
		expect(secret).toMatch(/^whsec_/);
		expect(issued).toMatchObject({
			signatureHeader: SIGNATURE_HEADER,
			timestampHeader: TIMESTAMP_HEADER,
			configured: a.id
		});
		const sealed = await env.LINKS.getByName(linkId).incidentSecret();
		expect(sealed).toBeTruthy();
		expect(sealed).not.toContain(secret);
		expect(JSON.stringify(await expectJson(api(`/api/links/${linkId}`, { token: owner }), 200))).not.toContain(secret);
		expect(await sandboxStub(env, a.id).incidentWebhooks()).toEqual([{ linkId, secret }]);
	});
});

describe('POST /api/links/:id/incidents', () => {
	it('refuses a request without a valid signature, and writes nothing', async () => {
		const body = JSON.stringify(payload('x-1', [{ id: 'ic-p0', role: 'lead' }]));
		const bare = await expectJson(api(`/api/links/${linkId}/incidents`, { method: 'POST', body }), 401);
		expect(bare).toMatchObject({ error: 'unauthorized', reason: 'missing' });
		const forged = await expectJson(send(null, { raw: body, key: 'whsec_not-the-secret' }), 401);
		expect(forged.reason).toBe('mismatch');
		// A signed body changed on the way is refused too.
		const at = Math.floor(Date.now() / 1000);
		const tampered = await api(`/api/links/${linkId}/incidents`, {
			method: 'POST',
			body: body.replace('Flood', 'Fire'),
			headers: { [TIMESTAMP_HEADER]: String(at), [SIGNATURE_HEADER]: await signIncident(secret, at, body) }
		});
		expect(tampered.status).toBe(401);
		expect(await pushes()).toEqual([]);
		expect(await records()).toEqual([]);
	});

	it('an id that names no link is refused as one without a secret, and no link object comes into being', async () => {
		const nobody = `lnk_${crypto.randomUUID().slice(0, 12)}`;
		const body = JSON.stringify(payload('x-0', [{ id: 'ic-p0', role: 'lead' }]));
		const refused = await expectJson(api(`/api/links/${nobody}/incidents`, { method: 'POST', body }), 401);
		expect(refused.message).toBe('This link takes no incidents: no webhook secret was issued.');
		const named = env.LINKS.idFromName(nobody);
		expect((await listDurableObjectIds(env.LINKS)).some((id) => id.equals(named))).toBe(false);
	});

	it('refuses a replay: a timestamp outside the window, even correctly signed', async () => {
		const old = Math.floor(Date.now() / 1000) - 600;
		const res = await expectJson(send(payload('x-2', [{ id: 'ic-p0', role: 'lead' }]), { at: old }), 401);
		expect(res.reason).toBe('stale');
		expect(await pushes()).toEqual([]);
	});

	it('refuses a bad payload naming the field, and writes nothing', async () => {
		const noTitle = await expectJson(send({ ...payload('x-3'), title: undefined }), 400);
		expect(noTitle.issues.map((i: { field: string }) => i.field)).toEqual(['title']);
		const badRole = await expectJson(
			send(
				payload('x-3', [
					{ id: 'ic-p0', role: 'lead' },
					{ id: 'ic-p1', role: 5 as unknown as string }
				])
			),
			400
		);
		expect(badRole.issues).toEqual([expect.objectContaining({ field: 'people.1.role' })]);
		const backwards = await expectJson(send({ ...payload('x-3'), endedAt: '2026-12-01T07:00:00Z' }), 400);
		expect(backwards.issues).toEqual([
			expect.objectContaining({ field: 'endedAt', message: 'must not be before startedAt' })
		]);
		expect(await pushes()).toEqual([]);
		expect(await records()).toEqual([]);
	});

	it('maps the people through the pairs, names those it cannot map, and writes an event with attendance', async () => {
		const res = await expectJson(
			send(
				payload('inc-1', [
					{ id: 'ic-p0', role: 'lead' },
					{ id: 'ic-p1', role: 'crew' },
					{ id: 'ghost-7', role: 'crew' }
				])
			),
			202
		);
		expect(res.duplicate).toBe(false);
		expect(res.push).toMatchObject({ state: 'delivered', attempts: 1, unmapped: ['ghost-7'], people: 2, as: 'event' });
		const stored = await records();
		expect(stored).toHaveLength(1);
		expect(stored[0]).toMatchObject({
			id: res.push.targetId,
			kind: 'event',
			sourceId: 'inc-1',
			title: 'Flood inc-1',
			location: 'Harbour',
			people: [
				{ personId: await inB('ic-p0'), role: 'lead', from: '2026-12-01T08:00:00Z', to: '2026-12-01T11:30:00Z' },
				{ personId: await inB('ic-p1'), role: 'crew', from: '2026-12-01T08:00:00Z', to: '2026-12-01T11:30:00Z' }
			]
		});
	});

	it('writes once: a retried webhook is the same push', async () => {
		const again = await expectJson(
			send(
				payload('inc-1', [
					{ id: 'ic-p0', role: 'lead' },
					{ id: 'ic-p1', role: 'crew' }
				])
			),
			200
		);
		expect(again.duplicate).toBe(true);
		expect(await records()).toHaveLength(1);
		const [push] = await pushes();
		expect(push.journal.map((j) => j.outcome)).toEqual(['delivered', 'duplicate']);
	});

	it('retries a target that failed, with backoff on the alarm, and an owner can send again', async () => {
		await sandboxStub(env, b.id).failRecordWrites(2);
		const res = await expectJson(send(payload('inc-2', [{ id: 'ic-p2', role: 'lead' }])), 202);
		expect(res.push).toMatchObject({ state: 'pending', attempts: 1 });
		expect(res.push.lastError).toContain('503');
		expect(res.push.nextAt).toBeGreaterThan(Date.now());
		expect(await records()).toHaveLength(1);

		// The alarm rings when the retry is due: time moves on in the link's clock.
		const stub = env.LINKS.getByName(linkId);
		const later = res.push.nextAt + 1;
		await runInDurableObject(stub, (instance: LinkDO) => {
			instance.deps.now = () => later;
		});
		await runDurableObjectAlarm(stub);
		let push = (await pushes()).find((p) => p.incidentId === 'inc-2')!;
		expect(push).toMatchObject({ state: 'pending', attempts: 2 });
		expect(push.nextAt! - later).toBeGreaterThanOrEqual(60_000);

		// An owner does not wait: Send again.
		expect((await api(`/api/links/${linkId}/incidents/${push.key}/resend`, { token: viewer, body: {} })).status).toBe(
			403
		);
		push = await expectJson<IncidentPush>(
			api(`/api/links/${linkId}/incidents/${push.key}/resend`, { token: owner, body: {} }),
			200
		);
		expect(push.state).toBe('delivered');
		expect(push.journal.map((j) => j.outcome)).toEqual(['failed', 'failed', 'delivered']);
		expect(await records()).toHaveLength(2);
		await runInDurableObject(stub, (instance: LinkDO) => {
			instance.deps.now = () => Date.now();
		});
	});
});

describe('the demo: Operations Center closes an incident', () => {
	it('opens and closes an incident with some of its people; the signed webhook writes the event once', async () => {
		const opened = await expectJson(
			api(`/api/sandbox/${a.id}/incidents`, {
				token: owner,
				body: {
					title: 'Warehouse fire',
					type: 'fire',
					location: 'Dock 4',
					people: [{ id: 'ic-p2', role: 'lead' }, { id: 'ic-p3' }]
				}
			}),
			201
		);
		expect(opened.state).toBe('open');
		const bad = await expectJson(
			api(`/api/sandbox/${a.id}/incidents`, { token: owner, body: { title: 'x', people: [{ id: 'nobody' }] } }),
			400
		);
		expect(bad.issues).toEqual([expect.objectContaining({ field: 'people' })]);

		const closed = await expectJson(
			api(`/api/sandbox/${a.id}/incidents/${opened.id}/close`, { token: owner, body: {} }),
			200
		);
		expect(closed.incident.state).toBe('closed');
		expect(closed.webhooks).toEqual([expect.objectContaining({ linkId, status: 202 })]);
		const push = (await pushes()).find((p) => p.incidentId === opened.id)!;
		expect(push).toMatchObject({ state: 'delivered', unmapped: [], people: 2 });
		const event = await expectJson(api(`/api/sandbox/${b.id}/records/${push.targetId}`, { token: viewer }), 200);
		expect(event).toMatchObject({ kind: 'event', title: 'Warehouse fire', type: 'fire', location: 'Dock 4' });
		expect(event.people).toEqual([
			expect.objectContaining({ personId: await inB('ic-p2'), role: 'lead' }),
			expect.objectContaining({ personId: await inB('ic-p3'), role: 'responder' })
		]);

		// A second close writes nothing new.
		const twice = await expectJson(
			api(`/api/sandbox/${a.id}/incidents/${opened.id}/close`, { token: owner, body: {} }),
			200
		);
		expect(twice.webhooks).toEqual([expect.objectContaining({ status: 200 })]);
		expect(await records()).toHaveLength(3);
	});

	it("Team Manager's records are readable through its own API, with its token", async () => {
		const { token } = await expectJson(api(`/api/sandbox/${b.id}/token`, { token: owner, body: {} }), 201);
		const res = await expectJson(api(`/api/sandbox/${b.id}/scim/v2/Events`, { token }), 200);
		expect(res.records.map((r: { sourceId: string }) => r.sourceId).sort()).toEqual(
			expect.arrayContaining(['inc-1', 'inc-2'])
		);
		expect((await api(`/api/sandbox/${b.id}/scim/v2/Events`, { token: 'wrong' })).status).toBe(401);
	});
});
