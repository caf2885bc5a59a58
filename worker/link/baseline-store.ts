/**
 * The baseline in SQLite: per matched pair, the values sync last wrote (the base of the three-way
 * diff), one row per entry, and the journal of the changes each run made to it (what undo reverts).
 * Reconciling reads it part by part; only a run's commit (or an undo) writes it.
 */
import type { BaselineEntry, BaselineMember, OwnedCounts } from '$lib/core';
import { insertRows } from './rows';

export class BaselineStore {
	constructor(
		private readonly sql: SqlStorage,
		private readonly transaction: <T>(fn: () => T) => T
	) {}

	/** Entries of every kind: 0 until sync has written something. */
	size(): number {
		return this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM baseline').one().n;
	}

	/** The person pairs of the baseline, by id only (for the partition index). */
	*personPairs(): Generator<{ a: string; b: string }> {
		for (const row of this.sql.exec<{ a: string; b: string }>("SELECT a, b FROM baseline WHERE kind = 'person'"))
			yield row;
	}

	/** True when the person `id` on `side` is in a baseline pair. */
	pairs(side: 'a' | 'b', id: string): boolean {
		return (
			this.sql
				.exec(`SELECT 1 FROM baseline WHERE kind = 'person' AND ${side === 'a' ? 'a' : 'b'} = ? LIMIT 1`, id)
				.toArray().length > 0
		);
	}

	/** True when the record `id` of `kind` on `side` is in a baseline pair. */
	holds(kind: 'person' | 'group', side: 'a' | 'b', id: string): boolean {
		const column = side === 'a' ? 'a' : 'b';
		return (
			this.sql.exec(`SELECT 1 FROM baseline WHERE kind = ? AND ${column} = ? LIMIT 1`, kind, id).toArray().length > 0
		);
	}

	/** Which kinds the baseline says were synced (see the core's baselineHad). */
	had(): Record<'person' | 'group', boolean> {
		// EXISTS stops at the first active entry of each kind (found through baseline_pair) instead of
		// reading every entry's JSON: a 10k baseline took a quarter of a second on the isolate's thread.
		const active = "coalesce(json_extract(entry, '$.lifecycle.state'), 'active') = 'active'";
		const row = this.sql
			.exec<{ person: number; grp: number }>(
				`SELECT EXISTS (SELECT 1 FROM baseline WHERE kind = 'person' AND ${active}) AS person,
				 EXISTS (SELECT 1 FROM baseline WHERE kind = 'group' AND ${active}) AS grp`
			)
			.one();
		return { person: row.person === 1, group: row.grp === 1 };
	}

	/** What the link owns (see the core's ownedCounts), counted in SQL rather than parsed entry by entry. */
	ownedCounts(): OwnedCounts {
		const row = this.sql
			.exec<{ people: number; groups: number; memberships: number }>(
				`SELECT
					coalesce(sum(kind = 'person' AND coalesce(json_extract(entry, '$.lifecycle.state'), 'active') = 'active'), 0) AS people,
					coalesce(sum(kind = 'group'), 0) AS groups,
					coalesce(sum(CASE WHEN kind = 'group' THEN coalesce(json_array_length(entry, '$.members'), 0) ELSE 0 END), 0) AS memberships
				FROM baseline`
			)
			.one();
		return { people: row.people, groups: row.groups, memberships: row.memberships };
	}

	/** Records the part of each person entry (`partOf` its id on side A). */
	assignParts(partOf: (a: string) => number): void {
		this.sql.exec('DELETE FROM baseline_parts');
		const rows = this.sql
			.exec<{ rid: number; a: string }>("SELECT rowid AS rid, a FROM baseline WHERE kind = 'person'")
			.toArray();
		for (let i = 0; i < rows.length; i += 2000) {
			this.transaction(() =>
				insertRows(
					this.sql,
					'baseline_parts',
					['rid', 'part'],
					rows.slice(i, i + 2000).map(({ rid, a }) => [rid, partOf(a)])
				)
			);
		}
	}

	/** A part's baseline: its people's entries, and every group's with only the part's members. */
	ofPart(part: number, memberPart: (m: BaselineMember) => number): BaselineEntry[] {
		const out: BaselineEntry[] = [];
		for (const row of this.sql.exec<{ entry: string }>(
			'SELECT b.entry FROM baseline b JOIN baseline_parts p ON p.rid = b.rowid WHERE p.part = ?',
			part
		))
			out.push(JSON.parse(row.entry));
		for (const row of this.sql.exec<{ entry: string }>("SELECT entry FROM baseline WHERE kind = 'group'")) {
			const e = JSON.parse(row.entry) as BaselineEntry;
			if (e.members) e.members = e.members.filter((m) => memberPart(m) === part);
			out.push(e);
		}
		return out;
	}

	/** Adds an entry (its pair must not be in the baseline: delete the old one first). */
	insert(entry: BaselineEntry): void {
		this.sql.exec(
			'INSERT INTO baseline (kind, a, b, entry) VALUES (?, ?, ?, ?)',
			entry.kind,
			entry.a,
			entry.b,
			JSON.stringify(entry)
		);
	}

	delete(entry: Pick<BaselineEntry, 'kind' | 'a' | 'b'>): void {
		this.sql.exec('DELETE FROM baseline WHERE kind = ? AND a = ? AND b = ?', entry.kind, entry.a, entry.b);
	}

	/** Journals a change a run made, so undoing the run can revert it. */
	recordChange(runId: string, action: 'del' | 'ins', entry: BaselineEntry): void {
		this.sql.exec(
			'INSERT INTO baseline_journal (run_id, seq, action, entry) VALUES (?, (SELECT coalesce(max(seq), 0) + 1 FROM baseline_journal WHERE run_id = ?), ?, ?)',
			runId,
			runId,
			action,
			JSON.stringify(entry)
		);
	}

	/** The baseline changes of a run, newest first (the order to revert them in). */
	*changes(runId: string): Generator<{ action: 'del' | 'ins'; entry: BaselineEntry }> {
		for (const row of this.sql.exec<{ action: string; entry: string }>(
			'SELECT action, entry FROM baseline_journal WHERE run_id = ? ORDER BY seq DESC',
			runId
		)) {
			yield { action: row.action as 'del' | 'ins', entry: JSON.parse(row.entry) };
		}
	}
}
