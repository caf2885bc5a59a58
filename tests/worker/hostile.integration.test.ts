/**
 * A whole link flow against the hostile SCIM server (tests/support/scim-hostile.ts), in workerd,
 * through the API as an owner and a viewer would: systems created with it, read, reconciled and
 * written by a real run whose creates it refuses with the credential echoed in every field and
 * encoding; a server that refuses everything; one that never answers (the link's other routes
 * keep answering meanwhile); a 10 MB record; a redirect away; an HTML page.
 *
 * At the end, every API response body of the flow, every console line, and every row of every
 * table of the links' and the account's Durable Objects is searched for the credential and its
 * encodings (tests/support/scim-hostile-client.ts, credentialTraces): nothing is found.
 */
import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { Person } from '$lib/core';
import type { SystemView } from '../../worker/account/account-do';
import type { LinkView, RunDetails, RunSummary } from '../../worker/link/types';
import { connectorFor } from '../../worker/systems/connect';
import { finish, sandboxSystem } from '../support/links';
import {
	credentialTraces,
	hostileLog,
	hostileRelease,
	hostileToken,
	hostileUrl,
	tracesIn,
	type HostileMode
} from '../support/scim-hostile-client';
import { api, tokenFor, unique, type Call } from './support';

const hostile = inject('hostileScim');
const TOKEN = hostileToken();
const TRACES = credentialTraces(TOKEN);

/** Every API response body of the flow, and every console line, as they were written. */
const bodies: string[] = [];
const lines: string[] = [];
const links: string[] = [];

let owner: string;
let viewer: string;

/** An API call whose body is kept for the final search; its JSON, once its status is `status`. */
async function call<T = any>(path: string, init: Call & { as?: 'owner' | 'viewer' }, status: number): Promise<T> {
	const res = await api(path, { ...init, token: init.as === 'viewer' ? viewer : owner });
	const text = await res.text();
	bodies.push(text);
	if (res.status !== status) throw new Error(`${path}: expected ${status}, got ${res.status}: ${text}`);
	return (text ? JSON.parse(text) : undefined) as T;
}

/** A SCIM system on the hostile server in `mode`, with a tenant of its own. */
async function hostileSystem(mode: HostileMode): Promise<SystemView & { tenant: string }> {
	const tenant = unique(mode);
	const system = await call<SystemView>(
		'/api/systems',
		{
			body: {
				name: unique(`hostile ${mode}`),
				connector: 'scim',
				baseUrl: hostileUrl(hostile, tenant, mode),
				region: 'eu',
				credentials: { token: TOKEN }
			}
		},
		201
	);
	return { ...system, tenant };
}

async function provisionLink(source: SystemView, target: SystemView): Promise<string> {
	const view = await call<LinkView>(
		'/api/links',
		{
			body: {
				name: unique('hostile link'),
				mode: 'provision',
				systems: { a: source.id, b: target.id },
				match: { person: 'email', group: 'externalId' },
				schedule: { timeZone: 'UTC', hour: 2, enabled: false }
			}
		},
		201
	);
	links.push(view.config.id);
	return view.config.id;
}

const person = (key: string): Person => ({
	id: `p-${key}`,
	externalId: `${key}-E`,
	displayName: `Person ${key}`,
	givenName: 'Person',
	familyName: key,
	email: `${key}@example.org`,
	active: true
});

/** The people of the source: one the target takes, and one for each way it refuses a create. */
const PEOPLE = ['ok-1', 'fail-400', 'fail-409', 'fail-500', 'fail-text', 'fail-huge'].map(person);

let source: SystemView;

beforeAll(async () => {
	owner = await tokenFor('owner');
	viewer = await tokenFor('viewer');
	for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const)
		vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
			lines.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
		});
	source = await sandboxSystem({ people: PEOPLE, groups: [], memberships: [] });
});

afterAll(async () => {
	vi.restoreAllMocks();
	await hostileRelease(hostile);
});

describe('a link to a SCIM server that echoes the credential', () => {
	let echo: SystemView & { tenant: string };
	let linkId: string;

	it('the server does echo it: its answers to this test hold the credential', async () => {
		const res = await fetch(`${hostileUrl(hostile, 'probe', 'deny')}/Users`, {
			headers: { authorization: `Bearer ${TOKEN}` }
		});
		expect(tracesIn(await res.text(), TRACES).length).toBeGreaterThan(10);
	});

	it('a viewer reads the system, its capabilities and its snapshot; a record holding the credential reads without it', async () => {
		echo = await hostileSystem('echo');
		await call(`/api/systems/${echo.id}`, { as: 'viewer' }, 200);
		await call('/api/systems', { as: 'viewer' }, 200);
		await call(`/api/systems/${echo.id}/capabilities`, { as: 'viewer' }, 200);
		const snapshot = await call(`/api/systems/${echo.id}/snapshot`, { as: 'viewer' }, 200);
		expect(snapshot.people).toEqual([
			expect.objectContaining({ id: 'mirror', displayName: 'Bearer [redacted]', givenName: '[redacted]' })
		]);
	});

	it('a real run creates whom the server takes; each refusal is journaled naming the record, without the credential', async () => {
		linkId = await provisionLink(source, echo);
		const plan = await call(`/api/links/${linkId}/reconcile`, { method: 'POST' }, 200);
		expect(plan.plan.counts.byType).toMatchObject({ 'create-person': PEOPLE.length });
		await call(`/api/links/${linkId}/enable`, { method: 'POST' }, 200);
		const started = await call<RunSummary>(`/api/links/${linkId}/runs`, { body: { dryRun: false } }, 202);
		const summary = await finish(linkId, started.id);
		expect(summary).toMatchObject({ status: 'partial', tally: { failed: 5 } });
		const details = await call<RunDetails>(`/api/links/${linkId}/runs/${started.id}`, { as: 'viewer' }, 200);
		const errors = details.ops.filter((o) => o.outcome?.status === 'failed').map((o) => o.outcome?.error ?? '');
		expect(errors).toHaveLength(5);
		for (const error of errors)
			expect(error).toMatch(/^system sys_\S+, person fail-\w+-E(, field userName)?: POST \/Users: /);
		expect(errors.filter((e) => e.includes('Bearer [redacted]'))).toHaveLength(3);
		await call(`/api/links/${linkId}/runs`, { as: 'viewer' }, 200);
		await call(`/api/links/${linkId}/plan`, { as: 'viewer' }, 200);
		await call(`/api/links/${linkId}/snapshots`, { as: 'viewer' }, 200);
		await call(`/api/links/${linkId}`, { as: 'viewer' }, 200);
	});
});

describe('a server that refuses everything, echoing the credential', () => {
	it('fails reads, reconciliations and runs with errors that name it, without the credential', async () => {
		const deny = await hostileSystem('deny');
		const refused = await call(`/api/systems/${deny.id}/snapshot`, { as: 'viewer' }, 502);
		expect(refused).toMatchObject({ error: 'source-failed', code: 'auth', system: deny.id });
		expect(refused.message).toContain('Bearer [redacted]');
		await call(`/api/systems/${deny.id}/capabilities`, { as: 'viewer' }, 502);
		const linkId = await provisionLink(source, deny);
		await call(`/api/links/${linkId}/reconcile`, { method: 'POST' }, 502);
		const started = await call<RunSummary>(`/api/links/${linkId}/runs`, { body: { dryRun: true } }, 202);
		expect(await finish(linkId, started.id)).toMatchObject({
			status: 'failed',
			error: { code: 'source-failed', system: deny.id }
		});
		await call(`/api/links/${linkId}/runs/${started.id}`, { as: 'viewer' }, 200);
	});
});

describe('a system that cannot be read after a good read', () => {
	it('keeps the last good snapshots and plan, with a note naming the system, until a read succeeds', async () => {
		const target = await hostileSystem('echo');
		const linkId = await provisionLink(source, target);
		await call(`/api/links/${linkId}/reconcile`, { method: 'POST' }, 200);
		const plan = await call(`/api/links/${linkId}/plan`, { as: 'viewer' }, 200);
		const snapshots = await call(`/api/links/${linkId}/snapshots`, { as: 'viewer' }, 200);
		expect(snapshots.a.people).toHaveLength(PEOPLE.length);

		// The same directory, now refusing: the source's new read is written in full before the
		// target's fails, and must not replace the one the plan was made from.
		await call(
			`/api/systems/${target.id}`,
			{ method: 'PATCH', body: { baseUrl: hostileUrl(hostile, target.tenant, 'deny') } },
			200
		);
		const failed = await call(`/api/links/${linkId}/reconcile`, { method: 'POST' }, 502);
		expect(failed).toMatchObject({ error: 'source-failed', system: target.id });
		expect(await call(`/api/links/${linkId}/plan`, { as: 'viewer' }, 200)).toEqual(plan);
		expect(await call(`/api/links/${linkId}/snapshots`, { as: 'viewer' }, 200)).toEqual(snapshots);
		const noted = await call<LinkView>(`/api/links/${linkId}`, { as: 'viewer' }, 200);
		expect(noted.status.readFailure).toMatchObject({ code: 'source-failed', system: target.id });
		expect(Date.parse(noted.status.readFailure!.at)).toBeGreaterThanOrEqual(Date.parse(snapshots.b.takenAt));

		await call(
			`/api/systems/${target.id}`,
			{ method: 'PATCH', body: { baseUrl: hostileUrl(hostile, target.tenant, 'echo') } },
			200
		);
		await call(`/api/links/${linkId}/reconcile`, { method: 'POST' }, 200);
		const cleared = await call<LinkView>(`/api/links/${linkId}`, { as: 'viewer' }, 200);
		expect(cleared.status.readFailure).toBeUndefined();
		const again = await call(`/api/links/${linkId}/snapshots`, { as: 'viewer' }, 200);
		expect(again.a.people).toEqual(snapshots.a.people);
	});
});

describe('a server that never answers', () => {
	it('a request to it fails at its time limit, naming the request', async () => {
		const hang = await hostileSystem('hang');
		const connector = await connectorFor(env, hang.id, { limits: { timeoutMs: 300 } });
		const error = await connector.read().catch((e: unknown) => e);
		expect(error).toMatchObject({
			code: 'unreachable',
			message: `system ${hang.id}: did not answer within 300 ms (GET /ServiceProviderConfig)`
		});
	});

	it("the link's other routes keep answering while a reconciliation waits on it", async () => {
		const hang = await hostileSystem('hang');
		const linkId = await provisionLink(source, hang);
		const reconciling = api(`/api/links/${linkId}/reconcile`, { method: 'POST', token: owner });
		// The scan has reached the server, and waits.
		for (let i = 0; (await hostileLog(hostile, hang.tenant)).length === 0; i++) {
			if (i > 500) throw new Error('the reconciliation never reached the server');
			await new Promise((resolve) => setTimeout(resolve, 10));
		}
		const view = await call<LinkView>(`/api/links/${linkId}`, { as: 'viewer' }, 200);
		expect(view.config.id).toBe(linkId);
		await call(`/api/links/${linkId}/runs`, { as: 'viewer' }, 200);
		// Released, it answers a 500 echoing the credential: the reconciliation fails with it scrubbed.
		await hostileRelease(hostile);
		const res = await reconciling;
		const text = await res.text();
		bodies.push(text);
		expect(res.status).toBe(502);
		expect(JSON.parse(text)).toMatchObject({ error: 'source-failed', system: hang.id });
	});
});

describe('a reconciliation that waits on a system does not hold the plan it will replace', () => {
	it('the plan and its snapshots are answered at once from the tag the link holds', async () => {
		const target = await hostileSystem('echo');
		const linkId = await provisionLink(source, target);
		await call(`/api/links/${linkId}/reconcile`, { method: 'POST' }, 200);
		const read = async (what: 'plan' | 'snapshots', headers: Record<string, string>) => {
			const res = await api(`/api/links/${linkId}/${what}`, { token: viewer, headers });
			const text = await res.text();
			bodies.push(text);
			return { status: res.status, etag: res.headers.get('etag'), text };
		};
		// The first reader after the plan was made (the one that packs it).
		const plan = await read('plan', { 'accept-encoding': 'gzip' });
		const snapshots = await read('snapshots', { 'accept-encoding': 'gzip' });
		expect([plan.status, snapshots.status]).toEqual([200, 200]);

		// The target now never answers: the next reconciliation waits on its read.
		await call(
			`/api/systems/${target.id}`,
			{ method: 'PATCH', body: { baseUrl: hostileUrl(hostile, target.tenant, 'hang') } },
			200
		);
		const seen = (await hostileLog(hostile, target.tenant)).length;
		let settled = false;
		const reconciling = api(`/api/links/${linkId}/reconcile`, { method: 'POST', token: owner }).finally(
			() => (settled = true)
		);
		for (let i = 0; (await hostileLog(hostile, target.tenant)).length === seen; i++) {
			if (i > 500) throw new Error('the reconciliation never reached the server');
			await new Promise((resolve) => setTimeout(resolve, 10));
		}

		// Meanwhile a caller holding the tag is told it is current, and one without it gets the
		// same answer, packed: neither waits for the read that hangs.
		expect(await read('plan', { 'if-none-match': plan.etag! })).toMatchObject({ status: 304, etag: plan.etag });
		expect(await read('plan', { 'accept-encoding': 'gzip' })).toEqual(plan);
		expect(await read('snapshots', { 'if-none-match': snapshots.etag! })).toMatchObject({ status: 304 });
		expect(await read('snapshots', { 'accept-encoding': 'gzip' })).toEqual(snapshots);
		expect(settled).toBe(false);

		await hostileRelease(hostile);
		const res = await reconciling;
		bodies.push(await res.text());
		expect(res.status).toBe(502);
		// The read failed: the plan it would have replaced is still the link's.
		expect(await read('plan', { 'if-none-match': plan.etag! })).toMatchObject({ status: 304 });
	});
});

describe('a server that sends too much, or the wrong thing', () => {
	it('a 10 MB record fails the reconciliation naming the record and the field, before it is stored', async () => {
		const big = await hostileSystem('big-record');
		const linkId = await provisionLink(source, big);
		const failed = await call(`/api/links/${linkId}/reconcile`, { method: 'POST' }, 502);
		expect(failed.message).toContain(
			'person u-big, field displayName: the record is 10 MB, over the 256 KB one record may be'
		);
	});

	it.each([
		['redirect-away', `redirected to another origin (${hostile.origin} to ${hostile.otherOrigin})`],
		['html', 'not a SCIM server: GET /ServiceProviderConfig answered an HTML page'],
		['json', 'not a SCIM server: GET /Users?startIndex=1&count=100 answered JSON that is not a SCIM ListResponse']
	] as const)('%s: the snapshot fails saying so, quoting nothing it sent', async (mode, said) => {
		const system = await hostileSystem(mode);
		const failed = await call(`/api/systems/${system.id}/snapshot`, { as: 'viewer' }, 502);
		expect(failed.message).toContain(said);
		expect(failed.message).not.toMatch(/Sign in|welcome/);
	});

	it('a login page is not a SCIM server for its capabilities either', async () => {
		const system = await hostileSystem('html');
		const failed = await call(`/api/systems/${system.id}/capabilities`, { as: 'viewer' }, 502);
		expect(failed.message).toContain('not a SCIM server: GET /ServiceProviderConfig answered an HTML page');
	});
});

describe('what the flow left behind', () => {
	/** Every row of every table of a Durable Object's SQLite, as text. */
	const dump = (stub: DurableObjectStub) =>
		runInDurableObject(stub, (_instance, state) => {
			const sql = state.storage.sql;
			const tables = sql
				.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%'")
				.toArray()
				.map((t) => t.name);
			return tables.map((name) => ({
				name,
				rows: sql
					.exec(`SELECT * FROM "${name}"`)
					.toArray()
					.map((row) =>
						Object.values(row).map((v) => (v instanceof ArrayBuffer ? new TextDecoder().decode(v) : String(v)))
					)
			}));
		});

	it('the flow did reach the server, and wrote runs and journals', () => {
		expect(links.length).toBe(6);
		expect(bodies.length).toBeGreaterThan(30);
	});

	it('no API response body holds the credential in any form', () => {
		expect(bodies.flatMap((b) => tracesIn(b, TRACES))).toEqual([]);
	});

	it('no console line does', () => {
		expect(lines.flatMap((l) => tracesIn(l, TRACES))).toEqual([]);
	});

	it("no row of any link's SQLite, nor of the account's, does", async () => {
		const found: string[] = [];
		let rows = 0;
		for (const stub of [...links.map((id) => env.LINKS.getByName(id)), env.ACCOUNT.getByName('account')]) {
			for (const table of await dump(stub)) {
				for (const row of table.rows) {
					rows++;
					for (const cell of row) for (const t of tracesIn(cell, TRACES)) found.push(`${table.name}: ${t}`);
				}
			}
		}
		expect(rows).toBeGreaterThan(20);
		expect(found).toEqual([]);
	});
});
