/** Plans compared up to order, and answers to conflicts, for the tests of reconciling in parts. */
import { canonicalJson, type Conflict, type Reconciliation, type Resolution } from '../../src/lib/core';

/** Keys end in #n when two operations are equal; which one gets #2 depends on the order planned. */
const unsuffixed = (_k: string, v: unknown) => (typeof v === 'string' ? v.replace(/#\d+$/, '') : v);
const sortedJson = (value: unknown) => canonicalJson(JSON.parse(JSON.stringify(value, unsuffixed)));
const sortDeep = (list: readonly unknown[]) => list.map(sortedJson).sort();

export function normalized(r: Reconciliation) {
	const conflict = (c: Conflict) => ({
		...c,
		fields: c.fields ? [...c.fields].sort((x, y) => (x.field < y.field ? -1 : 1)) : undefined
	});
	const ops = r.plan.ops.map((op) =>
		'beforeMembers' in op ? { ...op, beforeMembers: sortDeep(op.beforeMembers) } : op
	);
	const drafts = r.plan.next.map((d) => ({
		...d,
		members: d.members ? sortDeep(d.members) : undefined,
		opKeys: [...d.opKeys].sort()
	}));
	return {
		versions: r.versions,
		pairs: sortDeep(r.pairs.map((v) => ({ ...v, fields: v.fields ? [...v.fields].sort() : undefined }))),
		conflicts: sortDeep(r.conflicts.map(conflict)),
		stale: r.stale.map((s) => s.resolution.conflictId).sort(),
		applied: [...r.applied].sort(),
		ops: sortDeep(ops),
		opCounts: r.plan.counts,
		next: sortDeep(drafts),
		keep: sortDeep(r.plan.keep),
		counts: r.counts,
		requiresAction: r.requiresAction,
		untouched: r.untouched,
		fields: r.fields
	};
}

export type Answer = 'take-a' | 'take-b' | 'ignore' | 'create-new' | 'approve-deletes' | 'link' | 'none';

/** What a person might answer to a conflict (only answers that fit its reason). */
export function answer(c: Conflict, pick: Answer): Resolution | undefined {
	const base = { conflictId: c.id, against: c.records };
	switch (c.reason) {
		case 'threshold':
			if (pick !== 'approve-deletes' && pick !== 'take-a') return undefined;
			return { ...base, choice: c.createdSide ? 'approve-creates' : 'approve-deletes' };
		case 'ambiguous-match':
		case 'name-collision': {
			const a = c.records.find((r) => r.side === 'a');
			const b = c.records.find((r) => r.side === 'b');
			if (pick === 'link' && a && b) return { ...base, choice: 'link', link: { a: a.id, b: b.id } };
			return pick === 'ignore' || pick === 'create-new' ? { ...base, choice: pick } : undefined;
		}
		default:
			return pick === 'take-a' || pick === 'take-b' ? { ...base, choice: pick } : undefined;
	}
}
