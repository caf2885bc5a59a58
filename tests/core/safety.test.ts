/** Safety limits (removals and creations), empty sources, and resolutions (including stale ones). */
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import {
	commitBaseline,
	conflictId,
	recordVersion,
	ReconcileError,
	runPlan,
	shrinkage,
	tally,
	type BaselineEntry,
	type BaselineMember,
	type LinkConfig,
	type OpOutcome,
	type Person,
	type Plan,
	type Resolution
} from '../../src/lib/core';
import { fieldsOf, group, member, opLine, person, personEntry, provision, run, twoWay } from '../support/factories';

const many = (n: number, prefix: string) =>
	Array.from({ length: n }, (_, i) => person(`${prefix}${i}`, `P${i}`, { externalId: `E${i}` }));
const DEFAULT = { count: 500, percent: 20 };
const entriesFor = (n: number): BaselineEntry[] =>
	Array.from({ length: n }, (_, i) => personEntry(`a${i}`, `b${i}`, fieldsOf({ displayName: `P${i}` })));

describe('deletion limits', () => {
	test.each([
		// [case, people per side, removed on A, limit, staged?]
		['2 of 10 is 20%: at the limit, applied', 10, 2, { count: 500, percent: 20 }, false],
		['3 of 10 is 30%: over the percent, staged', 10, 3, { count: 500, percent: 20 }, true],
		['3 removals against a count of 2: staged', 100, 3, { count: 2, percent: 100 }, true],
		['2 removals against a count of 2: applied', 100, 2, { count: 2, percent: 100 }, false]
	] as const)('%s', (_n, total, removed, limit, staged) => {
		const link = twoWay({ limits: { person: limit, group: limit, membership: limit } });
		const r = run(
			link,
			{ people: many(total, 'a').slice(removed) },
			{ people: many(total, 'b') },
			{ entries: entriesFor(total) }
		);
		const removals = r.plan.ops.filter((o) => o.type === 'remove-person');
		expect(removals).toHaveLength(removed);
		expect(removals.every((o) => Boolean(o.staged) === staged)).toBe(true);
		expect(r.conflicts.filter((c) => c.reason === 'threshold')).toHaveLength(staged ? 1 : 0);
	});

	test('the percent limit counts what the link owns, not the manual records beside them', () => {
		// 10 owned of 100 on the target: 3 removals are 30 % of what the link owns, so they wait.
		const manual = Array.from({ length: 90 }, (_, i) => person(`m${i}`, `Manual ${i}`));
		const r = run(
			provision({ limits: { person: { count: 500, percent: 20 }, group: DEFAULT, membership: DEFAULT } }),
			{ people: many(10, 'a').slice(3) },
			{ people: [...many(10, 'b'), ...manual] },
			{ entries: entriesFor(10) }
		);
		const threshold = r.conflicts.find((c) => c.reason === 'threshold');
		expect(threshold?.staged).toMatchObject({ count: 3, total: 10 });
	});

	test('an owner approval of exactly these removals lets them through', () => {
		const link = twoWay();
		const first = run(link, { people: many(10, 'a').slice(5) }, { people: many(10, 'b') }, { entries: entriesFor(10) });
		const threshold = first.conflicts.find((c) => c.reason === 'threshold')!;
		expect(threshold.staged).toEqual({ count: 5, total: 10, limit: { count: 500, percent: 20 } });
		const approve: Resolution = { conflictId: threshold.id, choice: 'approve-deletes', against: [] };
		const second = run(
			link,
			{ people: many(10, 'a').slice(5) },
			{ people: many(10, 'b') },
			{ entries: entriesFor(10), resolutions: [approve] }
		);
		expect(second.plan.ops.filter((o) => o.staged)).toEqual([]);
		expect(second.applied).toContain(threshold.id);
		// Another set of removals is another decision: the old approval does not carry over.
		const third = run(
			link,
			{ people: many(10, 'a').slice(6) },
			{ people: many(10, 'b') },
			{ entries: entriesFor(10), resolutions: [approve] }
		);
		expect(third.plan.ops.filter((o) => o.staged)).toHaveLength(6);
	});
});

describe('creation limits', () => {
	/** A provisioning link owning `owned` people, whose source now has `owned + added`. */
	const grown = (
		owned: number,
		added: number,
		limit: { count: number; percent: number },
		approvals: Resolution[] = []
	) =>
		run(
			provision({ creationLimits: { person: limit, group: limit } }),
			{ people: many(owned + added, 'a') },
			{ people: many(owned, 'b') },
			{ entries: entriesFor(owned), resolutions: approvals }
		);

	test.each([
		// [case, owned, added, limit, staged?]
		['5 new beside 10 owned against a count of 5: applied', 10, 5, { count: 5, percent: 100 }, false],
		['6 new beside 10 owned against a count of 5: staged', 10, 6, { count: 5, percent: 100 }, true],
		['10 new beside 10 owned is 100 %: at the limit, applied', 10, 10, { count: 500, percent: 100 }, false],
		['11 new beside 10 owned is 110 %: staged', 10, 11, { count: 500, percent: 100 }, true],
		['an export 40 times larger (245 owned, 9,800 new): staged', 245, 9800, { count: 500, percent: 100 }, true],
		['a first sync (nothing owned yet) is not limited', 0, 50, { count: 5, percent: 10 }, false],
		['a count of 0 stages any creation once the link owns some', 3, 1, { count: 0, percent: 100 }, true]
	] as const)('%s', (_n, owned, added, limit, staged) => {
		const r = grown(owned, added, limit);
		const creates = r.plan.ops.filter((o) => o.type === 'create-person');
		expect(creates).toHaveLength(added);
		expect(creates.every((o) => Boolean(o.staged) === staged)).toBe(true);
		const thresholds = r.conflicts.filter((c) => c.reason === 'threshold');
		expect(thresholds).toHaveLength(staged ? 1 : 0);
		if (staged)
			expect(thresholds[0]).toMatchObject({ createdSide: 'b', staged: { count: added, total: owned, limit } });
	});

	test('the default limit: 500 creations, or what doubles what the link owns', () => {
		expect(provision().creationLimits).toEqual({
			person: { count: 500, percent: 100 },
			group: { count: 500, percent: 100 }
		});
	});

	test('what needs a staged creation waits with it: the invitation is staged when it runs, not failed', async () => {
		const r = grown(2, 3, { count: 1, percent: 100 });
		expect(r.plan.ops.filter((o) => o.type === 'invite')).toHaveLength(3);
		const outcomes = new Map<string, OpOutcome>();
		const applied: string[] = [];
		await runPlan(r.plan.ops, outcomes, {
			apply: {
				a: async (op) => (applied.push(op.type), {}),
				b: async (op) => (applied.push(op.type), { id: `new-${op.key}` })
			}
		});
		expect(applied).toEqual([]);
		expect(tally(r.plan.ops, outcomes)).toMatchObject({ staged: 6, skipped: 0, failed: 0, done: 0 });
	});

	test('an owner approval of exactly these creations lets them through; another set is another decision', () => {
		const limit = { count: 2, percent: 100 };
		const threshold = grown(4, 3, limit).conflicts.find((c) => c.reason === 'threshold')!;
		const approve: Resolution = { conflictId: threshold.id, choice: 'approve-creates', against: [] };
		const second = grown(4, 3, limit, [approve]);
		expect(second.plan.ops.filter((o) => o.staged)).toEqual([]);
		expect(second.applied).toContain(threshold.id);
		// Approving removals is not approving creations.
		const wrong = grown(4, 3, limit, [{ ...approve, choice: 'approve-deletes' }]);
		expect(wrong.plan.ops.filter((o) => o.staged)).toHaveLength(3);
		expect(grown(4, 4, limit, [approve]).plan.ops.filter((o) => o.staged)).toHaveLength(4);
	});

	test('groups have their own creation limit, per side (two-way)', () => {
		const groups = (prefix: string, n: number) =>
			Array.from({ length: n }, (_, i) => group(`${prefix}${i}`, `G${i}`, { externalId: `X${i}` }));
		const owned = Array.from({ length: 2 }, (_, i) => ({
			kind: 'group' as const,
			a: `ga${i}`,
			b: `gb${i}`,
			origin: 'matched' as const,
			fields: { name: `G${i}`, kind: 'group' },
			members: []
		}));
		const link = twoWay({ creationLimits: { person: DEFAULT, group: { count: 1, percent: 100 } } });
		const r = run(link, { groups: groups('ga', 4) }, { groups: groups('gb', 2) }, { entries: owned });
		expect(r.plan.ops.filter((o) => o.type === 'create-group').map((o) => [o.side, Boolean(o.staged)])).toEqual([
			['b', true],
			['b', true]
		]);
		expect(r.conflicts.filter((c) => c.reason === 'threshold')).toEqual([
			expect.objectContaining({
				kind: 'group',
				createdSide: 'b',
				staged: expect.objectContaining({ count: 2, total: 2 })
			})
		]);
	});

	test.prop(
		[
			fc.integer({ min: 1, max: 40 }),
			fc.integer({ min: 0, max: 60 }),
			fc.integer({ min: 0, max: 30 }),
			fc.integer({ min: 0, max: 300 }),
			fc.boolean()
		],
		{
			numRuns: 60
		}
	)('nothing above the limit runs unapproved', async (owned, added, count, percent, approve) => {
		const limit = { count, percent };
		const first = grown(owned, added, limit);
		const threshold = first.conflicts.find((c) => c.reason === 'threshold');
		const r =
			approve && threshold
				? grown(owned, added, limit, [{ conflictId: threshold.id, choice: 'approve-creates', against: [] }])
				: first;
		const outcomes = new Map<string, OpOutcome>();
		await runPlan(r.plan.ops, outcomes, {
			apply: { a: async () => ({}), b: async (op) => ({ id: `new-${op.key}` }) }
		});
		const created = r.plan.ops.filter((o) => o.type === 'create-person' && outcomes.get(o.key)?.status === 'done');
		const over = added > count || (added * 100) / owned > percent;
		if (over && !(approve && threshold)) expect(created).toEqual([]);
		else expect(created).toHaveLength(added);
		// Invitations never go to someone whose account was not created.
		const invited = r.plan.ops.filter((o) => o.type === 'invite' && outcomes.get(o.key)?.status === 'done');
		expect(invited).toHaveLength(created.length);
	});
});

describe('empty or failed sources are errors, never mass removals', () => {
	test.each([
		['provisioning source with no records', provision(), {}, { people: many(3, 'b') }, []],
		['two-way side that lost every person it had', twoWay(), {}, { people: many(3, 'b') }, entriesFor(3)],
		['two-way B side that lost every person it had', twoWay(), { people: many(3, 'a') }, {}, entriesFor(3)],
		// An empty target would otherwise be planned as every owned person created again.
		['provisioning target that lost every person it had', provision(), { people: many(3, 'a') }, {}, entriesFor(3)]
	] as const)('%s', (_n, link, a, b, entries) => {
		expect(() => run(link, a, b, { entries: [...entries] })).toThrow(ReconcileError);
	});

	test('a first provisioning into an empty target just creates', () => {
		expect(opLine(run(provision(), { people: many(1, 'a') }, {}))).toEqual(['create-person@b', 'invite@b']);
	});

	test('a first two-way reconciliation with one side empty just creates', () => {
		expect(opLine(run(twoWay(), {}, { people: many(2, 'b') }))).toEqual(['create-person@a', 'create-person@a']);
	});
});

describe('resolutions', () => {
	const ann = person('a1', 'Anne', { email: 'ann@x.org' });
	const annB = person('b1', 'Annie', { email: 'ann@x.org' });
	const base = personEntry('a1', 'b1', fieldsOf({ displayName: 'Ann', email: 'ann@x.org' }));
	const against = [
		{ side: 'a' as const, kind: 'person' as const, id: 'a1', version: recordVersion(ann) },
		{ side: 'b' as const, kind: 'person' as const, id: 'b1', version: recordVersion(annB) }
	];
	const id = conflictId('both-changed', 'person', against);

	test.each([
		['take A', { choice: 'take-a' }, ['update-person@b']],
		['take B', { choice: 'take-b' }, ['update-person@a']],
		['per field', { choice: 'per-field', fields: { displayName: 'b' } }, ['update-person@a']]
	] as const)('%s settles a both-changed conflict', (_n, choice, ops) => {
		const r = run(
			twoWay(),
			{ people: [ann] },
			{ people: [annB] },
			{ entries: [base], resolutions: [{ conflictId: id, against, ...choice } as Resolution] }
		);
		expect(r.conflicts).toEqual([]);
		expect(opLine(r)).toEqual(ops);
		expect(r.applied).toEqual([id]);
	});

	test('a resolution made against older records is stale: reported with what changed, not applied', () => {
		const edited = { ...annB, displayName: 'Annika' };
		const r = run(
			twoWay(),
			{ people: [ann] },
			{ people: [edited] },
			{ entries: [base], resolutions: [{ conflictId: id, choice: 'take-a', against }] }
		);
		expect(r.stale).toHaveLength(1);
		expect(r.stale[0].changed).toEqual([{ then: against[1], now: { ...against[1], version: recordVersion(edited) } }]);
		expect(r.conflicts.map((c) => c.reason)).toEqual(['both-changed']);
		expect(r.plan.ops).toEqual([]);
	});

	test('link these two: an ambiguous match is settled by a person', () => {
		const a = [person('a1', 'Ann', { email: 'ann@x.org' }), person('a2', 'Ann', { email: 'ann@x.org' })];
		const b = [person('b1', 'Ann', { email: 'ann@x.org' })];
		const first = run(twoWay(), { people: a }, { people: b });
		const conflict = first.conflicts[0];
		const r = run(
			twoWay(),
			{ people: a },
			{ people: b },
			{
				resolutions: [
					{ conflictId: conflict.id, choice: 'link', link: { a: 'a2', b: 'b1' }, against: conflict.records }
				]
			}
		);
		expect(r.applied).toEqual([conflict.id]);
		expect(r.pairs.find((p) => p.a === 'a2')).toMatchObject({ b: 'b1', situation: 'in-sync' });
		// The other candidate's email is now held by the linked pair: creating it on B would duplicate
		// that email, so it stays a conflict until someone says create new or ignore.
		expect(opLine(r)).toEqual([]);
		expect(r.conflicts).toEqual([expect.objectContaining({ reason: 'ambiguous-match' })]);
		expect(r.conflicts[0].records.map((x) => `${x.side}:${x.id}`).sort()).toEqual(['a:a1', 'b:b1']);
		const rest = r.conflicts[0];
		const created = run(
			twoWay(),
			{ people: a },
			{ people: b },
			{
				resolutions: [
					{ conflictId: conflict.id, choice: 'link', link: { a: 'a2', b: 'b1' }, against: conflict.records },
					{ conflictId: rest.id, choice: 'create-new', against: rest.records.filter((x) => x.side === 'a') }
				]
			}
		);
		expect(opLine(created)).toEqual(['create-person@b']);
	});

	test.each([
		['create new', 'create-new', ['create-group@b', 'create-group@a']],
		['ignore', 'ignore', []]
	] as const)('%s settles a name collision', (_n, choice, ops) => {
		const a = { groups: [{ id: 'ga', name: 'Ops', kind: 'group' as const, externalId: 'G1' }] };
		const b = { groups: [{ id: 'gb', name: 'Ops', kind: 'group' as const, externalId: 'G2' }] };
		const conflict = run(twoWay(), a, b).conflicts[0];
		const r = run(twoWay(), a, b, { resolutions: [{ conflictId: conflict.id, choice, against: conflict.records }] });
		expect(r.conflicts).toEqual([]);
		expect(opLine(r)).toEqual(ops);
	});

	test('changed-vs-removed: keeping the edited record re-creates it on the side that removed it', () => {
		const survivor = person('b1', 'Ann (edited)', { email: 'ann@x.org' });
		const keep = person('a2', 'Keep');
		const entries = [base, personEntry('a2', 'b2', fieldsOf({ displayName: 'Keep' }))];
		const conflict = run(twoWay(), { people: [keep] }, { people: [survivor, person('b2', 'Keep')] }, { entries })
			.conflicts[0];
		expect(conflict.reason).toBe('changed-vs-removed');
		const r = run(
			twoWay(),
			{ people: [keep] },
			{ people: [survivor, person('b2', 'Keep')] },
			{ entries, resolutions: [{ conflictId: conflict.id, choice: 'take-b', against: conflict.records }] }
		);
		expect(opLine(r)).toEqual(['create-person@a']);
	});

	test('changed-vs-removed kept: the record made again joins the groups it is in, even as their only member', () => {
		const survivor = person('b1', 'Ann (edited)', { email: 'ann@x.org' });
		const keep = person('a2', 'Keep');
		const groups = {
			a: [{ id: 'ga', name: 'Ops', kind: 'group' as const, externalId: 'G1' }],
			b: [{ id: 'gb', name: 'Ops', kind: 'group' as const, externalId: 'G1' }]
		};
		const entries = [
			base,
			personEntry('a2', 'b2', fieldsOf({ displayName: 'Keep' })),
			{
				kind: 'group' as const,
				a: 'ga',
				b: 'gb',
				origin: 'matched' as const,
				fields: { name: 'Ops' },
				members: [['a1', 'b1', 'member'] as BaselineMember]
			}
		];
		const a = { people: [keep], groups: groups.a };
		const b = { people: [survivor, person('b2', 'Keep')], groups: groups.b, memberships: [member('gb', 'b1')] };
		const conflict = run(twoWay(), a, b, { entries }).conflicts[0];
		const r = run(twoWay(), a, b, {
			entries,
			resolutions: [{ conflictId: conflict.id, choice: 'take-b', against: conflict.records }]
		});
		expect(opLine(r)).toEqual(['create-person@a', 'add-membership@a']);
		expect(r.plan.ops[1]).toMatchObject({ group: { id: 'ga' }, person: { createdBy: r.plan.ops[0].key } });
	});
});

// A person changed on one side and deleted on the other; the owner kept the changed record, so the
// plan makes it again on the side that deleted it. That create is a pair's operation like any other:
// until it is done, the old pairing, its access and its memberships stay as sync last wrote them.
describe('changed-vs-removed kept: the record made again', () => {
	const ann = fieldsOf({ displayName: 'Ann', email: 'ann@x.org' });
	const old = personEntry('a1', 'b1', ann);
	const bystander = personEntry('k1', 'k2', fieldsOf({ displayName: 'Kim' }));
	const edited = (id: string) => person(id, 'Ann (edited)', { email: 'ann@x.org' });
	const kim = (id: string) => person(id, 'Kim');
	/** The gone record is `gone`'s; the owner keeps the other side's. */
	function plan(link: LinkConfig, gone: 'a' | 'b', more: { a?: Side; b?: Side; entries?: BaselineEntry[] } = {}) {
		const kept = gone === 'b' ? 'a' : 'b';
		const a = { ...more.a, people: [...(gone === 'a' ? [] : [edited('a1')]), kim('k1'), ...(more.a?.people ?? [])] };
		const b = { ...more.b, people: [...(gone === 'b' ? [] : [edited('b1')]), kim('k2'), ...(more.b?.people ?? [])] };
		const entries = [old, bystander, ...(more.entries ?? [])];
		const conflict = run(link, a, b, { entries }).conflicts.find((c) => c.reason === 'changed-vs-removed')!;
		const choice = kept === 'a' ? ('take-a' as const) : ('take-b' as const);
		const resolutions: Resolution[] = [{ conflictId: conflict.id, choice, against: conflict.records }];
		return { a, b, entries, resolutions, r: run(link, a, b, { entries, resolutions }) };
	}
	/** Applies the plan; creates get ids new-1, new-2…; `fails` says which operations a system refuses. */
	async function commitAfter(p: Plan, fails: (type: string) => boolean = () => false) {
		const outcomes = new Map<string, OpOutcome>();
		let made = 0;
		const apply = async (op: { type: string }) => {
			if (fails(op.type)) throw new Error('503 Service Unavailable');
			return op.type.startsWith('create-') ? { id: `new-${++made}` } : {};
		};
		await runPlan(p.ops, outcomes, { apply: { a: apply, b: apply } });
		return commitBaseline(p, outcomes);
	}
	type Side = Parameters<typeof run>[1];

	test.each([
		['b', 'done'],
		['b', 'failed'],
		['a', 'done'],
		['a', 'failed']
	] as const)(
		'deleted on %s, its create %s: the old pairing stays until the record is made again',
		async (gone, outcome) => {
			const { a, b, resolutions, r } = plan(twoWay({ kinds: ['person'] }), gone);
			expect(opLine(r)).toEqual([`create-person@${gone}`]);
			const next = await commitAfter(r.plan, () => outcome === 'failed');
			const pair = next.entries.find(
				(e) => e.a === (gone === 'a' ? 'new-1' : 'a1') && e.b === (gone === 'b' ? 'new-1' : 'b1')
			);
			if (outcome === 'done') {
				expect(pair).toMatchObject({ origin: 'created' });
				expect(next.entries).not.toContainEqual(old);
				return;
			}
			expect(pair).toBeUndefined();
			expect(next.entries).toContainEqual(old);
			// The next run makes it again, under the same answer.
			expect(opLine(run(twoWay({ kinds: ['person'] }), a, b, { entries: next.entries, resolutions }))).toEqual([
				`create-person@${gone}`
			]);
		}
	);

	test('a newcomer with the key of the kept record is not created beside it: ambiguous, naming both', () => {
		const { r } = plan(twoWay({ kinds: ['person'] }), 'b', {
			b: { people: [person('b2', 'Ann B', { email: 'ann@x.org' })] }
		});
		expect(opLine(r)).toEqual(['create-person@b']);
		expect(r.conflicts).toEqual([
			expect.objectContaining({
				reason: 'ambiguous-match',
				records: expect.arrayContaining([
					expect.objectContaining({ side: 'a', id: 'a1' }),
					expect.objectContaining({ side: 'b', id: 'b2' })
				])
			})
		]);
	});

	// Sync granted Ann access; everyone synced is to have it.
	test.each([
		['the kept record, on the access side, keeps the access sync granted it', 'a', []],
		['the record made on the access side starts without it, and is granted it once made', 'b', ['grant-access@b']]
	] as const)('%s', async (_n, accessSide, grants) => {
		const link = twoWay({ kinds: ['person'], access: { side: accessSide, grant: 'everyone', groups: [], people: {} } });
		const granted = (p: Person): Person => ({ ...p, access: true });
		const a = { people: [granted(edited('a1')), granted(kim('k1'))] };
		const b = { people: [granted(kim('k2'))] };
		const entries = [old, bystander].map((e) => ({ ...e, access: true as const }));
		const conflict = run(link, a, b, { entries }).conflicts.find((c) => c.reason === 'changed-vs-removed')!;
		const resolutions: Resolution[] = [{ conflictId: conflict.id, choice: 'take-a', against: conflict.records }];
		const planned = run(link, a, b, { entries, resolutions });
		expect(opLine(planned)).toEqual(['create-person@b', ...grants]);
		const next = await commitAfter(planned.plan);
		expect(next.entries.find((e) => e.a === 'a1')).toMatchObject({ b: 'new-1', access: true });
	});

	// The group's baseline member was the old pairing: it leaves once the record is made again (then
	// the new pairing is the member), and stays while it is not.
	test.each([
		['b', 'done', [['a1', 'new-1', 'member']]],
		['b', 'failed', [['a1', 'b1', 'member']]],
		['a', 'done', [['new-1', 'b1', 'member']]],
		['a', 'failed', [['a1', 'b1', 'member']]]
	] as const)(
		'deleted on %s, its create %s: the group keeps the old member until then',
		async (gone, outcome, members) => {
			const groups = { a: [group('ga', 'Ops', { externalId: 'G1' })], b: [group('gb', 'Ops', { externalId: 'G1' })] };
			const inGroup = gone === 'b' ? { a: [member('ga', 'a1')], b: [] } : { a: [], b: [member('gb', 'b1')] };
			const synced: BaselineEntry = {
				kind: 'group',
				a: 'ga',
				b: 'gb',
				origin: 'matched',
				fields: { name: 'Ops' },
				members: [['a1', 'b1', 'member'] as BaselineMember]
			};
			const { r } = plan(twoWay(), gone, {
				a: { people: [], groups: groups.a, memberships: inGroup.a },
				b: { people: [], groups: groups.b, memberships: inGroup.b },
				entries: [synced]
			});
			expect(opLine(r)).toEqual([`create-person@${gone}`, `add-membership@${gone}`]);
			const next = await commitAfter(r.plan, (type) => outcome === 'failed' && type === 'create-person');
			expect(next.entries.find((e) => e.kind === 'group')!.members).toEqual(members);
		}
	);
});

describe('the pre-flight guard: counts that fell since the last run', () => {
	const limits = { person: DEFAULT, group: { count: 500, percent: 50 }, membership: DEFAULT };
	const counts = (people: number, groups = 10, memberships = 100) => ({ people, groups, memberships });
	const side = (system: string, c: ReturnType<typeof counts>) => ({ system, ...c });
	test.each([
		['no run yet: nothing to compare with', undefined, counts(10), []],
		['20 % fewer people is at the limit', counts(100), counts(80), []],
		['21 % fewer people is over it', counts(100), counts(79), [['a', 'person', 100, 79]]],
		['groups have their own limit (50 %)', counts(100, 10), counts(100, 6), []],
		['growth is never a problem', counts(100), counts(1000), []],
		['from none to none is no fall', counts(0, 0, 0), counts(0, 0, 0), []]
	] as const)('%s', (_n, before, after, fell) => {
		const accepted = before ? { a: before, b: counts(100) } : undefined;
		const found = shrinkage({ limits }, accepted, { a: side('HR', after), b: side('Team', counts(100)) });
		expect(found.map((f) => [f.side, f.kind, f.before, f.after])).toEqual(fell);
	});

	test('names the system of the side that fell', () => {
		const found = shrinkage(
			{ limits },
			{ a: counts(100), b: counts(100) },
			{ a: side('HR', counts(100)), b: side('Team', counts(10)) }
		);
		expect(found).toEqual([{ side: 'b', system: 'Team', kind: 'person', before: 100, after: 10 }]);
	});
});
