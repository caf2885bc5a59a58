/**
 * The review's view of a reconciliation: one row per pair with the names a person recognizes,
 * ordered so what needs a person comes first (groups before people, as admins set them up),
 * filtered and searched inside the worker so the page only ever holds the rows on screen.
 */
import type { Conflict, ConflictReason, Group, Person, PairView, RecordKind, Situation, Snapshot } from '$lib/core';
import type { ReviewPlan } from '$lib/db/schema';
import type { Answer } from './answers';

export interface ReviewRow {
	/** Index of the pair in the reconciliation (stable while the plan is). */
	i: number;
	kind: RecordKind;
	situation: Situation;
	reason?: ConflictReason;
	note?: PairView['note'];
	aId?: string;
	bId?: string;
	aName?: string;
	bName?: string;
	fields?: string[];
	to?: PairView['to'];
	/** Provisioning: the person moves between communities (and is sent a transfer notice). */
	transfer?: PairView['transfer'];
	conflictId?: string;
	/** The answer made to this pair's conflict, and where it stands (set per request, see api.ts). */
	answer?: Answer;
}

export const SITUATION_ORDER: Record<Situation, number> = {
	conflict: 0,
	remove: 1,
	create: 2,
	update: 3,
	'in-sync': 4
};

export interface ReviewFilter {
	kind?: RecordKind | 'all';
	situation?: Situation | 'all';
	text?: string;
}

/** Both snapshots indexed by id, for names and details. */
export interface SideRecords {
	people: Map<string, Person>;
	groups: Map<string, Group>;
}

export function indexRecords(snapshot: Snapshot | undefined): SideRecords {
	const people = new Map<string, Person>();
	const groups = new Map<string, Group>();
	for (const p of snapshot?.people ?? []) people.set(p.id, p);
	for (const g of snapshot?.groups ?? []) groups.set(g.id, g);
	return { people, groups };
}

export function nameOf(records: SideRecords, kind: RecordKind, id: string | undefined): string | undefined {
	if (id === undefined) return undefined;
	return kind === 'person' ? (records.people.get(id)?.displayName ?? id) : (records.groups.get(id)?.name ?? id);
}

/** Everything the worker keeps for one link's review. */
export class ReviewModel {
	readonly rows: ReviewRow[];
	readonly conflicts: Map<string, Conflict>;
	/** Lower-cased text each row is searched in. */
	private readonly haystack: string[];
	private view: Int32Array;

	constructor(
		readonly reconciliation: ReviewPlan,
		readonly a: SideRecords,
		readonly b: SideRecords
	) {
		this.conflicts = new Map(reconciliation.conflicts.map((c) => [c.id, c]));
		const rows: ReviewRow[] = reconciliation.pairs.map((p, i) => {
			const row: ReviewRow = {
				i,
				kind: p.kind,
				situation: p.situation,
				aId: p.a,
				bId: p.b,
				aName: nameOf(a, p.kind, p.a),
				bName: nameOf(b, p.kind, p.b)
			};
			if (p.note) row.note = p.note;
			if (p.fields) row.fields = p.fields;
			if (p.to) row.to = p.to;
			if (p.transfer) row.transfer = p.transfer;
			if (p.conflictId) {
				row.conflictId = p.conflictId;
				row.reason = this.conflicts.get(p.conflictId)?.reason;
			}
			return row;
		});
		// Threshold conflicts name no pair: each gets a row of its own so it is seen and answered.
		for (const c of reconciliation.conflicts) {
			if (c.reason !== 'threshold') continue;
			rows.push({
				i: rows.length,
				kind: c.kind,
				situation: 'conflict',
				reason: 'threshold',
				conflictId: c.id,
				aName: `${c.staged?.count ?? 0} ${c.createdSide ? 'creations' : 'removals'} staged`,
				bName: undefined
			});
		}
		// One precomputed key per row and plain string comparison: a locale collator costs seconds
		// on 100k rows. Situation, then groups before people, then the name without accents.
		const keyed = rows.map((r) => ({
			r,
			k: `${SITUATION_ORDER[r.situation]}${r.kind === 'group' ? 0 : 1}${(r.aName ?? r.bName ?? '')
				.normalize('NFD')
				.replace(/[\u0300-\u036f]/g, '')
				.toLowerCase()}`
		}));
		keyed.sort((x, y) => (x.k < y.k ? -1 : x.k > y.k ? 1 : 0));
		this.rows = keyed.map((x) => x.r);
		this.haystack = this.rows.map((r) =>
			`${r.aName ?? ''}\u0000${r.bName ?? ''}\u0000${r.aId ?? ''}\u0000${r.bId ?? ''}`.toLowerCase()
		);
		this.view = Int32Array.from(this.rows.keys());
	}

	/** Applies a filter; later `slice` calls page through its result. Returns how many rows match. */
	query(filter: ReviewFilter): number {
		const kind = filter.kind && filter.kind !== 'all' ? filter.kind : undefined;
		const situation = filter.situation && filter.situation !== 'all' ? filter.situation : undefined;
		const text = filter.text?.trim().toLowerCase() ?? '';
		const out = new Int32Array(this.rows.length);
		let n = 0;
		for (let k = 0; k < this.rows.length; k++) {
			const r = this.rows[k];
			if (kind && r.kind !== kind) continue;
			if (situation && r.situation !== situation) continue;
			if (text && !this.haystack[k].includes(text)) continue;
			out[n++] = k;
		}
		this.view = out.subarray(0, n);
		return n;
	}

	get total(): number {
		return this.view.length;
	}

	slice(start: number, count: number): ReviewRow[] {
		const end = Math.min(this.view.length, start + count);
		const out: ReviewRow[] = [];
		for (let k = Math.max(0, start); k < end; k++) out.push(this.rows[this.view[k]]);
		return out;
	}

	/** One pair with both records and, for a conflict, the conflict and every candidate record. */
	detail(i: number): PairDetail | undefined {
		const row = this.rows.find((r) => r.i === i);
		if (!row) return undefined;
		const conflict = row.conflictId ? this.conflicts.get(row.conflictId) : undefined;
		const pick = (side: 'a' | 'b', id: string | undefined) => {
			if (id === undefined) return undefined;
			const records = side === 'a' ? this.a : this.b;
			return row.kind === 'person' ? records.people.get(id) : records.groups.get(id);
		};
		const candidates = (conflict?.records ?? []).map((ref) => ({ ref, record: pick(ref.side, ref.id) }));
		return { row, a: pick('a', row.aId), b: pick('b', row.bId), conflict, candidates };
	}

	/** The row that shows a conflict (its pair), if the conflict still stands. */
	rowOfConflict(conflictId: string): number | undefined {
		return this.rows.find((r) => r.conflictId === conflictId)?.i;
	}

	/** The row that shows one of these records now (a pair can change situation when answered). */
	rowOfRecords(kind: RecordKind, aId: string | undefined, bId: string | undefined): number | undefined {
		return this.rows.find(
			(r) => r.kind === kind && ((aId !== undefined && r.aId === aId) || (bId !== undefined && r.bId === bId))
		)?.i;
	}

	/** Records on one side whose name or id contains `text` (for "link to another record"). */
	search(side: 'a' | 'b', kind: RecordKind, text: string, limit = 20): (Person | Group)[] {
		const needle = text.trim().toLowerCase();
		if (!needle) return [];
		const records = side === 'a' ? this.a : this.b;
		const out: (Person | Group)[] = [];
		const source: Iterable<Person | Group> = kind === 'person' ? records.people.values() : records.groups.values();
		for (const r of source) {
			const name = 'displayName' in r ? r.displayName : r.name;
			const email = 'email' in r ? (r.email ?? '') : '';
			if (name.toLowerCase().includes(needle) || r.id.toLowerCase().includes(needle) || email.includes(needle)) {
				out.push(r);
				if (out.length >= limit) break;
			}
		}
		return out;
	}
}

export interface PairDetail {
	row: ReviewRow;
	a?: Person | Group;
	b?: Person | Group;
	conflict?: Conflict;
	candidates: { ref: Conflict['records'][number]; record?: Person | Group }[];
	/** The answer made to this pair, and where it stands. */
	answer?: Answer;
}
