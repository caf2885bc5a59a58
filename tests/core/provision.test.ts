/** Provisioning: source of truth to target, provenance, soft removal, restore, anonymize, notices. */
import { fc, test as fcTest } from '@fast-check/vitest';
import { describe, expect, test } from 'vitest';
import {
	commitBaseline,
	Directory,
	reconcile,
	reconcileInParts,
	runPlan,
	type BaselineEntry,
	type BaselineMember,
	type OpOutcome,
	type Person
} from '../../src/lib/core';
import { applyPlan } from '../support/apply';
import {
	baseline,
	group,
	member,
	NOW,
	opLine,
	person,
	personEntry,
	provision,
	run,
	snap,
	twoWay
} from '../support/factories';

const open = {
	person: { count: 500, percent: 100 },
	group: { count: 500, percent: 100 },
	membership: { count: 500, percent: 100 }
};

describe('provision: people', () => {
	test('a new person is created in the target and invited', () => {
		const r = run(provision(), { people: [person('e1', 'Eva', { email: 'eva@x.org', externalId: 'E1' })] }, {});
		expect(opLine(r)).toEqual(['create-person@b', 'invite@b']);
		expect(r.plan.ops[1]).toMatchObject({ person: { createdBy: r.plan.ops[0].key } });
	});

	test('manual target records are left alone: no update, no removal', () => {
		const r = run(
			provision(),
			{ people: [person('e1', 'Eva', { email: 'eva@x.org' })] },
			{ people: [person('t1', 'Eva', { email: 'eva@x.org' }), person('t2', 'Manual Max')] }
		);
		// t1 matches the source on email and is adopted; t2 has no counterpart and belongs to nobody.
		expect(opLine(r)).toEqual(['adopt-person@b']);
		expect(r.pairs).toEqual([expect.objectContaining({ a: 'e1', b: 't1', situation: 'update', note: 'adopt' })]);
		expect(r.untouched.person).toBe(1);
	});

	test('adoption brings a matching target record under sync and updates it from the source', () => {
		const r = run(
			provision(),
			{ people: [person('e1', 'Eva Smit', { email: 'eva@x.org' })] },
			{ people: [person('t1', 'Eva', { email: 'eva@x.org' })] }
		);
		expect(r.plan.ops.map((o) => o.type)).toEqual(['adopt-person', 'update-person']);
		expect(r.plan.next[0]).toMatchObject({ origin: 'adopted' });
	});

	test('an adoption whose update fails is still recorded: the next run retries the update only', async () => {
		const hr = { people: [person('e1', 'Eva Smit', { email: 'eva@x.org' })] };
		const target = { people: [person('t1', 'Eva', { email: 'eva@x.org' })] };
		const r = run(provision(), hr, target);
		const outcomes = new Map<string, OpOutcome>();
		await runPlan(r.plan.ops, outcomes, {
			apply: {
				a: async () => ({}),
				b: async (op) => {
					if (op.type === 'update-person') throw new Error('400 from the target');
					return {};
				}
			}
		});
		const next = commitBaseline(r.plan, outcomes);
		expect(next.entries).toEqual([expect.objectContaining({ a: 'e1', b: 't1', origin: 'adopted' })]);
		expect(opLine(run(provision(), hr, target, { entries: next.entries }))).toEqual(['update-person@b']);
	});

	test.each([
		['failed', 'failed'],
		['never reached (the run stopped first)', undefined]
	] as const)('an invitation that %s goes out with the next run, once', async (_, outcome) => {
		const hr = { people: [person('e1', 'Eva', { email: 'eva@x.org', externalId: 'E1' })] };
		const r = run(provision(), hr, { people: [] });
		expect(opLine(r)).toEqual(['create-person@b', 'invite@b']);
		const [create, invite] = r.plan.ops.map((op) => op.key);
		const outcomes = new Map<string, OpOutcome>([[create, { key: create, status: 'done', id: 't1' }]]);
		if (outcome) outcomes.set(invite, { key: invite, status: outcome, error: '503 from the target' });
		const first = commitBaseline(r.plan, outcomes);
		expect(first.entries).toEqual([expect.objectContaining({ a: 'e1', b: 't1', invite: 'pending' })]);

		const target = { people: [person('t1', 'Eva', { email: 'eva@x.org', externalId: 'E1' })] };
		const again = run(provision(), hr, target, { entries: first.entries });
		expect(again.plan.ops).toEqual([expect.objectContaining({ type: 'invite', side: 'b', person: { id: 't1' } })]);
		const resent = again.plan.ops[0].key;
		const sent = commitBaseline(again.plan, new Map([[resent, { key: resent, status: 'done' as const }]]));
		expect(sent.entries).toEqual([expect.not.objectContaining({ invite: expect.anything() })]);
		expect(opLine(run(provision(), hr, target, { entries: sent.entries }))).toEqual([]);
	});

	// The synced account t1 was deleted by hand on the target; t2 is the target's own account that
	// shares Eva's email. Remaking t1 must not turn into adopting t2 because the first try failed.
	test.each(['done', 'failed'] as const)(
		'an account deleted by hand on the target is made again (create %s): the old pairing stays until the create succeeds',
		async (outcome) => {
			const hr = { people: [person('e1', 'Eva', { email: 'eva@x.org', externalId: 'E1' })] };
			const target = { people: [person('t2', 'Eva', { email: 'eva@x.org' })] };
			const synced = personEntry(
				'e1',
				't1',
				{ displayName: 'Eva', email: 'eva@x.org' },
				{ origin: 'created', access: true }
			);
			const r = run(provision(), hr, target, { entries: [synced] });
			expect(opLine(r)).toEqual(['create-person@b']);
			const outcomes = new Map<string, OpOutcome>();
			await runPlan(r.plan.ops, outcomes, {
				apply: {
					a: async () => ({}),
					b: async () => {
						if (outcome === 'failed') throw new Error('503 from the target');
						return { id: 't3' };
					}
				}
			});
			const next = commitBaseline(r.plan, outcomes);
			if (outcome === 'done') {
				// The new pair, without the access sync had granted the deleted account.
				expect(next.entries).toEqual([
					{ kind: 'person', a: 'e1', b: 't3', origin: 'created', fields: expect.any(Object) }
				]);
				return;
			}
			expect(next.entries).toEqual([synced]);
			expect(opLine(run(provision(), hr, target, { entries: next.entries }))).toEqual(['create-person@b']);
		}
	);

	test('a newcomer with the email of an account made again is not created beside it: ambiguous, naming both', () => {
		const hr = {
			people: [
				person('e1', 'Eva', { email: 'eva@x.org', externalId: 'E1' }),
				person('e2', 'Eva B', { email: 'eva@x.org', externalId: 'E2' })
			]
		};
		const synced = personEntry('e1', 't1', { displayName: 'Eva', email: 'eva@x.org' }, { origin: 'created' });
		const r = run(provision(), hr, { people: [person('t9', 'Manual Max')] }, { entries: [synced] });
		expect(opLine(r)).toEqual(['create-person@b']);
		expect(r.plan.ops[0]).toMatchObject({ from: 'e1' });
		expect(r.conflicts).toEqual([
			expect.objectContaining({
				reason: 'ambiguous-match',
				records: [expect.objectContaining({ side: 'a', id: 'e2' }), expect.objectContaining({ side: 'a', id: 'e1' })]
			})
		]);
	});

	test('source wins on every owned field; the target is never written back to the source', () => {
		const entry: BaselineEntry = {
			kind: 'person',
			a: 'e1',
			b: 't1',
			origin: 'created',
			fields: { displayName: 'Eva' }
		};
		const r = run(
			provision(),
			{ people: [person('e1', 'Eva')] },
			{ people: [person('t1', 'Eva (edited)')] },
			{ entries: [entry] }
		);
		expect(opLine(r)).toEqual(['update-person@b']);
	});
});

describe('provision: removal lifecycle', () => {
	const link = provision({ limits: open, schedule: { timeZone: 'Europe/Amsterdam', hour: 2, enabled: true } });
	const owned: BaselineEntry = { kind: 'person', a: 'e1', b: 't1', origin: 'created', fields: { displayName: 'Eva' } };
	const other = person('e2', 'Stays');

	test('gone from the source: soft-removed, restorable for 30 days (calendar days in the link zone)', () => {
		const removedAt = Date.parse('2026-03-10T09:00:00Z'); // 10:00 CET
		const r = run(link, { people: [other] }, { people: [person('t1', 'Eva')] }, { entries: [owned], now: removedAt });
		expect(opLine(r)).toEqual(['create-person@b', 'invite@b', 'remove-person@b']);
		const draft = r.plan.next.find((d) => d.previous === owned)!;
		// 30 days later is 9 April, 10:00 local, which is CEST: 08:00 UTC, not 720 hours later.
		expect(draft.lifecycle).toEqual({
			state: 'removed',
			removedAt: '2026-03-10T09:00:00.000Z',
			purgeAfter: '2026-04-09T08:00:00.000Z',
			on: 'b'
		});
	});

	const removed = {
		...owned,
		lifecycle: {
			state: 'removed' as const,
			removedAt: '2026-03-10T09:00:00.000Z',
			purgeAfter: '2026-04-09T08:00:00.000Z',
			on: 'b' as const
		}
	};
	test.each([
		['within retention: nothing yet', Date.parse('2026-04-09T07:59:59Z'), false, []],
		['retention over: anonymized', Date.parse('2026-04-09T08:00:00Z'), false, ['anonymize-person@b']],
		['back in the source within retention: restored', Date.parse('2026-03-20T00:00:00Z'), true, ['restore-person@b']]
	] as const)('%s', (_n, now, back, ops) => {
		const source = back ? [other, person('e1', 'Eva')] : [other];
		const r = run(
			link,
			{ people: source },
			{ people: [person('t1', 'Eva', { active: false }), person('t2', 'Stays')] },
			{
				entries: [removed, { kind: 'person', a: 'e2', b: 't2', origin: 'created', fields: { displayName: 'Stays' } }],
				now
			}
		);
		expect(opLine(r)).toEqual(ops);
	});

	test('anonymization replaces personal data irreversibly and keeps the identifier', async () => {
		const target = new Directory('T', {
			people: [
				person('t1', 'Eva de Vries', {
					email: 'eva@x.org',
					phone: '+31 6 1',
					externalId: 'E1',
					custom: { shoe: '42' },
					active: false
				}),
				person('t2', 'Stays')
			],
			groups: [],
			memberships: []
		});
		const source = new Directory('HR', { people: [other], groups: [], memberships: [] });
		const r = reconcile({
			link,
			a: source.snapshot(),
			b: target.snapshot(),
			baseline: baseline(link.id, [
				removed,
				{ kind: 'person', a: 'e2', b: 't2', origin: 'created', fields: { displayName: 'Stays' } }
			]),
			now: Date.parse('2026-05-01T00:00:00Z')
		});
		await applyPlan(r.plan, source, target);
		const t1 = target.people.get('t1')!;
		expect(t1).toEqual({
			id: 't1',
			externalId: 'E1',
			displayName: expect.stringMatching(/^Removed person [0-9a-f]{8}$/),
			active: false
		});
		expect(JSON.stringify(t1)).not.toMatch(/Eva|Vries|eva@|\+31|42/);
	});
});

describe('provision: a source person marked inactive (an HR leaver; Entra\'s "active": "False")', () => {
	const link = provision({ limits: open });
	const stays = person('e2', 'Stays', { externalId: 'E2' });
	const staysEntry = personEntry('e2', 't2', { displayName: 'Stays' }, { origin: 'created' });
	const eva = personEntry('e1', 't1', { displayName: 'Eva' }, { origin: 'created' });

	test('synced: leaves as a person gone from the source does (removed softly, out of its groups)', () => {
		const target = {
			people: [person('t1', 'Eva'), person('t2', 'Stays')],
			groups: [group('h1', 'Harbour', { kind: 'community', externalId: 'C1' })],
			memberships: [member('h1', 't1'), member('h1', 't2')]
		};
		const entries: BaselineEntry[] = [
			eva,
			staysEntry,
			{
				kind: 'group',
				a: 'c1',
				b: 'h1',
				origin: 'created',
				fields: { name: 'Harbour' },
				members: [
					['e1', 't1', 'member'],
					['e2', 't2', 'member']
				]
			}
		];
		const source = (people: Person[]) => ({
			people,
			groups: [group('c1', 'Harbour', { kind: 'community', externalId: 'C1' })],
			memberships: [member('c1', 'e1'), member('c1', 'e2')].filter((m) => people.some((p) => p.id === m.personId))
		});
		const inactive = run(link, source([person('e1', 'Eva', { active: false }), stays]), target, { entries });
		const gone = run(link, source([stays]), target, { entries });
		expect(opLine(inactive)).toEqual(['remove-membership@b', 'remove-person@b']);
		expect(inactive.plan.ops).toEqual(gone.plan.ops);
		expect(inactive.plan.ops[1]).toMatchObject({ target: { id: 't1' }, soft: true });
		expect(inactive.plan.next.find((d) => d.previous === eva)?.lifecycle).toMatchObject({ state: 'removed', on: 'b' });
	});

	test('new: neither created nor invited, nor put in a group', () => {
		const r = run(
			link,
			{
				people: [person('e3', 'Bob', { externalId: 'E3', active: false }), stays],
				groups: [group('c1', 'Harbour', { kind: 'community', externalId: 'C1' })],
				memberships: [member('c1', 'e3')]
			},
			{
				people: [person('t2', 'Stays')],
				groups: [group('h1', 'Harbour', { kind: 'community', externalId: 'C1' })]
			},
			{
				entries: [
					staysEntry,
					{ kind: 'group', a: 'c1', b: 'h1', origin: 'created', fields: { name: 'Harbour' }, members: [] }
				]
			}
		);
		expect(opLine(r)).toEqual([]);
	});

	test('active again within retention: restored', () => {
		const removed: BaselineEntry = {
			...eva,
			lifecycle: {
				state: 'removed',
				removedAt: '2026-11-10T09:00:00.000Z',
				purgeAfter: '2026-12-10T09:00:00.000Z',
				on: 'b'
			}
		};
		const r = run(
			link,
			{ people: [person('e1', 'Eva'), stays] },
			{ people: [person('t1', 'Eva', { active: false }), person('t2', 'Stays')] },
			{ entries: [removed, staysEntry] }
		);
		expect(opLine(r)).toEqual(['restore-person@b']);
	});

	test('two-way links leave an inactive person paired as any other', () => {
		const r = run(
			twoWay({ limits: open }),
			{ people: [person('e1', 'Eva', { active: false })] },
			{ people: [person('t1', 'Eva')] },
			{ entries: [eva] }
		);
		expect(opLine(r)).toEqual([]);
	});
});

describe('a removal the limits stage', () => {
	// Three people in one community; two leave the source: 2 of 3 is over a person limit of 50%.
	const people = ['1', '2', '3'];
	const input = () => ({
		link: provision({
			limits: { person: { count: 500, percent: 50 }, group: open.group, membership: open.membership }
		}),
		a: snap('HR', {
			people: [person('e3', 'Stays')],
			groups: [group('c1', 'Amsterdam', { kind: 'community', externalId: 'C1' })],
			memberships: [member('c1', 'e3')]
		}),
		b: snap('T', {
			people: people.map((n) => person(`t${n}`, `P${n}`)),
			groups: [group('tc1', 'Amsterdam', { kind: 'community', externalId: 'C1' })],
			memberships: people.map((n) => member('tc1', `t${n}`))
		}),
		baseline: baseline('P1', [
			...people.map((n) =>
				personEntry(`e${n}`, `t${n}`, { displayName: n === '3' ? 'Stays' : `P${n}` }, { origin: 'created' })
			),
			{
				kind: 'group',
				a: 'c1',
				b: 'tc1',
				origin: 'created',
				fields: {},
				members: people.map((n): BaselineMember => [`e${n}`, `t${n}`, 'member'])
			}
		]),
		now: NOW
	});

	test.each([
		['one reconcile', () => reconcile(input())],
		['a plan made in parts', () => reconcileInParts(input(), 3)]
	])('%s: the memberships of the people it would remove wait with it', async (_name, plan) => {
		const r = plan();
		const lines = opLine(r);
		expect(lines.filter((l) => l.startsWith('remove-person'))).toEqual([
			'remove-person@b(staged)',
			'remove-person@b(staged)'
		]);
		expect(lines.filter((l) => l.startsWith('remove-membership'))).toEqual([
			'remove-membership@b(staged)',
			'remove-membership@b(staged)'
		]);
		const outcomes = new Map<string, OpOutcome>();
		await runPlan(r.plan.ops, outcomes, { apply: { a: async () => ({}), b: async () => ({}) } });
		const next = commitBaseline(r.plan, outcomes);
		// Nothing of the removals happened: the community's baseline still names all three.
		expect(next.entries.find((e) => e.kind === 'group')?.members).toEqual(
			expect.arrayContaining(people.map((n) => [`e${n}`, `t${n}`, 'member']))
		);
		expect(next.entries.find((e) => e.kind === 'group')?.members).toHaveLength(3);
	});
});

describe('after anonymization', () => {
	const anonymized = personEntry(
		'e1',
		't1',
		{ displayName: 'Eva' },
		{ origin: 'created', lifecycle: { state: 'anonymized', removedAt: '2026-03-10T09:00:00.000Z', on: 'b' } }
	);
	const husk = person('t1', 'Removed person 1a2b3c4d', { externalId: 'E1', active: false });

	const stays = personEntry('e2', 't2', { displayName: 'Stays' }, { origin: 'created' });

	test('the next runs keep the anonymized pair and leave its account alone', () => {
		const r = run(
			provision(),
			{ people: [person('e2', 'Stays')] },
			{ people: [husk, person('t2', 'Stays')] },
			{ entries: [anonymized, stays] }
		);
		expect(opLine(r)).toEqual([]);
		expect(r.plan.keep).toContainEqual(anonymized);
		expect(r.plan.next.some((d) => d.previous === anonymized)).toBe(false);
		expect(r.untouched.person).toBe(0);
	});

	test('a person who comes back with the same identifier is a new person: the anonymized account is not adopted', () => {
		const r = run(
			provision(),
			{ people: [person('e1', 'Eva', { externalId: 'E1', email: 'eva@x.org' })] },
			{ people: [husk] },
			{ entries: [anonymized] }
		);
		expect(opLine(r)).toEqual(['create-person@b', 'invite@b']);
		expect(r.plan.keep).toEqual([anonymized]);
	});

	test('two-way: the anonymized account is never created on the other side', () => {
		const r = run(twoWay(), { people: [] }, { people: [husk] }, { entries: [anonymized] });
		expect(opLine(r)).toEqual([]);
		expect(r.plan.keep).toEqual([anonymized]);
	});
});

describe('provision: communities and functions', () => {
	const hr = (
		memberships: ReturnType<typeof member>[],
		groups = [
			group('c1', 'Amsterdam', { kind: 'community', externalId: 'C1' }),
			group('c2', 'Utrecht', { kind: 'community', externalId: 'C2' })
		]
	) => ({
		people: [person('e1', 'Eva', { externalId: 'E1' })],
		groups,
		memberships
	});
	const target = (memberships: ReturnType<typeof member>[], extraGroups: ReturnType<typeof group>[] = []) => ({
		people: [person('t1', 'Eva', { externalId: 'E1' })],
		groups: [
			group('tc1', 'Amsterdam', { kind: 'community', externalId: 'C1' }),
			group('tc2', 'Utrecht', { kind: 'community', externalId: 'C2' }),
			...extraGroups
		],
		memberships
	});
	const entries = (members: [string, string, 'member' | 'manager'][]): BaselineEntry[] => [
		{ kind: 'person', a: 'e1', b: 't1', origin: 'created', fields: { displayName: 'Eva' } },
		{ kind: 'group', a: 'c1', b: 'tc1', origin: 'created', fields: {}, members },
		{ kind: 'group', a: 'c2', b: 'tc2', origin: 'created', fields: {}, members: [] }
	];

	test('a same-named community with another identifier is new, flagged as a name collision', () => {
		const r = run(
			provision(),
			{ groups: [group('c1', 'Amsterdam', { kind: 'community', externalId: 'C1' })] },
			{ groups: [group('x', 'Amsterdam', { kind: 'community', externalId: 'OTHER' })] }
		);
		expect(opLine(r)).toEqual(['create-group@b']);
		expect(r.pairs[0]).toMatchObject({ situation: 'create', note: 'name-collision' });
		expect(r.conflicts).toEqual([]);
	});

	test('existing communities are not changed, even when renamed in the source', () => {
		const r = run(
			provision(),
			hr(
				[],
				[
					group('c1', 'Amsterdam Centrum', { kind: 'community', externalId: 'C1' }),
					group('c2', 'Utrecht', { kind: 'community', externalId: 'C2' })
				]
			),
			target([]),
			{ entries: entries([]) }
		);
		expect(opLine(r)).toEqual([]);
	});

	test('moved to another community: membership follows, and the person gets a transfer notice', () => {
		const r = run(provision({ limits: open }), hr([member('c2', 'e1')]), target([member('tc1', 't1')]), {
			entries: entries([['e1', 't1', 'member']])
		});
		expect(opLine(r)).toEqual(['add-membership@b', 'remove-membership@b', 'notify-transfer@b']);
		const [add, remove, notice] = r.plan.ops;
		expect(notice).toMatchObject({ from: ['Amsterdam'], to: ['Utrecht'], after: [remove.key, add.key] });
		// The person's own pair says so: a transfer with its notice, not "in sync".
		expect(r.pairs.find((p) => p.kind === 'person')).toMatchObject({
			a: 'e1',
			b: 't1',
			situation: 'update',
			to: 'b',
			note: 'transfer',
			transfer: { from: ['Amsterdam'], to: ['Utrecht'] }
		});
	});

	// What a run leaves behind when part of a move does not happen. `outcome` names the removal's.
	test.each([
		{ removal: 'done', notice: 'done', kept: [] },
		{ removal: 'failed', notice: 'skipped', kept: [['e1', 't1', 'member']] },
		{ removal: 'staged', notice: 'skipped', kept: [['e1', 't1', 'member']] }
	] as const)(
		'a move whose removal is $removal: notice $notice, the old membership stays in the baseline $kept',
		async ({ removal, notice, kept }) => {
			const limits = removal === 'staged' ? { ...open, membership: { count: 0, percent: 100 } } : open;
			const r = run(provision({ limits }), hr([member('c2', 'e1')]), target([member('tc1', 't1')]), {
				entries: entries([['e1', 't1', 'member']])
			});
			const outcomes = new Map<string, OpOutcome>();
			await runPlan(r.plan.ops, outcomes, {
				apply: {
					a: async () => ({}),
					b: async (op) => {
						if (op.type === 'remove-membership' && removal === 'failed') throw new Error('503 from the target');
						return {};
					}
				}
			});
			const byType = new Map(r.plan.ops.map((op) => [op.type, outcomes.get(op.key)?.status]));
			expect(byType.get('remove-membership')).toBe(removal);
			expect(byType.get('notify-transfer')).toBe(notice);
			const next = commitBaseline(r.plan, outcomes);
			const old = next.entries.find((e) => e.a === 'c1')!;
			expect(old.members).toEqual(kept);
			expect(next.entries.find((e) => e.a === 'c2')!.members).toEqual([['e1', 't1', 'member']]);
		}
	);

	// The memberships moved, but the person was never told: their entry remembers the communities
	// they were last told of until the notice is sent, so the next run tells them of the move.
	test.each([
		{ how: 'never reached (the run stopped first)', addFails: false, again: ['notify-transfer@b'] },
		{ how: 'waited for an add that failed', addFails: true, again: ['add-membership@b', 'notify-transfer@b'] }
	])('a transfer notice that $how goes out with the next run, once', async ({ addFails, again }) => {
		const r = run(provision({ limits: open }), hr([member('c2', 'e1')]), target([member('tc1', 't1')]), {
			entries: entries([['e1', 't1', 'member']])
		});
		const notice = r.plan.ops.find((op) => op.type === 'notify-transfer')!;
		const outcomes = new Map<string, OpOutcome>();
		await runPlan(
			r.plan.ops.filter((op) => op !== notice || addFails),
			outcomes,
			{
				apply: {
					a: async () => ({}),
					b: async (op) => {
						if (op.type === 'add-membership' && addFails) throw new Error('503 from the target');
						return {};
					}
				}
			}
		);
		expect(outcomes.get(notice.key)?.status).toBe(addFails ? 'skipped' : undefined);
		const first = commitBaseline(r.plan, outcomes);
		const entryOf = (b: typeof first, id: string) => b.entries.find((e) => e.a === id)!;
		expect(entryOf(first, 'c1').members).toEqual([]);
		expect(entryOf(first, 'c2').members).toEqual(addFails ? [] : [['e1', 't1', 'member']]);
		expect(entryOf(first, 'e1').told).toEqual(['Amsterdam']);

		// The target as the first run left it: out of Amsterdam, and in Utrecht unless the add failed.
		const moved = target(addFails ? [] : [member('tc2', 't1')]);
		const next = run(provision({ limits: open }), hr([member('c2', 'e1')]), moved, { entries: first.entries });
		expect(opLine(next)).toEqual(again);
		const resent = next.plan.ops.find((op) => op.type === 'notify-transfer')!;
		expect(resent).toMatchObject({ from: ['Amsterdam'], to: ['Utrecht'] });
		expect(next.pairs.find((p) => p.kind === 'person')).toMatchObject({ note: 'transfer' });

		const done = new Map<string, OpOutcome>(
			next.plan.ops.map((op) => [op.key, { key: op.key, status: 'done' as const }])
		);
		const told = commitBaseline(next.plan, done);
		expect(entryOf(told, 'c2').members).toEqual([['e1', 't1', 'member']]);
		expect(entryOf(told, 'e1').told).toBeUndefined();
		const after = run(provision({ limits: open }), hr([member('c2', 'e1')]), target([member('tc2', 't1')]), {
			entries: told.entries
		});
		expect(opLine(after)).toEqual([]);
	});

	test('an owed transfer notice: the same in parts; moved back before it went out, no notice, still owed', () => {
		const owing = entries([]).map((e) => (e.kind === 'person' ? { ...e, told: ['Amsterdam'] } : e));
		owing[2] = { ...owing[2], members: [['e1', 't1', 'member']] };
		const link = provision({ limits: open });
		const input = (source: ReturnType<typeof member>[], onTarget: ReturnType<typeof member>[]) => ({
			link,
			a: snap(link.systems.a, hr(source)),
			b: snap(link.systems.b, target(onTarget)),
			baseline: baseline(link.id, owing),
			now: NOW
		});
		const moved = input([member('c2', 'e1')], [member('tc2', 't1')]);
		expect(opLine(reconcileInParts(moved, 3))).toEqual(opLine(reconcile(moved)));
		expect(reconcileInParts(moved, 3).plan.ops).toEqual([
			expect.objectContaining({ type: 'notify-transfer', from: ['Amsterdam'], to: ['Utrecht'] })
		]);

		const back = reconcile(input([member('c1', 'e1')], [member('tc2', 't1')]));
		expect(opLine(back)).toEqual(['add-membership@b', 'remove-membership@b']);
		const next = commitBaseline(
			back.plan,
			new Map(back.plan.ops.map((op) => [op.key, { key: op.key, status: 'done' }]))
		);
		// Still what they were last told of: a later move is told from there.
		expect(next.entries.find((e) => e.kind === 'person')?.told).toEqual(['Amsterdam']);
	});

	// Whatever each night's run manages (stopped after any operation, any operation refused), what
	// the person was told adds up to where they are, once a night runs in full.
	fcTest.prop(
		[
			fc.array(
				fc.record({
					community: fc.constantFrom('c1', 'c2', 'c3'),
					stopAfter: fc.nat(4),
					refuse: fc.array(fc.boolean(), { minLength: 1, maxLength: 4 })
				}),
				{ minLength: 1, maxLength: 4 }
			)
		],
		{ numRuns: 300 }
	)('what a person is told of their moves adds up to where they are, whatever the runs manage', async (nights) => {
		const names: Record<string, string> = { c1: 'Amsterdam', c2: 'Utrecht', c3: 'Rotterdam' };
		const communities = Object.entries(names).map(([id, name]) =>
			group(id, name, { kind: 'community', externalId: id.toUpperCase() })
		);
		const link = provision({ limits: open });
		const app = new Directory('T', {
			people: [person('t1', 'Eva', { externalId: 'E1' })],
			groups: communities.map((g) => ({ ...g, id: `t${g.id}` })),
			memberships: [member('tc1', 't1')]
		});
		let held: BaselineEntry[] = [
			...entries([['e1', 't1', 'member']]),
			{ kind: 'group', a: 'c3', b: 'tc3', origin: 'created', fields: {}, members: [] }
		];
		const reconcileIn = (community: string) =>
			reconcile({
				link,
				a: snap('HR', hr([member(community, 'e1')], communities)),
				b: app.snapshot(),
				baseline: { linkId: link.id, entries: held },
				now: NOW
			});
		const night = async (community: string, stopAfter?: number, refuse?: boolean[]) => {
			const r = reconcileIn(community);
			const outcomes = new Map<string, OpOutcome>();
			let applied = 0;
			await runPlan(r.plan.ops, outcomes, {
				apply: {
					a: async () => ({}),
					b: async (op, resolve) => {
						if (refuse?.[applied++ % refuse.length]) throw new Error('503 from the target');
						return app.apply(op, resolve);
					}
				},
				shouldYield: () => stopAfter !== undefined && applied >= stopAfter
			});
			held = commitBaseline(r.plan, outcomes).entries;
		};
		for (const n of nights) await night(n.community, n.stopAfter, n.refuse);
		const last = nights[nights.length - 1].community;
		await night(last);

		const told = new Set(['Amsterdam']);
		for (const n of app.notices.filter((n) => n.type === 'notify-transfer')) {
			expect(n.from!.length + n.to!.length).toBeGreaterThan(0);
			for (const c of n.from!) told.delete(c);
			for (const c of n.to!) told.add(c);
		}
		expect([...told]).toEqual([names[last]]);
		expect(reconcileIn(last).plan.ops).toEqual([]);
	});

	test('manual memberships in a synced group are never touched', () => {
		const r = run(
			provision({ limits: open }),
			hr([]),
			{ ...target([member('tc1', 'm1')]), people: [person('t1', 'Eva', { externalId: 'E1' }), person('m1', 'Manual')] },
			{ entries: entries([]) }
		);
		expect(opLine(r)).toEqual([]);
	});

	test('a community gone from the source is deleted with its content counted', () => {
		const r = run(
			provision({ limits: open }),
			hr([], [group('c2', 'Utrecht', { kind: 'community', externalId: 'C2' })]),
			target([member('tc1', 't1'), member('tc1', 'm1')]),
			{ entries: entries([['e1', 't1', 'member']]) }
		);
		const removal = r.plan.ops.find((o) => o.type === 'remove-group');
		expect(removal).toMatchObject({ target: { id: 'tc1' } });
		expect(removal?.type === 'remove-group' && removal.beforeMembers.map((m) => m.personId).sort()).toEqual([
			'm1',
			't1'
		]);
	});

	test('a function gone from the source can instead be stripped from its members', () => {
		const fn = group('f1', 'Medic', { kind: 'function', externalId: 'F1' });
		const link = provision({
			limits: open,
			groupRemoval: { group: 'delete', community: 'delete', function: 'strip', 'message-group': 'delete' }
		});
		const kept = group('f2', 'Driver', { kind: 'function', externalId: 'F2' });
		const r = run(
			link,
			{ people: [person('e1', 'Eva', { externalId: 'E1' })], groups: [kept] },
			{
				people: [person('t1', 'Eva', { externalId: 'E1' })],
				groups: [
					{ ...fn, id: 'tf1' },
					{ ...kept, id: 'tf2' }
				],
				memberships: [member('tf1', 't1')]
			},
			{
				entries: [
					{ kind: 'person', a: 'e1', b: 't1', origin: 'created', fields: { displayName: 'Eva' } },
					{ kind: 'group', a: 'f1', b: 'tf1', origin: 'created', fields: {}, members: [['e1', 't1', 'member']] },
					{ kind: 'group', a: 'f2', b: 'tf2', origin: 'created', fields: {}, members: [] }
				]
			}
		);
		expect(opLine(r)).toEqual(['remove-membership@b']);
	});
});
