/** Access for synced people: the decision as a table, then whole reconciliations, runs and undo. */
import { describe, expect, test } from 'vitest';
import {
	commitBaseline,
	Directory,
	parseLinkConfig,
	parseSnapshot,
	planUndo,
	reconcile,
	reconcileInParts,
	ValidationError,
	type AccessConfig,
	type BaselineEntry
} from '../../src/lib/core';
import { accessCounts, accessStep, accessVia, wantsAccess } from '../../src/lib/core/access';
import { applyPlan } from '../support/apply';
import { normalized } from '../support/plans';
import { baseline, group, member, NOW, opLine, person, personEntry, run, snap, twoWay } from '../support/factories';

const access = (extra: Partial<AccessConfig> = {}): AccessConfig => ({
	side: 'b',
	grant: 'everyone',
	groups: [],
	people: {},
	...extra
});

describe('accessStep: one line a case', () => {
	// had: sync granted it; has: access now; wants: rule or review; removing: the pair is removed.
	const cases: [had: boolean, has: boolean, wants: boolean, removing: boolean, expected: string][] = [
		[false, false, true, false, 'grant-access → granted'],
		[false, true, true, false, 'nothing'],
		[true, true, true, false, 'nothing'],
		[true, false, true, false, 'grant-access → granted'],
		[false, false, false, false, 'nothing'],
		[false, true, false, false, 'nothing'],
		[true, true, false, false, 'revoke-access → not granted'],
		[true, false, false, false, 'no op → not granted'],
		[true, true, true, true, 'revoke-access → not granted'],
		[false, true, true, true, 'nothing'],
		[false, false, true, true, 'nothing']
	];
	test.each(cases)('had=%s has=%s wants=%s removing=%s: %s', (had, has, wants, removing, expected) => {
		const step = accessStep({ had, has, wants, removing });
		const line = !step ? 'nothing' : `${step.op ?? 'no op'} → ${step.granted ? 'granted' : 'not granted'}`;
		expect(line).toBe(expected);
	});
});

describe('wantsAccess: the review over the rule', () => {
	const cases: [
		config: Partial<AccessConfig>,
		pair: { a?: string; b?: string },
		inGroups: boolean,
		expected: boolean
	][] = [
		[{ grant: 'nobody' }, { a: 'p1', b: 'q1' }, true, false],
		[{ grant: 'everyone' }, { a: 'p1', b: 'q1' }, false, true],
		[{ grant: 'groups' }, { a: 'p1', b: 'q1' }, true, true],
		[{ grant: 'groups' }, { a: 'p1', b: 'q1' }, false, false],
		[{ grant: 'nobody', people: { 'a:p1': true } }, { a: 'p1', b: 'q1' }, false, true],
		[{ grant: 'everyone', people: { 'b:q1': false } }, { a: 'p1', b: 'q1' }, true, false],
		[{ grant: 'everyone', people: { 'b:q1': false } }, { a: 'p1' }, true, true],
		[{ grant: 'nobody', people: { 'a:p2': true } }, { a: 'p1', b: 'q1' }, true, false]
	];
	test.each(cases)('%j %j inGroups=%s → %s', (config, pair, inGroups, expected) => {
		expect(wantsAccess(access(config), pair, () => inGroups)).toBe(expected);
	});
});

describe('accessVia: how a system records access', () => {
	test.each([
		[undefined, 'flag'],
		[['displayName', 'access:flag'], 'flag'],
		[['displayName', 'active', 'access:active'], 'active'],
		[['displayName', 'active'], undefined]
	] as const)('%j → %s', (fields, via) => expect(accessVia(fields)).toBe(via));
});

describe('link validation', () => {
	test('defaults fill in, and chosen groups need a group', () => {
		const link = parseLinkConfig({ id: 'L', name: 'n', mode: 'two-way', systems: { a: 'A', b: 'B' }, access: {} });
		expect(link.access).toEqual({ side: 'b', grant: 'nobody', groups: [], people: {} });
		expect(() =>
			parseLinkConfig({ id: 'L', name: 'n', mode: 'two-way', systems: { a: 'A', b: 'B' }, access: { grant: 'groups' } })
		).toThrow(/access\.groups.*at least one group/);
	});

	test('a bad value names its field', () => {
		try {
			parseLinkConfig({
				id: 'L',
				name: 'n',
				mode: 'two-way',
				systems: { a: 'A', b: 'B' },
				access: { grant: 'all', people: { p1: true } }
			});
			expect.unreachable();
		} catch (e) {
			expect(e).toBeInstanceOf(ValidationError);
			const fields = (e as ValidationError).issues.map((i) => i.field);
			expect(fields).toContain('access.grant');
			expect(fields).toContain('access.people.p1');
		}
	});
});

const eva = person('a1', 'Eva', { email: 'eva@x.org' });
const max = person('a2', 'Max', { email: 'max@x.org' });
const evaB = person('b1', 'Eva', { email: 'eva@x.org' });
const maxB = person('b2', 'Max', { email: 'max@x.org' });
const pair = (a: string, b: string, extra: Partial<BaselineEntry> = {}) =>
	personEntry(a, b, { displayName: a === 'a1' ? 'Eva' : 'Max', email: a === 'a1' ? 'eva@x.org' : 'max@x.org' }, extra);
const matched = (extra: Partial<BaselineEntry>[] = [{}, {}]) => [
	pair('a1', 'b1', extra[0]),
	pair('a2', 'b2', extra[1])
];

describe('planning access in a reconciliation', () => {
	test('no access settings: nothing planned, as before', () => {
		const r = run(
			twoWay({ kinds: ['person'] }),
			{ people: [eva, max] },
			{ people: [evaB, maxB] },
			{ entries: matched() }
		);
		expect(opLine(r)).toEqual([]);
	});

	test('everyone synced: each matched person without access gains it; who already has it is left alone', () => {
		const r = run(
			twoWay({ kinds: ['person'], access: access() }),
			{ people: [eva, max] },
			{ people: [evaB, { ...maxB, access: true }] },
			{ entries: matched() }
		);
		expect(opLine(r)).toEqual(['grant-access@b']);
		expect(r.plan.ops[0]).toMatchObject({ target: { id: 'b1' } });
		expect(r.pairs.find((p) => p.b === 'b1')).toMatchObject({ access: 'grant' });
		expect(accessCounts(r.plan.ops)).toEqual({ gain: 1, lose: 0 });
	});

	test('a person created by the plan is granted access once created', () => {
		const r = run(twoWay({ kinds: ['person'], access: access() }), { people: [eva] }, {});
		expect(opLine(r)).toEqual(['create-person@b', 'grant-access@b']);
		expect(r.plan.ops[1]).toMatchObject({ target: { createdBy: r.plan.ops[0].key } });
	});

	test('chosen groups: members on the access side, or of its pair on the other side', () => {
		const link = twoWay({ access: access({ grant: 'groups', groups: ['gb'] }) });
		const groupPair: BaselineEntry = {
			kind: 'group',
			a: 'ga',
			b: 'gb',
			origin: 'matched',
			fields: { name: 'Crew' },
			members: [['a1', 'b1', 'member']]
		};
		const carl = person('a3', 'Carl', { email: 'carl@x.org' });
		const r = run(
			link,
			{
				people: [eva, max, carl],
				groups: [group('ga', 'Crew')],
				memberships: [member('ga', 'a1'), member('ga', 'a3')]
			},
			{ people: [evaB, maxB], groups: [group('gb', 'Crew')], memberships: [member('gb', 'b1')] },
			{ entries: [...matched(), groupPair] }
		);
		// Eva is in the group on B; Carl is new, in the group's pair on A; Max is in neither.
		const grants = r.plan.ops.filter((o) => o.type === 'grant-access');
		expect(grants).toHaveLength(2);
		expect(grants.map((o) => ('target' in o ? o.target : undefined))).toEqual(
			expect.arrayContaining([{ id: 'b1' }, { createdBy: expect.stringMatching(/^create-person:b:/) }])
		);
	});

	test('the review overrides the rule per person', () => {
		const r = run(
			twoWay({ kinds: ['person'], access: access({ grant: 'nobody', people: { 'a:a2': true } }) }),
			{ people: [eva, max] },
			{ people: [evaB, maxB] },
			{ entries: matched() }
		);
		expect(r.plan.ops).toEqual([expect.objectContaining({ type: 'grant-access', target: { id: 'b2' } })]);
	});

	test('only access sync granted is revoked when the rule no longer grants it', () => {
		const r = run(
			twoWay({ kinds: ['person'], access: access({ grant: 'nobody' }) }),
			{ people: [eva, max] },
			{
				people: [
					{ ...evaB, access: true },
					{ ...maxB, access: true }
				]
			},
			{ entries: matched([{ access: true }, {}]) }
		);
		expect(r.plan.ops).toEqual([expect.objectContaining({ type: 'revoke-access', target: { id: 'b1' } })]);
		expect(accessCounts(r.plan.ops)).toEqual({ gain: 0, lose: 1 });
	});

	test('a removed person loses the access sync granted, before the removal', () => {
		const open = { count: 500, percent: 100 };
		const r = run(
			twoWay({ kinds: ['person'], access: access(), limits: { person: open, group: open, membership: open } }),
			{ people: [max] },
			{
				people: [
					{ ...evaB, access: true },
					{ ...maxB, access: true }
				]
			},
			{ entries: matched([{ access: true }, { access: true }]) }
		);
		expect(opLine(r)).toEqual(['revoke-access@b', 'remove-person@b']);
	});

	test('a removal the limits stage keeps the access until it is approved: its revocation waits with it', () => {
		const r = run(
			twoWay({ kinds: ['person'], access: access() }),
			{ people: [max] },
			{
				people: [
					{ ...evaB, access: true },
					{ ...maxB, access: true }
				]
			},
			{ entries: matched([{ access: true }, { access: true }]) }
		);
		expect(opLine(r)).toEqual(['revoke-access@b(staged)', 'remove-person@b(staged)']);
		expect(accessCounts(r.plan.ops)).toEqual({ gain: 0, lose: 0 });
		const staged = new Map(r.plan.ops.map((op) => [op.key, { key: op.key, status: 'staged' as const }]));
		expect(commitBaseline(r.plan, staged).entries.find((e) => e.a === 'a1')).toMatchObject({ access: true });
	});

	const removalInParts: [string, () => ReturnType<typeof snap>][] = [
		[
			'access as an attribute',
			() =>
				snap('B', {
					people: [
						{ ...evaB, access: true },
						{ ...maxB, access: true }
					]
				})
		],
		[
			'access as the account being active',
			() =>
				snap('B', {
					people: [evaB, maxB],
					fields: ['displayName', 'email', 'active', 'access:active']
				})
		]
	];
	test.each(removalInParts)(
		'%s: a plan made in parts stages the revocation with the removal, as one reconcile does',
		(_name, b) => {
			const input = {
				link: twoWay({ kinds: ['person'], access: access() }),
				a: snap('A', { people: [max] }),
				b: b(),
				baseline: baseline('L1', matched([{ access: true }, { access: true }])),
				now: NOW
			};
			const whole = reconcile(input);
			const split = reconcileInParts(input, 2);
			expect(normalized(split)).toEqual(normalized(whole));
			expect(split.plan.ops.every((op) => op.staged)).toBe(true);
			// Nothing ran: the baseline still says sync granted Eva her access.
			const staged = new Map(split.plan.ops.map((op) => [op.key, { key: op.key, status: 'staged' as const }]));
			expect(commitBaseline(split.plan, staged).entries.find((e) => e.a === 'a1')).toMatchObject({ access: true });
		}
	);

	test('where access is the account being active, a removal that failed leaves the access recorded', () => {
		const open = { count: 500, percent: 100 };
		const r = run(
			twoWay({ kinds: ['person'], access: access(), limits: { person: open, group: open, membership: open } }),
			{ people: [max] },
			{ people: [evaB, maxB], fields: ['displayName', 'email', 'active', 'access:active'] },
			{ entries: matched([{ access: true }, { access: true }]) }
		);
		expect(opLine(r)).toEqual(['remove-person@b']);
		const failed = new Map([[r.plan.ops[0].key, { key: r.plan.ops[0].key, status: 'failed' as const }]]);
		expect(commitBaseline(r.plan, failed).entries.find((e) => e.a === 'a1')).toMatchObject({ access: true });
		const done = new Map([[r.plan.ops[0].key, { key: r.plan.ops[0].key, status: 'done' as const }]]);
		expect(commitBaseline(r.plan, done).entries.find((e) => e.a === 'a1')).not.toHaveProperty('access');
	});

	test('a system that records no access gets no access operations', () => {
		const r = run(
			twoWay({ kinds: ['person'], access: access() }),
			{ people: [eva] },
			{ people: [evaB], fields: ['displayName', 'email'] },
			{ entries: [pair('a1', 'b1')] }
		);
		expect(opLine(r)).toEqual([]);
	});

	test('where access is the account being active, granting is activating', () => {
		const r = run(
			twoWay({ kinds: ['person'], access: access() }),
			{ people: [eva, max] },
			{ people: [{ ...evaB, active: false }, maxB], fields: ['displayName', 'email', 'active', 'access:active'] },
			{ entries: matched() }
		);
		expect(r.plan.ops).toEqual([expect.objectContaining({ type: 'grant-access', target: { id: 'b1' } })]);
	});

	test('access can be granted on side A too', () => {
		const r = run(
			twoWay({ kinds: ['person'], access: access({ side: 'a' }) }),
			{ people: [eva] },
			{ people: [evaB] },
			{ entries: [pair('a1', 'b1')] }
		);
		expect(opLine(r)).toEqual(['grant-access@a']);
	});
});

describe('run, baseline and undo', () => {
	test('a grant is journaled in the baseline; the next run plans nothing; undo revokes', async () => {
		const link = twoWay({ kinds: ['person'], access: access() });
		const A = new Directory('A', { people: [eva], groups: [], memberships: [] });
		const B = new Directory('B', { people: [evaB], groups: [], memberships: [] });
		const first = reconcile({
			link,
			a: A.snapshot(),
			b: B.snapshot(),
			baseline: baseline('L1', [pair('a1', 'b1')]),
			now: NOW
		});
		const { baseline: after, outcomes } = await applyPlan(first.plan, A, B);
		expect(B.people.get('b1')!.access).toBe(true);
		expect(after.entries[0].access).toBe(true);

		const again = reconcile({ link, a: A.snapshot(), b: B.snapshot(), baseline: after, now: NOW });
		expect(again.plan.ops).toEqual([]);

		const undo = planUndo('L1', first.plan.ops, outcomes);
		expect(undo.ops).toEqual([expect.objectContaining({ type: 'revoke-access', target: { id: 'b1' } })]);
		for (const op of undo.ops) B.apply(op);
		expect(B.people.get('b1')!.access).toBe(false);
	});

	test('a failed grant leaves the baseline without it, and the pair keeps its field update', async () => {
		const link = twoWay({ kinds: ['person'], access: access() });
		const r = run(
			link,
			{ people: [{ ...eva, displayName: 'Eva S' }] },
			{ people: [evaB] },
			{ entries: [pair('a1', 'b1')] }
		);
		expect(opLine(r)).toEqual(['update-person@b', 'grant-access@b']);
		const outcomes = new Map(
			r.plan.ops.map((op) => [
				op.key,
				op.type === 'grant-access'
					? { key: op.key, status: 'failed' as const }
					: { key: op.key, status: 'done' as const }
			])
		);
		const next = commitBaseline(r.plan, outcomes);
		expect(next.entries[0]).toMatchObject({ fields: { displayName: 'Eva S' } });
		expect(next.entries[0].access).toBeUndefined();
	});

	test('a revoke that failed keeps sync’s grant on record, so it is tried again', () => {
		const link = twoWay({ kinds: ['person'], access: access({ grant: 'nobody' }) });
		const r = run(
			link,
			{ people: [eva] },
			{ people: [{ ...evaB, access: true }] },
			{ entries: [pair('a1', 'b1', { access: true })] }
		);
		const outcomes = new Map(r.plan.ops.map((op) => [op.key, { key: op.key, status: 'failed' as const }]));
		expect(commitBaseline(r.plan, outcomes).entries[0].access).toBe(true);
		const done = new Map(r.plan.ops.map((op) => [op.key, { key: op.key, status: 'done' as const }]));
		expect(commitBaseline(r.plan, done).entries[0].access).toBeUndefined();
	});

	test('snapshots keep the access flag through validation and normalization', () => {
		const s = snap('B', {
			people: [
				{ ...evaB, access: true },
				{ ...maxB, access: false }
			]
		});
		expect(parseSnapshot(s, s.system, s.takenAt).people.map((p) => p.access)).toEqual([true, false]);
		expect(() => parseSnapshot({ ...s, people: [{ ...evaB, access: 'yes' }] }, s.system, s.takenAt)).toThrow(
			/field "access" must be true or false/
		);
	});
});
