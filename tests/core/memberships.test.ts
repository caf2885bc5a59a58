/**
 * Memberships read in place: a group's members are read in step with the baseline's where the
 * lists allow it, and through an index of the group where they do not (a person listed twice, a
 * member listed out of step, a record linked twice). Both must give the same answer.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import {
	Directory,
	type Baseline,
	type BaselineMember,
	type Membership,
	type Resolution,
	type Snapshot
} from '../../src/lib/core';
import { applyPlan } from '../support/apply';
import { arbEdits, arbSide, edit, LINKS, tryReconcile } from '../support/arbitraries';

/** What a system may do to a list: two members of a group swapped, or one listed again with another role. */
const arbListing = fc.array(
	fc.record({
		what: fc.constantFrom('swap' as const, 'twice' as const),
		at: fc.nat(),
		role: fc.constantFrom('member' as const, 'manager' as const)
	}),
	{ maxLength: 3 }
);

type Relisting = typeof arbListing extends fc.Arbitrary<infer T> ? T : never;

/** The list, changed as a system might list it, each group's memberships still together. */
function relisted(list: readonly Membership[], changes: Relisting): Membership[] {
	const out = [...list];
	for (const c of changes) {
		if (out.length === 0) break;
		const i = c.at % out.length;
		const groupId = out[i].groupId;
		if (c.what === 'swap') {
			if (out[i + 1]?.groupId === groupId) [out[i], out[i + 1]] = [out[i + 1], out[i]];
			continue;
		}
		let end = i + 1;
		if (c.at % 2 === 1) while (out[end]?.groupId === groupId) end++;
		out.splice(end, 0, { ...out[i], role: c.role });
	}
	return out;
}

// A group no pair holds, listed at both ends of the list or together at its start: the same
// memberships in the same order for every real group, but only the first list has each group's
// memberships in one stretch, which is what reading in place needs.
const ghost = (n: number): Membership => ({ groupId: 'ghost-group', personId: `ghost-${n}`, role: 'member' });
const together = (s: Snapshot, list: Membership[]): Snapshot => ({ ...s, memberships: [ghost(1), ghost(2), ...list] });
const apart = (s: Snapshot, list: Membership[]): Snapshot => ({ ...s, memberships: [ghost(1), ...list, ghost(2)] });

describe('memberships read in place', () => {
	test.prop(
		[
			fc.constantFrom(...LINKS),
			arbSide('a'),
			arbSide('b'),
			arbEdits,
			arbListing,
			arbListing,
			fc.boolean(),
			fc.option(fc.record({ at: fc.nat(), role: fc.constantFrom('member' as const, 'manager' as const) }))
		],
		{ numRuns: 500 }
	)('give what the group’s index gives', async (link, a0, b0, edits, listingA, listingB, keep, twice) => {
		const dirs = { a: new Directory('A', a0), b: new Directory('B', b0) };
		const first = tryReconcile(link, dirs.a.snapshot(), dirs.b.snapshot(), { linkId: link.id, entries: [] });
		if (!first) return;
		const { baseline: synced } = await applyPlan(first.plan, dirs.a, dirs.b);
		edit(dirs, edits);
		// A baseline that names a member twice (not one sync writes, but one it must read alike).
		const entries = synced.entries.filter((e) => e.members?.length);
		const twiceIn = twice && entries[twice.at % Math.max(1, entries.length)];
		const baseline: Baseline = !twiceIn
			? synced
			: {
					...synced,
					entries: synced.entries.map((e) => {
						if (e !== twiceIn) return e;
						const m = e.members![twice.at % e.members!.length];
						return { ...e, members: [...e.members!, [m[0], m[1], twice.role] satisfies BaselineMember] };
					})
				};
		const a = dirs.a.snapshot();
		const b = dirs.b.snapshot();
		const listA = relisted(a.memberships, listingA);
		const listB = relisted(b.memberships, listingB);
		// `keep`: records changed on one side and deleted on the other are made again, which links
		// the surviving record twice (see linksOneToOne).
		const asked = tryReconcile(link, together(a, listA), together(b, listB), baseline);
		const answers: Resolution[] =
			keep && asked
				? asked.conflicts
						.filter((c) => c.reason === 'changed-vs-removed')
						.map((c) => ({ conflictId: c.id, choice: `take-${c.records[0].side}`, against: c.records }))
				: [];
		const inPlace = tryReconcile(link, together(a, listA), together(b, listB), baseline, answers);
		const indexed = tryReconcile(link, apart(a, listA), apart(b, listB), baseline, answers);
		expect(inPlace).toEqual(indexed);
	});
});
