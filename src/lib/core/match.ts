/**
 * Matching, in passes from most to least certain: pairs the baseline already links, pairs a
 * person linked by hand, then each key pass (identifier, the link's match field, names).
 * Two or more candidates on either side for one key is never resolved silently: it becomes an
 * ambiguous match naming every candidate.
 */
import type { BaselineEntry, Side } from './model';

export interface Keyed {
	id: string;
}

export interface MatchPass<R> {
	name: string;
	/** The record's key in this pass, normalized; '' leaves the record out of the pass. */
	key: (record: R, side: 'a' | 'b') => string;
	/** Pairs this pass finds that must not be linked automatically (same name, other identifier). */
	compatible?: (a: R, b: R) => boolean;
}

export interface MatchInput<R extends Keyed> {
	a: Map<string, R>;
	b: Map<string, R>;
	baseline: readonly BaselineEntry[];
	/** Pairs a person chose ("link these two"). */
	forced: readonly { a: string; b: string }[];
	/** Records a person took out of matching (create new, ignore). */
	excluded: { a: ReadonlySet<string>; b: ReadonlySet<string> };
	passes: readonly MatchPass<R>[];
	/** Leftovers that share this key are reported as name collisions. */
	collisionKey?: (record: R) => string;
	/**
	 * Baseline entries that pair nothing any more (anonymized people): the side that still holds
	 * the entry's record, which is then never paired, created elsewhere or adopted; undefined for
	 * a live entry.
	 */
	retired?: (entry: BaselineEntry) => Side | undefined;
	/**
	 * Sides on which a key is an identity: two unmatched records holding it are ambiguous even
	 * with no candidate on the other side (creating both would give the other side two records
	 * with one key, and the second create fails or, worse, lands on the first).
	 */
	uniqueKeys?: Record<'a' | 'b', boolean>;
}

export interface Pair<R> {
	a: R;
	b: R;
	entry?: BaselineEntry;
	via: string;
}

export interface MatchResult<R> {
	pairs: Pair<R>[];
	/** Baseline entries with a record missing on one side (or both). */
	broken: { entry: BaselineEntry; a?: R; b?: R }[];
	onlyA: R[];
	onlyB: R[];
	ambiguous: { via: string; a: R[]; b: R[] }[];
	collisions: { a: R[]; b: R[] }[];
	/** The retired entries (see MatchInput.retired): kept as they are. */
	retired: BaselineEntry[];
}

function indexBy<R extends Keyed>(records: Iterable<R>, key: (r: R) => string): Map<string, R[]> {
	const index = new Map<string, R[]>();
	for (const r of records) {
		const k = key(r);
		if (k === '') continue;
		const list = index.get(k);
		if (list) list.push(r);
		else index.set(k, [r]);
	}
	return index;
}

export function match<R extends Keyed>(input: MatchInput<R>): MatchResult<R> {
	const pairs: Pair<R>[] = [];
	const broken: MatchResult<R>['broken'] = [];
	const ambiguous: MatchResult<R>['ambiguous'] = [];
	const collisions: MatchResult<R>['collisions'] = [];
	// Records an entry, a person or a pass already took, by the record itself: a set of objects
	// hashes no text, where a set of every person's id hashed and compared each id again. An id
	// an entry names with no record behind it is held by its text.
	const usedA = new Set<R>();
	const usedB = new Set<R>();
	const goneA = new Set<string>();
	const goneB = new Set<string>();

	const retired: BaselineEntry[] = [];
	// Indexed, not for-of: this loop runs once over every pair, mostly before the optimizer steps
	// in, and an unoptimized for-of allocates a result per element.
	for (let i = 0; i < input.baseline.length; i++) {
		const entry = input.baseline[i];
		// First: a person who came back under the same id is a new entry, beside the retired one.
		const holder = input.retired?.(entry);
		if (holder) {
			retired.push(entry);
			const r = input[holder].get(entry[holder]);
			if (r) (holder === 'a' ? usedA : usedB).add(r);
			else (holder === 'a' ? goneA : goneB).add(entry[holder]);
			continue;
		}
		// A record whose partner vanished stays tied to its entry: it is removed or restored, not
		// re-matched. An entry naming a record another entry holds: the first entry keeps it.
		const a = input.a.get(entry.a);
		const b = input.b.get(entry.b);
		if (a ? usedA.has(a) : goneA.has(entry.a)) continue;
		if (b ? usedB.has(b) : goneB.has(entry.b)) continue;
		if (a) usedA.add(a);
		else goneA.add(entry.a);
		if (b) usedB.add(b);
		else goneB.add(entry.b);
		if (a && b) pairs.push({ a, b, entry, via: 'baseline' });
		else broken.push({ entry, a, b });
	}

	for (const f of input.forced) {
		const a = input.a.get(f.a);
		const b = input.b.get(f.b);
		if (!a || !b || usedA.has(a) || usedB.has(b)) continue;
		pairs.push({ a, b, via: 'link' });
		usedA.add(a);
		usedB.add(b);
	}
	// Taken out of matching by a person: they stand alone (created on the other side, or ignored).
	const alone = (ids: ReadonlySet<string>, records: Map<string, R>, used: Set<R>): R[] =>
		[...ids].map((id) => records.get(id)).filter((r): r is R => !!r && !used.has(r));
	const aloneA = alone(input.excluded.a, input.a, usedA);
	const aloneB = alone(input.excluded.b, input.b, usedB);
	for (const r of aloneA) usedA.add(r);
	for (const r of aloneB) usedB.add(r);

	let restA: R[] = [];
	let restB: R[] = [];
	input.a.forEach((r) => usedA.has(r) || restA.push(r));
	input.b.forEach((r) => usedB.has(r) || restB.push(r));

	const unique = input.uniqueKeys;
	for (const pass of input.passes) {
		const pairing = restA.length > 0 && restB.length > 0;
		if (!pairing && !unique?.a && !unique?.b) break;
		const byA = indexBy(restA, (r) => pass.key(r, 'a'));
		const byB = indexBy(restB, (r) => pass.key(r, 'b'));
		const taken = new Set<R>();
		if (unique) {
			for (const [side, index, other] of [
				['a', byA, byB],
				['b', byB, byA]
			] as const) {
				if (!unique[side]) continue;
				for (const [k, list] of index) {
					if (list.length < 2 || other.has(k)) continue;
					ambiguous.push({ via: pass.name, a: side === 'a' ? list : [], b: side === 'b' ? list : [] });
					for (const r of list) taken.add(r);
				}
			}
		}
		for (const [k, as] of byA) {
			const bs = byB.get(k);
			if (!bs) continue;
			if (as.length === 1 && bs.length === 1) {
				if (pass.compatible && !pass.compatible(as[0], bs[0])) collisions.push({ a: as, b: bs });
				else pairs.push({ a: as[0], b: bs[0], via: pass.name });
			} else {
				ambiguous.push({ via: pass.name, a: as, b: bs });
			}
			for (const r of as) taken.add(r);
			for (const r of bs) taken.add(r);
		}
		if (taken.size > 0) {
			restA = restA.filter((r) => !taken.has(r));
			restB = restB.filter((r) => !taken.has(r));
		}
	}

	if (input.collisionKey && restA.length > 0 && restB.length > 0) {
		const byB = indexBy(restB, input.collisionKey);
		const taken = new Set<R>();
		for (const [k, as] of indexBy(restA, input.collisionKey)) {
			const bs = byB.get(k);
			if (!bs) continue;
			collisions.push({ a: as, b: bs });
		}
		for (const c of collisions) for (const r of [...c.a, ...c.b]) taken.add(r);
		restA = restA.filter((r) => !taken.has(r));
		restB = restB.filter((r) => !taken.has(r));
	}

	return { pairs, broken, onlyA: [...restA, ...aloneA], onlyB: [...restB, ...aloneB], ambiguous, collisions, retired };
}
