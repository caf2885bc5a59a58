/**
 * Provisioning as admins know it from their directories, read from the link's SQLite: the people
 * sync removed (with "restorable until" and "anonymized on", the core's `retention`), the
 * invitations and transfer notices (recorded, or planned by the current plan), and the plan of a
 * restore an owner asks for.
 *
 * A restore reactivates the person on the system it was removed from, as one journaled operation
 * of a run of its own (undoable like any run), and lets the pair go from the baseline: the person
 * is no longer the source's to remove, so the next nightly run leaves them alone, as it leaves any
 * record sync does not own. Should the person come back in the source, matching adopts them again.
 */
import { retention, STEP, type BaselineEntry, type DraftEntry, type LinkConfig, type Op, type Side } from '$lib/core';
import type { NoticeView, RemovedPerson } from '$lib/api/types';
import { nightlyOn } from './schedule';
import { refuse, ok, type Result } from './types';

interface Named {
	displayName?: string;
	email?: string;
}

function personRecord(sql: SqlStorage, side: Side, id: string): Named | undefined {
	const row = sql
		.exec<{ rec: string }>('SELECT rec FROM snap_people WHERE side IN (?, ?) AND id = ? LIMIT 1', side, `${side}~`, id)
		.toArray()[0];
	return row ? (JSON.parse(row.rec) as Named) : undefined;
}

/** The side a removed entry's record was removed on (provisioning: the target). */
const removedSide = (e: BaselineEntry): Side => e.lifecycle?.on ?? 'b';

/** Baseline entries of people with a removal lifecycle. */
function* removedEntries(sql: SqlStorage): Generator<BaselineEntry> {
	// Only entries that carry a lifecycle are parsed: a 100k baseline is mostly active people.
	for (const row of sql.exec<{ entry: string }>(
		`SELECT entry FROM baseline WHERE kind = 'person' AND entry LIKE '%"lifecycle"%'`
	)) {
		const e = JSON.parse(row.entry) as BaselineEntry;
		if (e.lifecycle && e.lifecycle.state !== 'active') yield e;
	}
}

const scheduleOf = (config: LinkConfig) => ({ ...config.schedule, enabled: nightlyOn(config) });

/** The people sync removed, restorable ones first, then by the end of their retention. */
export function removedPeople(sql: SqlStorage, config: LinkConfig, now: number): RemovedPerson[] {
	const out: RemovedPerson[] = [];
	for (const e of removedEntries(sql)) {
		const side = removedSide(e);
		const id = side === 'a' ? e.a : e.b;
		const dates = retention(e.lifecycle, now, scheduleOf(config))!;
		const record = personRecord(sql, side, id);
		const name = (record?.displayName || e.fields.displayName) ?? id;
		const email = record?.email ?? e.fields.email ?? undefined;
		out.push({ id, side, system: config.systems[side], name, ...(email ? { email } : {}), ...dates });
	}
	return out.sort(
		(x, y) =>
			Number(y.restorable) - Number(x.restorable) || (x.restorableUntil ?? '').localeCompare(y.restorableUntil ?? '')
	);
}

/** The operation and baseline draft that restore the removed person `id`, or why not. */
export function planRestore(
	sql: SqlStorage,
	config: LinkConfig,
	id: string,
	now: number
): Result<{ op: Op; draft: DraftEntry; name: string }> {
	let entry: BaselineEntry | undefined;
	for (const e of removedEntries(sql)) if ((removedSide(e) === 'a' ? e.a : e.b) === id) entry = e;
	if (!entry) return refuse('not-found', `Link ${config.id} has no removed person "${id}".`);
	const side = removedSide(entry);
	const name = (personRecord(sql, side, id)?.displayName || entry.fields.displayName) ?? id;
	const dates = retention(entry.lifecycle, now, scheduleOf(config))!;
	if (dates.state === 'anonymized')
		return refuse('conflict', `${name} was anonymized when retention ended: there is nothing left to restore.`, {
			state: 'anonymized'
		});
	if (!dates.restorable)
		return refuse(
			'conflict',
			`${name} was restorable until ${dates.restorableUntil}: retention has ended, and the next run anonymizes them.`,
			{ restorableUntil: dates.restorableUntil }
		);
	const op: Op = {
		type: 'restore-person',
		key: `restore-person:${side}:${id}:${entry.lifecycle?.removedAt ?? ''}`,
		side,
		step: STEP.people,
		target: { id }
	};
	const draft: DraftEntry = {
		kind: 'person',
		a: { id: entry.a },
		b: { id: entry.b },
		origin: entry.origin,
		fields: entry.fields,
		opKeys: [op.key],
		previous: entry,
		retire: true
	};
	return ok({ op, draft, name });
}

/** One row of the notices table. */
interface NoticeRow {
	[k: string]: SqlStorageValue;
	run_id: string;
	key: string;
	type: string;
	system: string;
	person: string;
	payload: string;
	created_at: number;
	sent_at: number | null;
}

/**
 * Invitations and transfer notices with their state: those the current plan will send (`planned`,
 * or `staged` while an owner has not approved what they wait for), then those runs recorded
 * (`queued` until delivered, `sent` once a mail binding delivered them), newest first.
 */
export function noticeList(sql: SqlStorage, config: LinkConfig, limit: number): NoticeView[] {
	const out: NoticeView[] = [];
	const planOp = (key: string): Op | undefined => {
		const row = sql.exec<{ op: string }>('SELECT op FROM plan_ops WHERE key = ? LIMIT 1', key).toArray()[0];
		return row ? (JSON.parse(row.op) as Op) : undefined;
	};
	for (const row of sql.exec<{ op: string; staged: number }>(
		'SELECT op, staged FROM plan_ops WHERE step IN (?, ?) ORDER BY seq LIMIT ?',
		STEP.notices,
		STEP.transfers,
		limit
	)) {
		const op = JSON.parse(row.op) as Op;
		if (op.type !== 'invite' && op.type !== 'notify-transfer') continue;
		// A plan a run applied stays the current plan until the next reconciliation: what it sent is
		// recorded under the same key (keys name the intended change), and listed below as such.
		if (sql.exec('SELECT 1 FROM notices WHERE key = ? LIMIT 1', op.key).toArray().length > 0) continue;
		let person: string | undefined;
		let named: Named | undefined;
		if ('id' in op.person) {
			person = op.person.id;
			named = personRecord(sql, op.side, person);
		} else {
			const create = planOp(op.person.createdBy);
			if (create?.type === 'create-person') named = create.record;
		}
		out.push({
			key: op.key,
			type: op.type,
			system: config.systems[op.side],
			...(person ? { person } : {}),
			name: named?.displayName ?? 'a new person',
			...(named?.email ? { email: named.email } : {}),
			...(op.type === 'notify-transfer' ? { from: op.from, to: op.to } : {}),
			state: row.staged || op.staged ? 'staged' : 'planned'
		});
	}
	for (const row of sql.exec<NoticeRow>('SELECT * FROM notices ORDER BY created_at DESC, key LIMIT ?', limit)) {
		const payload = JSON.parse(row.payload) as Named & { from?: string[]; to?: string[] };
		const side: Side = row.system === config.systems.a ? 'a' : 'b';
		const named = payload.displayName ? payload : personRecord(sql, side, row.person);
		out.push({
			key: row.key,
			runId: row.run_id,
			type: row.type as NoticeView['type'],
			system: row.system,
			person: row.person,
			name: named?.displayName ?? row.person,
			...(named?.email ? { email: named.email } : {}),
			...(payload.from ? { from: payload.from, to: payload.to ?? [] } : {}),
			state: row.sent_at === null ? 'queued' : 'sent',
			at: new Date(row.sent_at ?? row.created_at).toISOString()
		});
	}
	return out.slice(0, limit);
}
