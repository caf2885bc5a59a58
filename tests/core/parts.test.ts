/**
 * Reconciling in parts gives reconcile's answer: over generated directories, edits and answers to
 * their conflicts, with low and open deletion and creation limits, for 1 to 5 parts.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
	Directory,
	makeLink,
	PartitionIndex,
	reconcile,
	reconcileInParts,
	ReconcileError,
	type Baseline,
	type Group,
	type Membership,
	type Person,
	type LinkConfig,
	type Resolution,
	type Snapshot
} from '../../src/lib/core';
import { applyPlan } from '../support/apply';
import { answer, normalized, type Answer } from '../support/plans';
import { arbEdits, arbSide, edit, LINKS } from '../support/arbitraries';
import { group, member, NOW, person, snap, twoWay } from '../support/factories';

const TIGHT = { count: 1, percent: 100 };
const PART_LINKS: LinkConfig[] = [
	...LINKS,
	makeLink({
		id: 'L',
		name: 'two-way, tight limits',
		mode: 'two-way',
		systems: { a: 'A', b: 'B' },
		limits: { person: TIGHT, group: TIGHT, membership: TIGHT },
		creationLimits: { person: TIGHT, group: TIGHT }
	})
];

function attempt<T>(fn: () => T): T | ReconcileError {
	try {
		return fn();
	} catch (e) {
		if (e instanceof ReconcileError) return e;
		throw e;
	}
}

function expectSame(
	link: LinkConfig,
	a: Snapshot,
	b: Snapshot,
	baseline: Baseline,
	resolutions: Resolution[],
	parts: number
) {
	const input = { link, a, b, baseline, resolutions, now: NOW };
	const whole = attempt(() => reconcile(input));
	const split = attempt(() => reconcileInParts(input, parts));
	if (whole instanceof ReconcileError || split instanceof ReconcileError) {
		expect(split instanceof ReconcileError ? split.code : 'answered').toBe(
			whole instanceof ReconcileError ? whole.code : 'answered'
		);
		return;
	}
	expect(normalized(split)).toEqual(normalized(whole));
}

const ANSWERS: Answer[] = ['take-a', 'take-b', 'ignore', 'create-new', 'approve-deletes', 'link', 'none'];

describe('reconcileInParts', () => {
	test.prop(
		[
			fc.constantFrom(...PART_LINKS),
			arbSide('a'),
			arbSide('b'),
			arbEdits,
			fc.integer({ min: 1, max: 5 }),
			fc.array(fc.constantFrom(...ANSWERS), { minLength: 8, maxLength: 8 })
		],
		{ numRuns: Number(process.env.PARTS_RUNS ?? 300) }
	)(
		'gives what reconcile gives, before and after answers to its conflicts',
		async (link, a0, b0, edits, parts, picks) => {
			const dirs = { a: new Directory('A', a0), b: new Directory('B', b0) };
			const empty: Baseline = { linkId: link.id, entries: [] };
			expectSame(link, dirs.a.snapshot(), dirs.b.snapshot(), empty, [], parts);
			const first = attempt(() =>
				reconcile({ link, a: dirs.a.snapshot(), b: dirs.b.snapshot(), baseline: empty, now: NOW })
			);
			if (first instanceof ReconcileError) return;
			const { baseline } = await applyPlan(first.plan, dirs.a, dirs.b);
			edit(dirs, edits);
			const a = dirs.a.snapshot();
			const b = dirs.b.snapshot();
			expectSame(link, a, b, baseline, [], parts);
			const second = attempt(() => reconcile({ link, a, b, baseline, now: NOW }));
			if (second instanceof ReconcileError) return;
			const resolutions = second.conflicts.flatMap((c, i) => answer(c, picks[i % picks.length]) ?? []);
			expectSame(link, a, b, baseline, resolutions, parts);
		}
	);

	/** A synced pair of directories (first reconcile applied), and a part count that splits `ids`. */
	async function synced(link: LinkConfig, side: { people: Person[]; groups: Group[]; memberships: Membership[] }) {
		const dirs = { a: new Directory('A', side), b: new Directory('B', { people: [], groups: [], memberships: [] }) };
		const first = reconcile({
			link,
			a: dirs.a.snapshot(),
			b: dirs.b.snapshot(),
			baseline: { linkId: link.id, entries: [] },
			now: NOW
		});
		const { baseline } = await applyPlan(first.plan, dirs.a, dirs.b);
		const splitting = (ids: string[]) => {
			const index = new PartitionIndex(link);
			for (const p of dirs.a.snapshot().people) index.person('a', p);
			for (const e of baseline.entries) index.entry(e);
			const count = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11].find(
				(n) => new Set(ids.map((id) => index.partOf('a', id, n))).size === ids.length
			);
			expect(count, 'a part count that splits these people').toBeDefined();
			return count!;
		};
		return { dirs, baseline, splitting };
	}

	const people = ['ann', 'bo', 'cy', 'di', 'ed', 'fay'].map((n, i) => person(`a${i}`, n, { email: `${n}@x.org` }));
	const ops = group('g', 'Ops', { externalId: 'G1' });

	it('plans two newcomers with equal records as one reconcile does, whichever part each falls in', () => {
		// Found by the property above: bp1 fell in the first part and took the unnumbered key, so
		// bp0's membership named another create than in one reconcile.
		const b = snap('B', {
			people: [
				{ id: 'bp0', active: true, displayName: 'Ann' },
				{ id: 'bp1', active: true, displayName: 'Ann' }
			],
			groups: [{ id: 'bg0', name: 'Ops', kind: 'group' }],
			memberships: [member('bg0', 'bp0')]
		});
		const link = twoWay();
		for (const parts of [2, 3, 4]) expectSame(link, snap('A', {}), b, { linkId: link.id, entries: [] }, [], parts);
	});

	it("drops every part's operations of a group pair one part finds in conflict", async () => {
		const link = twoWay();
		const { dirs, baseline, splitting } = await synced(link, {
			people,
			groups: [ops],
			memberships: [member('g', 'a0'), member('g', 'a1')]
		});
		const count = splitting(['a0', 'a2']);
		const bAnn = [...dirs.b.people.values()].find((p) => p.email === 'ann@x.org')!.id;
		const bGroup = [...dirs.b.groups.keys()][0];
		dirs.a.members.get('g')!.set('a0', 'manager');
		dirs.b.members.get(bGroup)!.delete(bAnn);
		dirs.a.members.get('g')!.set('a2', 'member');
		const r = reconcile({ link, a: dirs.a.snapshot(), b: dirs.b.snapshot(), baseline, now: NOW });
		expect(r.conflicts.map((c) => c.reason)).toEqual(['both-changed']);
		expect(r.plan.ops).toEqual([]);
		expectSame(link, dirs.a.snapshot(), dirs.b.snapshot(), baseline, [], count);
	});

	it('removes a group with the members every part saw', async () => {
		const link = twoWay();
		const fire = group('f', 'Fire', { externalId: 'G2' });
		const { dirs, baseline, splitting } = await synced(link, {
			people,
			groups: [ops, fire],
			memberships: people.map((p) => member('g', p.id))
		});
		const count = splitting(['a0', 'a1', 'a2']);
		dirs.a.groups.delete('g');
		dirs.a.members.delete('g');
		const r = reconcile({ link, a: dirs.a.snapshot(), b: dirs.b.snapshot(), baseline, now: NOW });
		const removal = r.plan.ops.find((o) => o.type === 'remove-group');
		expect(removal?.type === 'remove-group' && removal.beforeMembers.length).toBe(people.length);
		expectSame(link, dirs.a.snapshot(), dirs.b.snapshot(), baseline, [], count);
	});

	it('joins what shares a key across a large index (many times its first capacity)', () => {
		const link = twoWay({ match: { person: 'email', group: 'externalId' } });
		const index = new PartitionIndex(link);
		const n = 30_000;
		// Chains: a{i} shares an email with b{i}, and b{i} an identifier with a{i+1}, in runs of three.
		for (let i = 0; i < n; i++) {
			index.person(
				'a',
				person(`a${i}`, 'A', { email: `p${i}@x.org`, externalId: i % 3 === 0 ? `solo-a${i}` : `E${i}` })
			);
			index.person('b', person(`b${i}`, 'B', { email: `p${i}@x.org`, externalId: `E${i + 1}` }));
		}
		expect(index.size).toBeGreaterThan(4 * n);
		const count = 64;
		const parts = new Set<number>();
		for (let i = 0; i < n; i += 3) {
			const run = [
				index.partOf('a', `a${i}`, count),
				index.partOf('b', `b${i}`, count),
				index.partOf('a', `a${i + 1}`, count),
				index.partOf('b', `b${i + 1}`, count),
				index.partOf('a', `a${i + 2}`, count)
			];
			expect(new Set(run).size).toBe(1);
			parts.add(run[0]);
		}
		expect(parts.size).toBe(count);
	});

	it('keeps people who share a match key in one part, whatever the count', () => {
		const link = twoWay({ match: { person: 'email', group: 'externalId' } });
		const a = snap('A', {
			people: [
				person('a1', 'Ann', { email: 'ann@x.org' }),
				person('a2', 'Ann', { email: 'ann@x.org', externalId: 'E9' })
			]
		});
		const b = snap('B', {
			people: [person('b1', 'Bo', { email: 'bo@x.org', externalId: 'E9' }), person('b2', 'Ann', { email: 'ANN@x.org' })]
		});
		const index = new PartitionIndex(link);
		for (const p of a.people) index.person('a', p);
		for (const p of b.people) index.person('b', p);
		for (const count of [2, 3, 7, 64]) {
			const parts = new Set([
				index.partOf('a', 'a1', count),
				index.partOf('a', 'a2', count),
				index.partOf('b', 'b1', count),
				index.partOf('b', 'b2', count)
			]);
			expect(parts.size).toBe(1);
		}
	});
});
