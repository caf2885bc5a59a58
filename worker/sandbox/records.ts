/**
 * What the demo's sandboxes hold beyond SCIM: incidents the "Operations Center" opens and closes
 * with some of its people (and the webhooks it calls when one closes), and the incident reports and
 * exercise/event records with attendance that "Team Manager" stores when another system writes them
 * (`POST {base}/IncidentReports`, `POST {base}/Events`, each once per idempotency key; read back
 * with GET). Plain SQLite through the sandbox's storage; sandbox-do.ts wires it in.
 */
import * as v from 'valibot';
import type { IncidentRecord } from '$lib/core/incidents';
// The shapes the API answers with, defined once where the app reads them.
import type { DemoIncident, StoredRecord } from '$lib/api/incidents-client';
import { decodeSegment, readJson, ScimError } from './scim-http';

type Row = Record<string, string | number | null>;

export const RECORD_COLLECTIONS = { IncidentReports: 'report', Events: 'event' } as const;

const text = v.pipe(v.string('must be a string'), v.minLength(1, 'must not be empty'), v.maxLength(512));
const RecordBody = v.object({
	idempotencyKey: v.optional(text),
	sourceId: text,
	title: text,
	type: text,
	startedAt: text,
	endedAt: text,
	location: v.optional(v.pipe(v.string(), v.maxLength(512))),
	people: v.pipe(
		v.array(v.object({ personId: text, role: text, from: text, to: text }), 'must be a list'),
		v.maxLength(1000, 'lists more than 1000 people')
	)
});

/** An idempotency key already holds a record of the other kind: answered 422, nothing written. */
export class ReusedKey extends Error {
	constructor(
		readonly key: string,
		readonly holds: IncidentRecord['kind']
	) {
		super(
			`idempotency key "${key.slice(0, 100)}" already holds an ${holds === 'report' ? 'incident report' : 'event'}`
		);
	}
}

export class DemoRecords {
	/** Record writes still to refuse with 503 (a test's target failure). */
	failures = 0;

	constructor(private readonly sql: SqlStorage) {
		sql.exec(`CREATE TABLE IF NOT EXISTS sb_records (
			id TEXT PRIMARY KEY, kind TEXT NOT NULL, idem TEXT UNIQUE, record TEXT NOT NULL, created TEXT NOT NULL)`);
		sql.exec(
			`CREATE TABLE IF NOT EXISTS sb_incidents (id TEXT PRIMARY KEY, incident TEXT NOT NULL, created TEXT NOT NULL)`
		);
		sql.exec(
			'CREATE TABLE IF NOT EXISTS sb_webhooks (link_id TEXT PRIMARY KEY, secret TEXT NOT NULL, created TEXT NOT NULL)'
		);
	}

	// ---- the Operations Center's incidents ----------------------------------------------------

	open(input: { title: string; type: string; location?: string; people: { id: string; role: string }[] }, now: string) {
		const incident: DemoIncident = {
			id: `inc-${crypto.randomUUID().slice(0, 8)}`,
			title: input.title,
			type: input.type,
			...(input.location ? { location: input.location } : {}),
			startedAt: now,
			state: 'open',
			people: input.people
		};
		this.sql.exec(
			'INSERT INTO sb_incidents (id, incident, created) VALUES (?, ?, ?)',
			incident.id,
			JSON.stringify(incident),
			now
		);
		return incident;
	}

	/** Closes an incident (a second close changes nothing and answers it as it is). */
	close(id: string, now: string): DemoIncident | undefined {
		const incident = this.incident(id);
		if (!incident || incident.state === 'closed') return incident;
		const closed: DemoIncident = { ...incident, state: 'closed', endedAt: now };
		this.sql.exec('UPDATE sb_incidents SET incident = ? WHERE id = ?', JSON.stringify(closed), id);
		return closed;
	}

	incident(id: string): DemoIncident | undefined {
		const row = this.sql.exec<Row>('SELECT incident FROM sb_incidents WHERE id = ?', id).toArray()[0];
		return row ? (JSON.parse(String(row.incident)) as DemoIncident) : undefined;
	}

	incidents(): DemoIncident[] {
		return this.sql
			.exec<Row>('SELECT incident FROM sb_incidents ORDER BY created DESC, id')
			.toArray()
			.map((r) => JSON.parse(String(r.incident)) as DemoIncident);
	}

	/** The webhook secret a link gave this system (an admin pastes it into the real product). */
	subscribe(linkId: string, secret: string, now: string): void {
		this.sql.exec(
			'INSERT INTO sb_webhooks (link_id, secret, created) VALUES (?, ?, ?) ON CONFLICT(link_id) DO UPDATE SET secret = excluded.secret',
			linkId,
			secret,
			now
		);
	}

	webhooks(): { linkId: string; secret: string }[] {
		return this.sql
			.exec<Row>('SELECT link_id, secret FROM sb_webhooks ORDER BY link_id')
			.toArray()
			.map((r) => ({ linkId: String(r.link_id), secret: String(r.secret) }));
	}

	// ---- Team Manager's records ---------------------------------------------------------------

	records(kind?: IncidentRecord['kind']): StoredRecord[] {
		const rows = kind
			? this.sql.exec<Row>('SELECT record FROM sb_records WHERE kind = ? ORDER BY created, id', kind)
			: this.sql.exec<Row>('SELECT record FROM sb_records ORDER BY created, id');
		return rows.toArray().map((r) => JSON.parse(String(r.record)) as StoredRecord);
	}

	record(id: string): StoredRecord | undefined {
		const row = this.sql.exec<Row>('SELECT record FROM sb_records WHERE id = ?', id).toArray()[0];
		return row ? (JSON.parse(String(row.record)) as StoredRecord) : undefined;
	}

	/**
	 * Stores a record once per idempotency key: the second write answers the first record. A key
	 * that names a record of the other kind is refused (as the IETF Idempotency-Key draft has a key
	 * reused for another request): answering an incident report to an Events write would tell the
	 * writer its event exists.
	 */
	write(kind: IncidentRecord['kind'], body: unknown, now: string): { record: StoredRecord; created: boolean } {
		const parsed = v.parse(RecordBody, body);
		const key = parsed.idempotencyKey;
		if (key) {
			const row = this.sql.exec<Row>('SELECT record FROM sb_records WHERE idem = ?', key).toArray()[0];
			if (row) {
				const record = JSON.parse(String(row.record)) as StoredRecord;
				if (record.kind !== kind) throw new ReusedKey(key, record.kind);
				return { record, created: false };
			}
		}
		const { idempotencyKey: _key, ...rest } = parsed;
		const record: StoredRecord = {
			...rest,
			kind,
			id: `${kind === 'report' ? 'rep' : 'evt'}-${crypto.randomUUID().slice(0, 8)}`,
			createdAt: now
		};
		this.sql.exec(
			'INSERT INTO sb_records (id, kind, idem, record, created) VALUES (?, ?, ?, ?, ?)',
			record.id,
			kind,
			key ?? null,
			JSON.stringify(record),
			now
		);
		return { record, created: true };
	}
}

const json = (status: number, body: unknown) =>
	new Response(JSON.stringify(body), {
		status,
		headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }
	});

/**
 * The collection a path names (`…/IncidentReports`, `…/Events/evt-1`), if any. `id` stays as
 * sent (percent-encoded): it is decoded once the caller is known to hold a token.
 */
export function recordsPath(pathname: string): { kind: IncidentRecord['kind']; id?: string } | undefined {
	const m = /\/(IncidentReports|Events)(?:\/([^/]+))?\/?$/.exec(pathname);
	if (!m) return undefined;
	const kind = RECORD_COLLECTIONS[m[1] as keyof typeof RECORD_COLLECTIONS];
	return m[2] ? { kind, id: m[2] } : { kind };
}

/** Team Manager's records over HTTP, behind the sandbox's own token like its SCIM endpoints. */
export async function handleRecords(
	request: Request,
	records: DemoRecords,
	authorize: (token: string) => Promise<boolean>
): Promise<Response> {
	const where = recordsPath(new URL(request.url).pathname)!;
	const auth = request.headers.get('authorization') ?? '';
	const token = /^Bearer\s+(.+)$/i.exec(auth)?.[1];
	if (!token || !(await authorize(token)))
		return json(401, { error: 'auth', message: 'a valid bearer token is required' });
	const method = request.method.toUpperCase();
	let id: string | undefined;
	try {
		id = where.id === undefined ? undefined : decodeSegment(where.id);
	} catch (e) {
		if (e instanceof ScimError) return json(e.status, { error: 'invalid', message: e.message });
		throw e;
	}
	if (method === 'GET') {
		if (!id) return json(200, { records: records.records(where.kind) });
		const record = records.record(id);
		return record && record.kind === where.kind
			? json(200, record)
			: json(404, { error: 'not-found', message: `no record "${id.slice(0, 100)}"` });
	}
	if (method !== 'POST' || where.id)
		return json(405, { error: 'method-not-allowed', message: `${method} is not allowed here` });
	if (records.failures > 0) {
		records.failures--;
		return json(503, { error: 'unavailable', message: 'Team Manager is unavailable (a test asked it to fail)' });
	}
	let body: unknown;
	try {
		// Bounded and typed as the sandbox's SCIM bodies are: never read whole before its size is known.
		body = await readJson(request);
	} catch (e) {
		if (e instanceof ScimError) return json(e.status, { error: 'invalid', message: e.message });
		throw e;
	}
	try {
		const { record, created } = records.write(where.kind, body, new Date().toISOString());
		return json(created ? 201 : 200, record);
	} catch (e) {
		if (e instanceof ReusedKey) return json(422, { error: 'idempotency-key-reused', message: e.message });
		if (e instanceof v.ValiError)
			return json(400, {
				error: 'invalid',
				message: e.issues
					.map(
						(i: v.BaseIssue<unknown>) =>
							`${(i.path ?? []).map((p) => String((p as { key: unknown }).key)).join('.')}: ${i.message}`
					)
					.join('; ')
			});
		throw e;
	}
}
