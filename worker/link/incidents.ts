/**
 * A link's incident pushes, in its Durable Object's SQLite: each closed incident received once
 * (by its idempotency key), its people mapped through the link's pairs, written to the other system
 * by the record writer, every attempt journaled with its outcome, failures retried with backoff on
 * the link's alarm, and sent again by an owner. The pure parts are src/lib/core/incidents.ts.
 */
import {
	incidentKey,
	mapIncident,
	nextAttemptAt,
	type IncidentConfig,
	type IncidentPayload,
	type IncidentPush,
	type IncidentRecord,
	type PushState
} from '$lib/core/incidents';
import type { LinkConfig, Side } from '$lib/core/model';
import { otherSide } from '$lib/core/model';
import type { WrittenRecord } from '../connectors/records';

type Row = Record<string, string | number | null>;

/** The link's incident settings, defaults filled in (incidents close in A, B gets a report). */
export const incidentsOf = (config: LinkConfig): IncidentConfig => config.incidents ?? { from: 'a', as: 'report' };

export interface IncidentDeps {
	sql: SqlStorage;
	config: () => LinkConfig | undefined;
	/** Writes a record to a system (a RecordWriter built for it). */
	write: (systemId: string, record: IncidentRecord, key: string) => Promise<WrittenRecord>;
	now: () => number;
	random?: () => number;
}

/** What receiving a push answered: the push, and whether it had been received before. */
export interface Received {
	push: IncidentPush;
	duplicate: boolean;
}

export class IncidentPushes {
	/** The table is the link's migration `incident pushes` (migrations.ts). */
	constructor(private readonly deps: IncidentDeps) {}

	/** The person paired with `id` on side `from`, on the other side (active pairs only). */
	private pairOf(from: Side, id: string): string | undefined {
		const to = otherSide(from);
		const row = this.deps.sql
			.exec<Row>(
				`SELECT ${to} AS other FROM baseline WHERE kind = 'person' AND ${from} = ?
				 AND coalesce(json_extract(entry, '$.lifecycle.state'), 'active') = 'active' LIMIT 1`,
				id
			)
			.toArray()[0];
		return row ? String(row.other) : undefined;
	}

	/**
	 * Records a closed incident and tries to write it at once. The same incident again (a retried
	 * webhook, a second close) is the same push: nothing new is written.
	 */
	async receive(payload: IncidentPayload): Promise<Received> {
		const config = this.deps.config()!;
		const settings = incidentsOf(config);
		const key = incidentKey(config.id, payload.id);
		const existing = this.get(key);
		if (existing) {
			this.journal(key, { at: this.deps.now(), outcome: 'duplicate' });
			return { push: this.get(key)!, duplicate: true };
		}
		const { record, unmapped } = mapIncident(payload, settings.as, (id) => this.pairOf(settings.from, id));
		const now = this.deps.now();
		this.deps.sql.exec(
			`INSERT INTO incident_pushes (key, incident_id, title, kind, system, record, unmapped, state, attempts,
			 next_at, received_at, updated_at, journal) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, '[]')`,
			key,
			payload.id,
			payload.title,
			settings.as,
			config.systems[otherSide(settings.from)],
			JSON.stringify(record),
			JSON.stringify(unmapped),
			now,
			now,
			now
		);
		await this.attempt(key);
		return { push: this.get(key)!, duplicate: false };
	}

	/** One attempt to write a push; a failure schedules the next one, or leaves it failed. */
	async attempt(key: string, by?: string): Promise<IncidentPush | undefined> {
		const row = this.row(key);
		if (!row || row.state === 'delivered') return row ? this.view(row) : undefined;
		const record = JSON.parse(String(row.record)) as IncidentRecord;
		const attempts = Number(row.attempts) + 1;
		const now = this.deps.now();
		try {
			const written = await this.deps.write(String(row.system), record, key);
			this.deps.sql.exec(
				`UPDATE incident_pushes SET state = 'delivered', attempts = ?, next_at = NULL, last_error = NULL,
				 target_id = ?, updated_at = ? WHERE key = ?`,
				attempts,
				written.id,
				now,
				key
			);
			this.journal(key, { at: now, outcome: 'delivered', ...(by ? { by } : {}) });
		} catch (e) {
			const error = e instanceof Error ? e.message : String(e);
			const next = nextAttemptAt(attempts, now, this.deps.random?.() ?? Math.random());
			const state: PushState = next === undefined ? 'failed' : 'pending';
			this.deps.sql.exec(
				'UPDATE incident_pushes SET state = ?, attempts = ?, next_at = ?, last_error = ?, updated_at = ? WHERE key = ?',
				state,
				attempts,
				next ?? null,
				error,
				now,
				key
			);
			this.journal(key, { at: now, outcome: 'failed', error, ...(by ? { by } : {}) });
		}
		return this.get(key);
	}

	/** Attempts every push whose time has come (the alarm calls this). */
	async deliverDue(): Promise<void> {
		const due = this.deps.sql
			.exec<Row>(
				"SELECT key FROM incident_pushes WHERE state = 'pending' AND next_at <= ? ORDER BY next_at LIMIT 50",
				this.deps.now()
			)
			.toArray();
		for (const r of due) await this.attempt(String(r.key));
	}

	/** When the next automatic attempt is due (epoch ms), if any. */
	nextDue(): number | undefined {
		const row = this.deps.sql
			.exec<Row>("SELECT min(next_at) AS at FROM incident_pushes WHERE state = 'pending'")
			.toArray()[0];
		return row?.at == null ? undefined : Number(row.at);
	}

	/** An owner sends a push again: a failed one starts over; a delivered one is written again only if gone. */
	async resend(key: string, by: string): Promise<IncidentPush | undefined> {
		const row = this.row(key);
		if (!row) return undefined;
		// The idempotency key stays: a target that has the record answers with it, nothing is doubled.
		this.deps.sql.exec(
			"UPDATE incident_pushes SET state = 'pending', attempts = 0, next_at = ? WHERE key = ?",
			this.deps.now(),
			key
		);
		return this.attempt(key, by);
	}

	list(limit = 100): IncidentPush[] {
		return this.deps.sql
			.exec<Row>('SELECT * FROM incident_pushes ORDER BY received_at DESC, key LIMIT ?', limit)
			.toArray()
			.map((r) => this.view(r));
	}

	get(key: string): IncidentPush | undefined {
		const row = this.row(key);
		return row ? this.view(row) : undefined;
	}

	/** The record a push carries (what the target was, or will be, sent). */
	record(key: string): IncidentRecord | undefined {
		const row = this.row(key);
		return row ? (JSON.parse(String(row.record)) as IncidentRecord) : undefined;
	}

	private row(key: string): Row | undefined {
		return this.deps.sql.exec<Row>('SELECT * FROM incident_pushes WHERE key = ?', key).toArray()[0];
	}

	private journal(key: string, entry: IncidentPush['journal'][number]): void {
		const row = this.row(key);
		if (!row) return;
		const journal = JSON.parse(String(row.journal)) as IncidentPush['journal'];
		journal.push(entry);
		this.deps.sql.exec('UPDATE incident_pushes SET journal = ? WHERE key = ?', JSON.stringify(journal.slice(-50)), key);
	}

	private view(r: Row): IncidentPush {
		const record = JSON.parse(String(r.record)) as IncidentRecord;
		return {
			key: String(r.key),
			incidentId: String(r.incident_id),
			title: String(r.title),
			as: r.kind as IncidentPush['as'],
			state: r.state as PushState,
			attempts: Number(r.attempts),
			receivedAt: Number(r.received_at),
			updatedAt: Number(r.updated_at),
			...(r.state === 'pending' && r.next_at != null ? { nextAt: Number(r.next_at) } : {}),
			...(r.last_error != null ? { lastError: String(r.last_error) } : {}),
			...(r.target_id != null ? { targetId: String(r.target_id) } : {}),
			system: String(r.system),
			unmapped: JSON.parse(String(r.unmapped)) as string[],
			people: record.people.length,
			journal: JSON.parse(String(r.journal)) as IncidentPush['journal']
		};
	}
}
