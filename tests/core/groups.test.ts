/** Groups and memberships: matching by identifier or name, collisions, members as sets with roles. */
import { describe, expect, test } from 'vitest';
import {
	commitBaseline,
	runPlan,
	type Baseline,
	type BaselineEntry,
	type BaselineMember,
	type OpOutcome,
	type Plan
} from '../../src/lib/core';
import { group, member, opLine, person, provision, run, twoWay } from '../support/factories';

const people = {
	a: [person('a1', 'Ann', { email: 'ann@x.org' }), person('a2', 'Bo', { email: 'bo@x.org' })],
	b: [person('b1', 'Ann', { email: 'ann@x.org' }), person('b2', 'Bo', { email: 'bo@x.org' })]
};
const pEntries: BaselineEntry[] = [
	{
		kind: 'person',
		a: 'a1',
		b: 'b1',
		origin: 'matched',
		fields: {
			displayName: 'Ann',
			givenName: null,
			familyName: null,
			email: 'ann@x.org',
			phone: null,
			employeeNumber: null,
			memberType: null,
			buildings: null
		}
	},
	{
		kind: 'person',
		a: 'a2',
		b: 'b2',
		origin: 'matched',
		fields: {
			displayName: 'Bo',
			givenName: null,
			familyName: null,
			email: 'bo@x.org',
			phone: null,
			employeeNumber: null,
			memberType: null,
			buildings: null
		}
	}
];
const gEntry = (members: BaselineEntry['members'], name = 'Ops'): BaselineEntry => ({
	kind: 'group',
	a: 'ga',
	b: 'gb',
	origin: 'matched',
	fields: { name },
	members
});
const open = {
	person: { count: 500, percent: 100 },
	group: { count: 500, percent: 100 },
	membership: { count: 500, percent: 100 }
};

describe('groups', () => {
	test.each([
		[
			'same identifier, other name: the name syncs',
			[group('ga', 'Ops', { externalId: 'G1' })],
			[group('gb', 'Operations', { externalId: 'G1' })],
			'externalId',
			['update-group@b']
		],
		[
			'same name, no identifiers, name matching',
			[group('ga', 'Ops')],
			[group('gb', 'ops')],
			'name',
			['update-group@b']
		],
		[
			'same name, other identifiers: a collision, not a match',
			[group('ga', 'Ops', { externalId: 'G1' })],
			[group('gb', 'Ops', { externalId: 'G2' })],
			'name',
			[]
		],
		['same name, identifier matching only: a collision', [group('ga', 'Ops')], [group('gb', 'Ops')], 'externalId', []],
		['on one side only: created on the other', [group('ga', 'Ops')], [], 'externalId', ['create-group@b']]
	] as const)('%s', (_n, a, b, by, ops) => {
		const r = run(twoWay({ match: { person: 'email', group: by } }), { groups: [...a] }, { groups: [...b] });
		expect(opLine(r)).toEqual(ops);
	});

	test('a name collision names both groups and waits for a person', () => {
		const r = run(
			twoWay(),
			{ groups: [group('ga', 'Ops', { externalId: 'G1' })] },
			{ groups: [group('gb', 'Ops', { externalId: 'G2' })] }
		);
		expect(r.conflicts).toEqual([expect.objectContaining({ reason: 'name-collision', kind: 'group' })]);
		expect(r.conflicts[0].records.map((x) => x.id).sort()).toEqual(['ga', 'gb']);
	});

	test('two groups of one identifier on a side are ambiguous', () => {
		const r = run(
			twoWay(),
			{ groups: [group('ga', 'Ops', { externalId: 'G1' }), group('ga2', 'Ops 2', { externalId: 'G1' })] },
			{ groups: [group('gb', 'Ops', { externalId: 'G1' })] }
		);
		expect(r.conflicts.map((c) => c.reason)).toEqual(['ambiguous-match']);
	});
});

describe('memberships (as sets with roles, three-way)', () => {
	const g = { a: [group('ga', 'Ops', { externalId: 'G' })], b: [group('gb', 'Ops', { externalId: 'G' })] };
	const side = (s: 'a' | 'b', memberships: ReturnType<typeof member>[]) => ({
		people: people[s],
		groups: g[s],
		memberships
	});

	test.each([
		[
			'first sync: union, added where missing',
			[member('ga', 'a1')],
			[member('gb', 'b2')],
			undefined,
			['add-membership@b', 'add-membership@a']
		],
		[
			'added on A since baseline',
			[member('ga', 'a1'), member('ga', 'a2')],
			[member('gb', 'b1')],
			[['a1', 'b1', 'member']],
			['add-membership@b']
		],
		[
			'removed on B since baseline',
			[member('ga', 'a1'), member('ga', 'a2')],
			[member('gb', 'b1')],
			[
				['a1', 'b1', 'member'],
				['a2', 'b2', 'member']
			],
			['remove-membership@a']
		],
		[
			'role changed on A',
			[member('ga', 'a1', 'manager')],
			[member('gb', 'b1')],
			[['a1', 'b1', 'member']],
			['set-role@b']
		],
		[
			'both made the same change',
			[member('ga', 'a1', 'manager')],
			[member('gb', 'b1', 'manager')],
			[['a1', 'b1', 'member']],
			[]
		],
		['removed on both', [], [], [['a1', 'b1', 'member']], []],
		['role changed on A, removed on B: conflict', [member('ga', 'a1', 'manager')], [], [['a1', 'b1', 'member']], []]
	] as const)('%s', (_n, am, bm, members, ops) => {
		const entries = members ? [...pEntries, gEntry(members.map((m) => [...m]) as BaselineEntry['members'])] : [];
		const r = run(twoWay({ limits: open }), side('a', [...am]), side('b', [...bm]), { entries });
		expect(opLine(r)).toEqual(ops);
	});

	// A1 and A2 are both members in the baseline; B's group has only B1 now.
	const bothMembers: BaselineMember[] = [
		['a1', 'b1', 'member'],
		['a2', 'b2', 'member']
	];
	const inGroupA = [member('ga', 'a1'), member('ga', 'a2')];
	const inGroupB = [member('gb', 'b1')];
	const synced = [...pEntries, gEntry(bothMembers.map((m) => [...m] as BaselineMember))];
	/** Runs the plan, every operation on A failing when `outcome` says so, and commits the baseline. */
	async function commitAfter(plan: Plan, outcome: 'done' | 'failed' | 'staged') {
		const outcomes = new Map<string, OpOutcome>();
		await runPlan(plan.ops, outcomes, {
			apply: {
				a: async () => {
					if (outcome === 'failed') throw new Error('503');
					return {};
				},
				b: async () => ({})
			}
		});
		return commitBaseline(plan, outcomes);
	}
	const groupMembers = (b: Baseline) => b.entries.find((e) => e.kind === 'group')!.members;

	// Two-way: a removal that did not happen must stay in the baseline, or the next run reads the
	// member as added on A and puts it back on B.
	test.each(['done', 'failed', 'staged'] as const)(
		'removed on B, its removal on A %s: the baseline and the next plan follow what happened',
		async (outcome) => {
			const limits = outcome === 'staged' ? { ...open, membership: { count: 0, percent: 100 } } : open;
			const r = run(twoWay({ limits }), side('a', inGroupA), side('b', inGroupB), { entries: synced });
			const next = await commitAfter(r.plan, outcome);
			expect(groupMembers(next)).toEqual(outcome === 'done' ? [bothMembers[0]] : bothMembers);
			const again = run(
				twoWay({ limits }),
				side('a', outcome === 'done' ? [inGroupA[0]] : inGroupA),
				side('b', inGroupB),
				{ entries: next.entries }
			);
			const left = { done: [], failed: ['remove-membership@a'], staged: ['remove-membership@a(staged)'] };
			expect(opLine(again)).toEqual(left[outcome]);
		}
	);

	// The person behind a member is gone from B: its memberships go with its removal on A, so the
	// member leaves the group's baseline only once that removal is done.
	test.each(['done', 'failed', 'staged'] as const)(
		'a member gone from B, its removal on A %s: the group keeps the member in the baseline until it is done',
		async (outcome) => {
			const limits = outcome === 'staged' ? { ...open, person: { count: 0, percent: 100 } } : open;
			const bSide = { people: [people.b[0]], groups: g.b, memberships: inGroupB };
			const r = run(twoWay({ limits }), side('a', inGroupA), bSide, { entries: synced });
			expect(opLine(r)).toEqual([outcome === 'staged' ? 'remove-person@a(staged)' : 'remove-person@a']);
			const next = await commitAfter(r.plan, outcome);
			expect(groupMembers(next)).toEqual(outcome === 'done' ? [bothMembers[0]] : bothMembers);
		}
	);

	test('a membership conflict is a both-changed conflict on the group, naming the member', () => {
		const r = run(twoWay(), side('a', [member('ga', 'a1', 'manager')]), side('b', []), {
			entries: [...pEntries, gEntry([['a1', 'b1', 'member']])]
		});
		expect(r.conflicts).toEqual([
			expect.objectContaining({
				reason: 'both-changed',
				kind: 'group',
				fields: [{ field: 'member:a1|b1', base: 'member', a: 'manager', b: null }]
			})
		]);
	});

	test('groups run before the memberships that need them, removals last', () => {
		const r = run(
			twoWay({ limits: open }),
			{
				people: [person('a1', 'Ann', { email: 'ann@x.org' })],
				groups: [group('ga', 'New')],
				memberships: [member('ga', 'a1')]
			},
			{ people: [person('b9', 'Gone', { email: 'gone@x.org' })] },
			{
				entries: [
					{ kind: 'person', a: 'a9', b: 'b9', origin: 'matched', fields: { displayName: 'Gone', email: 'gone@x.org' } }
				]
			}
		);
		expect(opLine(r)).toEqual(['create-group@b', 'create-person@b', 'add-membership@b', 'remove-person@b']);
		const add = r.plan.ops[2];
		expect(add).toMatchObject({ group: { createdBy: r.plan.ops[0].key }, person: { createdBy: r.plan.ops[1].key } });
	});
});

// A synced group deleted on one side is made again there (a provisioning target's community
// deleted by hand; a two-way group the owner kept after it changed on the other side). Until the
// create is done, the old pairing stays as it was: the next run makes it again from the same pair.
describe('a group made again', () => {
	const kim = { a: [person('k1', 'Kim')], b: [person('k2', 'Kim')] };
	const kimEntry: BaselineEntry = {
		...pEntries[0],
		a: 'k1',
		b: 'k2',
		fields: { ...pEntries[0].fields, displayName: 'Kim', email: null }
	};
	const synced: BaselineEntry = {
		kind: 'group',
		a: 'ga',
		b: 'gb',
		origin: 'created',
		fields: { name: 'Ops' },
		members: []
	};
	async function commitAfter(plan: Plan, outcome: 'done' | 'failed') {
		const outcomes = new Map<string, OpOutcome>();
		const apply = async () => {
			if (outcome === 'failed') throw new Error('503');
			return { id: 'g-new' };
		};
		await runPlan(plan.ops, outcomes, { apply: { a: apply, b: apply } });
		return commitBaseline(plan, outcomes);
	}
	const cases = [
		['provisioning, deleted by hand on the target', 'done'],
		['provisioning, deleted by hand on the target', 'failed'],
		['two-way, kept after a change', 'done'],
		['two-way, kept after a change', 'failed']
	] as const;
	test.each(cases)('%s, its create %s', async (how, outcome) => {
		const provisioning = how.startsWith('provisioning');
		const link = provisioning ? provision() : twoWay();
		// Another synced group stays on both sides: a side without groups would be refused as empty.
		const stays = { a: group('gx', 'Crew', { externalId: 'G2' }), b: group('gy', 'Crew', { externalId: 'G2' }) };
		const a = {
			people: kim.a,
			groups: [group('ga', provisioning ? 'Ops' : 'Ops (renamed)', { externalId: 'G1' }), stays.a]
		};
		const b = { people: kim.b, groups: [stays.b] };
		const kept: BaselineEntry = { ...synced, a: 'gx', b: 'gy', fields: { name: 'Crew' } };
		const entries = [kimEntry, synced, kept];
		const conflict = run(link, a, b, { entries }).conflicts[0];
		const resolutions = provisioning
			? []
			: [{ conflictId: conflict.id, choice: 'take-a' as const, against: conflict.records }];
		const r = run(link, a, b, { entries, resolutions });
		expect(opLine(r)).toEqual(['create-group@b']);
		const next = await commitAfter(r.plan, outcome);
		const groups = next.entries.filter((e) => e.kind === 'group' && e.a === 'ga');
		expect(groups).toEqual(outcome === 'done' ? [expect.objectContaining({ b: 'g-new' })] : [synced]);
		if (outcome === 'failed')
			expect(opLine(run(link, a, b, { entries: next.entries, resolutions }))).toEqual(['create-group@b']);
	});
});

describe('a baseline member listed twice', () => {
	test('for a person removed on the other side: the group’s new members are still written', () => {
		// The membership pass skips its walk over the live members once it has seen all of them;
		// the duplicate must not count as a second member seen.
		const r = run(
			twoWay({ limits: open }),
			{
				people: people.a,
				groups: [group('ga', 'Ops')],
				memberships: [member('ga', 'a1'), member('ga', 'a2')]
			},
			{ people: [people.b[1]], groups: [group('gb', 'Ops')], memberships: [] },
			{
				entries: [
					...pEntries,
					gEntry([
						['a1', 'b1', 'member'],
						['a1', 'b1', 'member']
					])
				]
			}
		);
		expect(r.plan.ops.map((o) => `${o.type}@${o.side} ${'person' in o ? JSON.stringify(o.person) : ''}`)).toEqual([
			'add-membership@b {"id":"b2"}',
			'remove-person@a '
		]);
	});
});
