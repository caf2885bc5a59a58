/**
 * Both systems' snapshots in the link's SQLite, written page by page as the connectors read them
 * and read back a part at a time (see the core's parts.ts): a 100k-person directory is never in
 * the Worker's memory at once.
 *
 * Each side has two slots (`a` and `a~`): a read is written into the slot not in use, and only
 * when both sides were read and passed the pre-flight checks does it become the current one
 * (`promote`). A read that fails half-way therefore leaves the last good read, which the current
 * plan was made from, readable as it was: the review keeps showing it, with a note.
 */
import {
	SnapshotParser,
	VersionAccumulator,
	type Group,
	type Membership,
	type Person,
	type PartitionIndex,
	type Side,
	type SideCounts
} from '$lib/core';
import type { SnapshotSink } from '../connectors/types';
import { insertRows, jsonStream, type Pager } from './rows';

// The snapshot tables are made by the link's migrations (worker/link/migrations.ts): a new table,
// column or index is a new migration there.

/** A side as read: where from, when, its version and how many of each record it holds. */
export interface SideInfo extends SideCounts {
	takenAt: string;
	version: string;
	/** The person fields the system holds (see Snapshot.fields). */
	fields?: string[];
}

/** The value of the tables' `side` column a side's rows are kept under. */
type Slot = Side | `${Side}~`;
type Slots = Record<Side, Slot>;
const SLOTS = 'snapshot-slots';

export class SnapshotStore {
	constructor(
		private readonly sql: SqlStorage,
		private readonly transaction: <T>(fn: () => T) => T,
		private readonly meta: { get<T>(key: string): T | undefined; set(key: string, value: unknown): void }
	) {}

	/** Changes whenever a side's rows are replaced: a stream of the old rows then stops. */
	#generation = 0;
	#slots: Slots | undefined;

	/** The slot holding `side`'s current read. */
	#slot(side: Side): Slot {
		this.#slots ??= this.meta.get<Slots>(SLOTS) ?? { a: 'a', b: 'b' };
		return this.#slots[side];
	}

	/** The slot the next read of `side` is written into. */
	#next(side: Side): Slot {
		return this.#slot(side) === side ? `${side}~` : side;
	}

	#clear(slot: Slot): void {
		for (const table of ['snap_people', 'snap_groups', 'snap_members', 'snap_parts'])
			this.sql.exec(`DELETE FROM ${table} WHERE side = ?`, slot);
	}

	/**
	 * A sink that writes a new read of `side` beside the current one (and shows each person to
	 * `index`); `promote` makes it current, `discard` throws it away.
	 */
	writer(side: Side, system: string, index?: PartitionIndex): SnapshotWriter {
		const slot = this.#next(side);
		this.#clear(slot);
		return new SnapshotWriter(this.sql, this.transaction, side, slot, system, () => this.#clear(slot), index);
	}

	/** The reads just written become the current ones; the previous ones are cleared by the next read. */
	promote(sides: readonly Side[] = ['a', 'b']): void {
		const slots = { a: this.#slot('a'), b: this.#slot('b') };
		for (const side of sides) slots[side] = this.#next(side);
		this.meta.set(SLOTS, slots);
		this.#slots = slots;
		this.#generation++;
	}

	/** A read that failed: its rows go, and the current reads stay as they were. */
	discard(sides: readonly Side[] = ['a', 'b']): void {
		for (const side of sides) this.#clear(this.#next(side));
	}

	/**
	 * Records each person's part (after the partition index has seen everything): the parts go to
	 * a scratch table a few dozen rows per statement, then into snap_people in one statement,
	 * rather than one update per person.
	 */
	assignParts(side: Side, partOf: (id: string) => number): void {
		const ids: string[] = [];
		const slot = this.#slot(side);
		for (const row of this.sql.exec<{ id: string }>('SELECT id FROM snap_people WHERE side = ?', slot))
			ids.push(row.id);
		for (let i = 0; i < ids.length; i += 2000) {
			this.transaction(() => {
				const rows = ids.slice(i, i + 2000).map((id) => [slot, id, partOf(id)]);
				insertRows(this.sql, 'snap_parts', ['side', 'id', 'part'], rows, 'INSERT OR REPLACE');
			});
		}
		this.sql.exec(
			'UPDATE snap_people SET part = (SELECT part FROM snap_parts WHERE snap_parts.side = snap_people.side AND snap_parts.id = snap_people.id) WHERE side = ?',
			slot
		);
		this.sql.exec('DELETE FROM snap_parts WHERE side = ?', slot);
	}

	/**
	 * Both sides as `{ a: Snapshot, b: Snapshot }` JSON text, streamed from the tables: the records
	 * the link's current plan was reconciled from.
	 */
	text(info: Record<Side, SideInfo>): ReadableStream<Uint8Array> {
		const { sql } = this;
		const side = (s: Side) => {
			const { system, takenAt, version, fields } = info[s];
			const slot = this.#slot(s);
			let member = ['', ''];
			const members = () => {
				const page = sql
					.exec<{ group_id: string; person_id: string; role: string }>(
						'SELECT group_id, person_id, role FROM snap_members WHERE side = ? AND (group_id, person_id) > (?, ?) ORDER BY group_id, person_id LIMIT 2000',
						slot,
						...member
					)
					.toArray();
				if (page.length > 0) member = [page[page.length - 1].group_id, page[page.length - 1].person_id];
				return page.map((m) => JSON.stringify({ groupId: m.group_id, personId: m.person_id, role: m.role }));
			};
			return [
				`${JSON.stringify(s)}:{"system":${JSON.stringify(system)},"takenAt":${JSON.stringify(takenAt)},"version":${JSON.stringify(version)},${fields ? `"fields":${JSON.stringify(fields)},` : ''}"people":[`,
				byId(sql, 'snap_people', slot),
				`],"groups":[`,
				byId(sql, 'snap_groups', slot),
				`],"memberships":[`,
				members,
				`]}`
			];
		};
		const generation = this.#generation;
		return jsonStream(['{', ...side('a'), ',', ...side('b'), '}'], () => {
			if (this.#generation !== generation)
				throw new Error('The snapshots were read again while they were sent: ask for them again.');
		});
	}

	/** True when the latest read of `side` holds the person `id`. */
	has(side: Side, id: string): boolean {
		return (
			this.sql.exec('SELECT 1 FROM snap_people WHERE side = ? AND id = ?', this.#slot(side), id).toArray().length > 0
		);
	}

	people(side: Side, part: number): Person[] {
		const out: Person[] = [];
		for (const row of this.sql.exec<{ rec: string }>(
			'SELECT rec FROM snap_people WHERE side = ? AND part = ?',
			this.#slot(side),
			part
		))
			out.push(JSON.parse(row.rec));
		return out;
	}

	groups(side: Side): Group[] {
		const out: Group[] = [];
		for (const row of this.sql.exec<{ rec: string }>('SELECT rec FROM snap_groups WHERE side = ?', this.#slot(side)))
			out.push(JSON.parse(row.rec));
		return out;
	}

	/** The memberships of a part's people, group by group. */
	memberships(side: Side, part: number): Membership[] {
		const out: Membership[] = [];
		// CROSS JOIN keeps the part's people as the outer loop (SQLite does not reorder it): a part's
		// memberships are found through their people, not by walking every membership of the side.
		const rows = this.sql.exec<{ group_id: string; person_id: string; role: string }>(
			`SELECT m.group_id, m.person_id, m.role FROM snap_people p CROSS JOIN snap_members m ON m.side = p.side AND m.person_id = p.id
			 WHERE p.side = ? AND p.part = ? ORDER BY m.group_id`,
			this.#slot(side),
			part
		);
		for (const row of rows)
			out.push({ groupId: row.group_id, personId: row.person_id, role: row.role as Membership['role'] });
		return out;
	}
}

/**
 * Writes one side's read into the tables, a page per transaction: each record validated and
 * normalized by the core's SnapshotParser (NFC, trimmed, emails lower-cased) before it is stored,
 * so the plan is made from, and writes, what parseSnapshot would give. Versioned as it goes.
 */
export class SnapshotWriter implements SnapshotSink {
	#version = new VersionAccumulator();
	#counts = { people: 0, groups: 0, memberships: 0 };
	#parser: SnapshotParser;

	constructor(
		private readonly sql: SqlStorage,
		private readonly transaction: <T>(fn: () => T) => T,
		private readonly side: Side,
		/** The rows' `side` column: the slot this read is written into. */
		private readonly slot: string,
		private readonly system: string,
		private readonly clear: () => void,
		private readonly index?: PartitionIndex
	) {
		this.#parser = new SnapshotParser(system);
	}

	restart(): void {
		this.clear();
		this.#version = new VersionAccumulator();
		this.#counts = { people: 0, groups: 0, memberships: 0 };
		this.#parser = new SnapshotParser(this.system);
		// The index keeps what the failed attempt showed it: a person it no longer holds only joins
		// parts that did not need joining, which costs nothing but a slightly larger part.
	}

	people(raw: Person[]): void {
		const list = this.#parser.people(raw);
		for (const p of list) {
			this.#version.person(p);
			this.index?.person(this.side, p);
		}
		this.transaction(() =>
			insertRows(
				this.sql,
				'snap_people',
				['side', 'id', 'rec'],
				list.map((p) => [this.slot, p.id, JSON.stringify(p)])
			)
		);
		this.#counts.people += list.length;
	}

	groups(rawGroups: Group[], rawMemberships: Membership[]): void {
		const list = this.#parser.groups(rawGroups);
		const memberships = this.#parser.memberships(rawMemberships);
		for (const g of list) this.#version.group(g);
		for (const m of memberships) this.#version.membership(m);
		this.transaction(() => {
			insertRows(
				this.sql,
				'snap_groups',
				['side', 'id', 'rec'],
				list.map((g) => [this.slot, g.id, JSON.stringify(g)])
			);
			insertRows(
				this.sql,
				'snap_members',
				['side', 'group_id', 'person_id', 'role'],
				memberships.map((m) => [this.slot, m.groupId, m.personId, m.role])
			);
		});
		this.#counts.groups += list.length;
		this.#counts.memberships += memberships.length;
	}

	/** Throws a ValidationError naming the bad records; nothing of this read is then planned from. */
	finish(takenAt: string, fields?: string[]): SideInfo {
		this.#parser.finish();
		return {
			system: this.system,
			takenAt,
			version: this.#version.value(),
			...this.#counts,
			...(fields ? { fields } : {})
		};
	}
}

/** A side's records (stored as JSON) in id order, a page at a time. */
function byId(sql: SqlStorage, table: 'snap_people' | 'snap_groups', side: string): Pager {
	let after = '';
	return () => {
		const page = sql
			.exec<{ id: string; rec: string }>(
				`SELECT id, rec FROM ${table} WHERE side = ? AND id > ? ORDER BY id LIMIT 2000`,
				side,
				after
			)
			.toArray();
		if (page.length > 0) after = page[page.length - 1].id;
		return page.map((r) => r.rec);
	};
}
