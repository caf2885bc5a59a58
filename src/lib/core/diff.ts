/**
 * The three-way diff: each side against the values sync last wrote (the baseline). A side that
 * changed wins; both changed to the same value is in sync; both changed differently is a conflict
 * unless a person chose a side. Without a baseline, the link's authority side wins.
 */
import type { FieldSpec } from './fields';
import type { FieldValue, FieldValues, Side } from './model';

export type Merge<V> = { kind: 'same'; value: V } | { kind: 'take'; from: Side; value: V } | { kind: 'conflict' };

/** Merges one value. `base === undefined` means sync never wrote it (first reconciliation). */
export function merge3<V>(a: V, b: V, base: V | undefined, authority: Side, chosen?: Side): Merge<V> {
	if (a === b) return { kind: 'same', value: a };
	if (base === undefined) return take(chosen ?? authority, a, b);
	if (a === base) return { kind: 'take', from: 'b', value: b };
	if (b === base) return { kind: 'take', from: 'a', value: a };
	return chosen ? take(chosen, a, b) : { kind: 'conflict' };
}

/**
 * Memberships merge as sets: `undefined` is "not a member", so a membership added on one side
 * since the baseline (or on the first reconciliation) is added to the other, never removed.
 */
export function mergeMember<V>(
	a: V | undefined,
	b: V | undefined,
	base: V | undefined,
	authority: Side,
	chosen?: Side
): Merge<V | undefined> {
	if (a === b) return { kind: 'same', value: a };
	if (a === base) return { kind: 'take', from: 'b', value: b };
	if (b === base) return { kind: 'take', from: 'a', value: a };
	if (base === undefined) return take(chosen ?? authority, a, b);
	return chosen ? take(chosen, a, b) : { kind: 'conflict' };
}

const take = <V>(from: Side, a: V, b: V): Merge<V> => ({ kind: 'take', from, value: from === 'a' ? a : b });

export interface FieldConflict {
	field: string;
	base: FieldValue;
	a: FieldValue;
	b: FieldValue;
}

export interface RecordDiff {
	/** Values to write to side A (canonical keys). */
	toA: FieldValues;
	toB: FieldValues;
	conflicts: FieldConflict[];
	/** Values both sides hold once the writes succeed: the next baseline. */
	merged: FieldValues;
	/** Fields whose values differ between the sides. */
	changed: string[];
	/** No baseline: the authority side decided. */
	firstSync: boolean;
}

/**
 * Diffs one pair. Returns null on the hot path where both sides equal the baseline, so an
 * unchanged directory costs one comparison per field and no allocation.
 */
export function diffRecord<R>(
	specs: readonly FieldSpec<R>[],
	a: R,
	b: R,
	base: FieldValues | undefined,
	authority: (field: string) => Side,
	chosen?: (field: string) => Side | undefined
): RecordDiff | null {
	let dirty = base === undefined;
	for (let i = 0; i < specs.length && !dirty; i++) {
		const spec = specs[i];
		const va = spec.read(a, 'a');
		if (va !== spec.read(b, 'b') || va !== (base![spec.key] ?? null)) dirty = true;
	}
	if (!dirty) return null;

	const diff: RecordDiff = { toA: {}, toB: {}, conflicts: [], merged: {}, changed: [], firstSync: base === undefined };
	for (const spec of specs) {
		const va = spec.read(a, 'a');
		const vb = spec.read(b, 'b');
		const vbase = base === undefined ? undefined : (base[spec.key] ?? null);
		if (va !== vb) diff.changed.push(spec.key);
		const m = merge3<FieldValue>(va, vb, vbase, authority(spec.key), chosen?.(spec.key));
		if (m.kind === 'conflict') {
			diff.conflicts.push({ field: spec.key, base: vbase ?? null, a: va, b: vb });
			diff.merged[spec.key] = vbase ?? null;
		} else {
			diff.merged[spec.key] = m.value;
			if (m.kind === 'take') (m.from === 'a' ? diff.toB : diff.toA)[spec.key] = m.value;
		}
	}
	return diff;
}
