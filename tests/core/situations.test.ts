/**
 * Every situation and conflict reason of a two-way link, one line a case:
 * [case, A people, B people, baseline entries, expected ops, expected situation counts].
 */
import { describe, expect, test } from 'vitest';
import { reconcile, type Resolution } from '../../src/lib/core';
import { fieldsOf, NOW, opLine, person, personEntry, provision, run, snap, twoWay } from '../support/factories';

const ann = (extra = {}) => person('a1', 'Ann', { email: 'ann@x.org', ...extra });
const annB = (extra = {}) => person('b1', 'Ann', { email: 'ann@x.org', ...extra });
const base = personEntry('a1', 'b1', fieldsOf({ displayName: 'Ann', email: 'ann@x.org' }));

describe('two-way people: situations', () => {
	test.each([
		['identical, first time', [ann()], [annB()], [], [], 'in-sync'],
		[
			'differ, first time: side A is the authority',
			[ann({ displayName: 'Ann A' })],
			[annB()],
			[],
			['update-person@b'],
			'update'
		],
		[
			'changed on A since the baseline',
			[ann({ displayName: 'Anne' })],
			[annB()],
			[base],
			['update-person@b'],
			'update'
		],
		['changed on B since the baseline', [ann()], [annB({ phone: '+3120' })], [base], ['update-person@a'], 'update'],
		[
			'both changed the same way',
			[ann({ displayName: 'Anne' })],
			[annB({ displayName: 'Anne' })],
			[base],
			[],
			'in-sync'
		],
		[
			'both changed differently',
			[ann({ displayName: 'Anne' })],
			[annB({ displayName: 'Annie' })],
			[base],
			[],
			'conflict'
		],
		['on A only', [ann()], [], [], ['create-person@b'], 'create'],
		['on B only', [], [annB()], [], ['create-person@a'], 'create'],
		[
			'removed on A, untouched on B',
			[person('a2', 'Other')],
			[annB(), person('b2', 'Other')],
			[base, personEntry('a2', 'b2', fieldsOf({ displayName: 'Other' }))],
			['remove-person@b'],
			'remove'
		],
		[
			'removed on A, changed on B',
			[person('a2', 'Other')],
			[annB({ displayName: 'Annie' }), person('b2', 'Other')],
			[base, personEntry('a2', 'b2', fieldsOf({ displayName: 'Other' }))],
			[],
			'conflict'
		]
	] as const)('%s', (_name, a, b, entries, ops, situation) => {
		const r = run(
			twoWay({
				limits: {
					person: { count: 500, percent: 100 },
					group: { count: 500, percent: 100 },
					membership: { count: 500, percent: 100 }
				}
			}),
			{ people: [...a] },
			{ people: [...b] },
			{ entries: [...entries] }
		);
		expect(opLine(r)).toEqual(ops);
		const annPair = r.pairs.find((p) => p.a === 'a1' || p.b === 'b1');
		expect(annPair?.situation).toBe(situation);
	});

	test('first-time differences are marked so the preview can say which side won', () => {
		const r = run(twoWay(), { people: [ann({ displayName: 'Ann A' })] }, { people: [annB()] });
		expect(r.pairs[0]).toMatchObject({ note: 'first-sync', to: 'b', fields: ['displayName'] });
		expect(r.plan.ops[0]).toMatchObject({
			type: 'update-person',
			values: { displayName: 'Ann A' },
			before: { displayName: 'Ann' }
		});
	});

	test('the authority can be side B, per field', () => {
		const r = run(
			twoWay({ authority: { default: 'a', fields: { displayName: 'b' } } }),
			{ people: [ann({ displayName: 'Ann A' })] },
			{ people: [annB()] }
		);
		expect(r.plan.ops[0]).toMatchObject({ type: 'update-person', side: 'a', values: { displayName: 'Ann' } });
	});
});

describe('two-way people: conflicts', () => {
	test('both-changed names the field with base, A and B values', () => {
		const r = run(
			twoWay(),
			{ people: [ann({ displayName: 'Anne' })] },
			{ people: [annB({ displayName: 'Annie' })] },
			{ entries: [base] }
		);
		expect(r.conflicts).toHaveLength(1);
		expect(r.conflicts[0]).toMatchObject({
			reason: 'both-changed',
			kind: 'person',
			fields: [{ field: 'displayName', base: 'Ann', a: 'Anne', b: 'Annie' }]
		});
		expect(r.requiresAction).toBe(1);
	});

	test('a removed pair whose fields conflict waits whole: no restore is written while a person decides', () => {
		const removed = {
			...base,
			lifecycle: { state: 'removed' as const, removedAt: '2026-11-01T00:00:00.000Z', on: 'b' as const }
		};
		const r = run(
			twoWay({ removeMode: 'deactivate' }),
			{ people: [ann({ displayName: 'Anne' })] },
			{ people: [annB({ displayName: 'Annie', active: false })] },
			{ entries: [removed] }
		);
		expect(r.conflicts.map((c) => c.reason)).toEqual(['both-changed']);
		expect(opLine(r)).toEqual([]);
		expect(r.plan.keep).toEqual([removed]);
	});

	test('changed-vs-removed names the surviving record and the side that removed it', () => {
		const r = run(
			twoWay(),
			{ people: [person('a2', 'Keep')] },
			{ people: [annB({ phone: '1' }), person('b2', 'Keep')] },
			{
				entries: [base, personEntry('a2', 'b2', fieldsOf({ displayName: 'Keep' }))]
			}
		);
		expect(r.conflicts.map((c) => [c.reason, c.removedSide, c.records.map((x) => x.id)])).toEqual([
			['changed-vs-removed', 'a', ['b1']]
		]);
	});

	test('ambiguous-match names every candidate and never picks one', () => {
		const r = run(
			twoWay(),
			{ people: [ann(), person('a9', 'Ann Two', { email: 'ANN@x.org ' })] },
			{ people: [annB()] }
		);
		expect(r.conflicts).toHaveLength(1);
		expect(r.conflicts[0].reason).toBe('ambiguous-match');
		expect(r.conflicts[0].records.map((x) => `${x.side}:${x.id}`).sort()).toEqual(['a:a1', 'a:a9', 'b:b1']);
		expect(r.plan.ops).toEqual([]);
	});

	// Case-only twins on one side, nobody on the other: ambiguous in the preview, not a create that
	// fails with 409 at run time (and which twin wins would vary from run to run).
	test.each([
		['two-way, twins on A', twoWay(), 'a', 'b'],
		['two-way, twins on B', twoWay(), 'b', 'a'],
		['provisioning, twins in the source', provision(), 'a', 'b']
	] as const)('%s: one ambiguous-match naming both, nothing created', (_n, link, twins, other) => {
		const pair = [
			person(`${twins}1`, 'Shared One', { email: 'shared@example.org' }),
			person(`${twins}2`, 'Shared Two', { email: 'SHARED@example.org' })
		];
		const sides = {
			[twins]: { people: pair },
			[other]: { people: [person(`${other}9`, 'Someone', { email: 'x@y.z' })] }
		};
		const r = run(link, sides.a, sides.b);
		const ambiguous = r.conflicts.filter((c) => c.reason === 'ambiguous-match');
		expect(ambiguous.map((c) => c.records.map((x) => `${x.side}:${x.id}`).sort())).toEqual([
			[`${twins}:${twins}1`, `${twins}:${twins}2`]
		]);
		expect(r.plan.ops.filter((o) => o.type === 'create-person' && o.side === other)).toEqual([]);
	});

	test("provisioning leaves a target's own twins alone", () => {
		const twins = [
			person('b1', 'Shared One', { email: 'shared@example.org' }),
			person('b2', 'Shared Two', { email: 'SHARED@example.org' })
		];
		const r = run(provision(), { people: [person('a1', 'Eva', { email: 'eva@x.org' })] }, { people: twins });
		expect(r.conflicts).toEqual([]);
		expect(r.untouched.person).toBe(2);
	});

	test('a newcomer whose email a synced pair already holds is ambiguous, not a duplicate to create', () => {
		const r = run(
			twoWay(),
			{ people: [ann(), person('a2', 'Ann Again', { email: 'ann@x.org' })] },
			{ people: [annB()] },
			{ entries: [base] }
		);
		expect(opLine(r)).toEqual([]);
		expect(r.conflicts.map((c) => [c.reason, c.records.map((x) => x.id).sort()])).toEqual([
			['ambiguous-match', ['a2', 'b1']]
		]);
	});

	test('the identifier pass runs before the match field', () => {
		const r = run(
			twoWay(),
			{ people: [ann({ externalId: 'E1' }), person('a2', 'Ann Other', { email: 'other@x.org', externalId: 'E2' })] },
			{
				people: [
					annB({ externalId: 'E2', email: 'other@x.org' }),
					person('b2', 'Ann', { email: 'ann@x.org', externalId: 'E1' })
				]
			}
		);
		expect(
			r.pairs
				.filter((p) => p.a && p.b)
				.map((p) => `${p.a}=${p.b}`)
				.sort()
		).toEqual(['a1=b2', 'a2=b1']);
	});

	test('people match on a custom field through the field map', () => {
		const link = twoWay({
			match: { person: 'custom:badge', group: 'externalId' },
			fieldMap: [{ a: 'badge', b: 'badgeNo' }]
		});
		const r = run(
			link,
			{ people: [person('a1', 'Ann', { custom: { badge: 'X-1' } })] },
			{ people: [person('b1', 'Ann', { custom: { badgeNo: 'x-1' } })] }
		);
		// Matched despite the case difference; the value itself still syncs, under B's own field name.
		expect(r.pairs).toEqual([
			expect.objectContaining({ a: 'a1', b: 'b1', situation: 'update', fields: ['custom:badge'] })
		]);
		expect(r.plan.ops[0]).toMatchObject({ side: 'b', values: { 'custom:badgeNo': 'X-1' } });
	});

	test('normalization is configurable per match field', () => {
		const a = { people: [person('a1', 'Ann', { employeeNumber: 'n-001' })] };
		const b = { people: [person('b1', 'Ann', { employeeNumber: 'N 001' })] };
		const exact = twoWay({ match: { person: 'employeeNumber', group: 'externalId' } });
		expect(run(exact, a, b).pairs.filter((p) => p.a && p.b)).toHaveLength(0);
		const loose = twoWay({
			match: { person: 'employeeNumber', group: 'externalId' },
			normalization: { employeeNumber: { caseFold: true, collapseSpace: true, digitsOnly: true } }
		});
		expect(run(loose, a, b).pairs.filter((p) => p.a && p.b)).toHaveLength(1);
	});

	test('normalization: Unicode composition, case and spaces do not split a match', () => {
		const composed = 'Jos\u00e9';
		const decomposed = 'Jose\u0301';
		const link = twoWay({ match: { person: 'displayName', group: 'externalId' } });
		const r = run(
			link,
			{ people: [person('a1', `  ${composed}  Smith`)] },
			{ people: [person('b1', `${decomposed.toUpperCase()} smith`)] }
		);
		expect(r.pairs.filter((p) => p.a && p.b)).toHaveLength(1);
	});
});

describe('a create the other side refused (a unique value held by a record no match found)', () => {
	const zoe = person('a1', 'Zoe', { email: 'zoe.110@example.org', externalId: 'HR-110' });
	const holder = person('b7', 'ZOE', { email: 'ZOE.110@EXAMPLE.ORG.old', externalId: 'OTHER' });
	const collision = { side: 'b' as const, source: 'a1', existingId: 'b7', field: 'userName' };
	const rec = (resolutions: Resolution[] = [], link = provision()) =>
		reconcile({
			link,
			a: snap(link.systems.a, { people: [zoe] }),
			b: snap(link.systems.b, { people: [holder] }),
			baseline: { linkId: link.id, entries: [] },
			resolutions,
			now: NOW,
			collisions: [collision]
		});

	test('is a name-collision naming the holder, not a create that fails every night', () => {
		const r = rec();
		expect(r.plan.ops).toEqual([]);
		expect(r.conflicts).toEqual([
			expect.objectContaining({
				reason: 'name-collision',
				kind: 'person',
				collision,
				records: [expect.objectContaining({ side: 'a', id: 'a1' }), expect.objectContaining({ side: 'b', id: 'b7' })]
			})
		]);
	});

	test.each([
		['link: the holder is adopted', 'link', ['adopt-person@b', 'update-person@b']],
		['create new: tried again', 'create-new', ['create-person@b', 'invite@b']],
		['ignore: skipped', 'ignore', []]
	] as const)('%s', (_n, choice, ops) => {
		const conflict = rec().conflicts[0];
		const r = rec([
			{
				conflictId: conflict.id,
				choice,
				against: conflict.records,
				...(choice === 'link' ? { link: { a: 'a1', b: 'b7' } } : {})
			}
		]);
		expect(r.conflicts).toEqual([]);
		expect(opLine(r)).toEqual(ops);
	});

	test('two-way, the same', () => {
		expect(rec([], twoWay()).conflicts.map((c) => c.reason)).toEqual(['name-collision']);
	});
});
