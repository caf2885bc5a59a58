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
import { group, member, person, twoWay } from '../support/factories';

/**
 * What a system may do to a list: two members of a group swapped, one listed again with another
 * role, a group's members listed after every other group's, or a person it no longer holds listed
 * as a member (one of `former`, the people it held before the edits).
 */
const arbListing = fc.array(
	fc.record({
		what: fc.constantFrom('swap' as const, 'twice' as const, 'last' as const, 'former' as const),
		at: fc.nat(),
		role: fc.constantFrom('member' as const, 'manager' as const)
	}),
	{ maxLength: 3 }
);

type Relisting = typeof arbListing extends fc.Arbitrary<infer T> ? T : never;

/** The list, changed as a system might list it, each group's memberships still together. */
function relisted(list: readonly Membership[], changes: Relisting, former: readonly string[]): Membership[] {
	const out = [...list];
	for (const c of changes) {
		if (out.length === 0) break;
		const i = c.at % out.length;
		const groupId = out[i].groupId;
		let start = i;
		while (out[start - 1]?.groupId === groupId) start--;
		let end = i + 1;
		while (out[end]?.groupId === groupId) end++;
		if (c.what === 'swap') {
			if (i + 1 < end) [out[i], out[i + 1]] = [out[i + 1], out[i]];
		} else if (c.what === 'twice') {
			out.splice(c.at % 2 === 1 ? end : i + 1, 0, { ...out[i], role: c.role });
		} else if (c.what === 'last') {
			out.push(...out.splice(start, end - start));
		} else if (former.length > 0) {
			out.splice(end, 0, { groupId, personId: former[c.at % former.length], role: c.role });
		}
	}
	return out;
}

// The same list with a group no pair holds listed at both of its ends: the same memberships in
// the same order for every real group, but no longer each group's in one stretch, which reading
// in place needs.
const ghost = (n: number): Membership => ({ groupId: 'ghost-group', personId: `ghost-${n}`, role: 'member' });
const together = (s: Snapshot, list: Membership[]): Snapshot => ({ ...s, memberships: list });
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
		const former = { a: [...dirs.a.people.keys()], b: [...dirs.b.people.keys()] };
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
		const listA = relisted(a.memberships, listingA, former.a);
		const listB = relisted(b.memberships, listingB, former.b);
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

describe('a removal journals the groups its person is listed in', () => {
	test('in the order the groups are listed, from the surviving side only', async () => {
		// Ann is in two groups on both sides; her record on B goes, and B still lists her in one.
		const side = (p: string) => ({
			people: [person(`${p}ann`, 'Ann', { email: 'ann@x.org' }), person(`${p}bo`, 'Bo', { email: 'bo@x.org' })],
			groups: [group(`${p}g1`, 'Ops', { externalId: 'G1' }), group(`${p}g2`, 'Fire', { externalId: 'G2' })],
			memberships: [
				member(`${p}g1`, `${p}ann`),
				member(`${p}g1`, `${p}bo`),
				member(`${p}g2`, `${p}ann`, 'manager'),
				member(`${p}g2`, `${p}bo`)
			]
		});
		const link = twoWay();
		const dirs = { a: new Directory('A', side('a')), b: new Directory('B', side('b')) };
		const first = tryReconcile(link, dirs.a.snapshot(), dirs.b.snapshot(), { linkId: link.id, entries: [] })!;
		const { baseline } = await applyPlan(first.plan, dirs.a, dirs.b);
		dirs.b.people.delete('bann');
		for (const list of dirs.b.members.values()) list.delete('bann');
		const a = dirs.a.snapshot();
		const b = dirs.b.snapshot();
		// A lists Fire before Ops; B still names Ann in Ops.
		const listA = [
			...a.memberships.filter((m) => m.groupId === 'ag2'),
			...a.memberships.filter((m) => m.groupId === 'ag1')
		];
		// B lists Ops as the baseline has it, Ann included: read in step, her role is found there.
		const ops = baseline.entries.find((e) => e.b === 'bg1')!.members!;
		const listB = [
			...ops.map(([, id, role]) => member('bg1', id, role)),
			...b.memberships.filter((m) => m.groupId !== 'bg1')
		];
		for (const [name, list] of [
			['together', together],
			['apart', apart]
		] as const) {
			const r = tryReconcile(link, list(a, listA), list(b, listB), baseline)!;
			const removal = r.plan.ops.find((o) => o.type === 'remove-person');
			expect(removal, name).toMatchObject({
				side: 'a',
				target: { id: 'aann' },
				beforeMembers: [
					{ groupId: 'ag2', role: 'manager' },
					{ groupId: 'ag1', role: 'member' }
				]
			});
		}
	});
});
