/** Auto-membership rules: scope, member types, roles, journal-exact turn-off and undo. */
import { describe, expect, test } from 'vitest';
import { fc, test as fcTest } from '@fast-check/vitest';
import {
	commitRuleJournal,
	Directory,
	makeLink,
	pageRulePeople,
	planRule,
	planRuleOff,
	planRuleUndo,
	previewRule,
	pruneRuleJournal,
	reconcile,
	runPlan,
	type Membership,
	type Op,
	type OpOutcome,
	type Person,
	type Rule,
	type RuleJournal,
	type RuleOwned
} from '../../src/lib/core';
import { applyPlan } from '../support/apply';
import { baseline, group, member, NOW, person, snap } from '../support/factories';

const people = [
	person('s1', 'Staff North', { memberType: 'staff', buildings: ['N'] }),
	person('s2', 'Staff South', { memberType: 'staff', buildings: ['S'] }),
	person('k1', 'Kid North', { memberType: 'student', buildings: ['N'] }),
	person('x1', 'Gone Staff', { memberType: 'staff', buildings: ['N'], active: false }),
	person('m1', 'Manual Manager', { memberType: 'staff', buildings: ['N'] })
];
const groups = [group('mg', 'North alerts', { kind: 'message-group' })];
const rule = (extra: Partial<Rule> = {}): Rule => ({
	id: 'r1',
	name: 'North staff',
	system: 'T',
	groupId: 'mg',
	scope: 'buildings',
	buildings: ['N'],
	memberTypes: ['staff'],
	role: 'member',
	enabled: true,
	...extra
});
const empty: RuleJournal = { ruleId: 'r1', added: {} };

const added = (r: Rule, memberships = [member('mg', 'm1', 'manager')], journal = empty) =>
	planRule(r, snap('T', { people, groups, memberships }), journal).ops.map(
		(o) => `${o.type}:${'person' in o && 'id' in o.person ? o.person.id : ''}${'role' in o ? `:${o.role}` : ''}`
	);

describe('rules', () => {
	test.each([
		['buildings, staff only, as member', rule(), ['add-membership:s1:member']],
		[
			'organization, staff only',
			rule({ scope: 'organization' }),
			['add-membership:s1:member', 'add-membership:s2:member']
		],
		['buildings, students only', rule({ memberTypes: ['student'] }), ['add-membership:k1:member']],
		[
			'buildings, staff and students, as manager',
			rule({ memberTypes: ['staff', 'student'], role: 'manager' }),
			['add-membership:k1:manager', 'add-membership:s1:manager']
		],
		['a disabled rule adds nothing', rule({ enabled: false }), []]
	])('%s', (_n, r, ops) => {
		expect(added(r).sort()).toEqual([...ops].sort());
	});

	test('an existing manual membership is left as it is and not journaled', () => {
		const plan = planRule(rule(), snap('T', { people, groups, memberships: [member('mg', 'm1', 'manager')] }), empty);
		expect(plan.alreadyMembers).toBe(1);
		expect(plan.wanted).toBe(2);
	});

	test('people who leave the scope lose only the membership the rule gave them', () => {
		const journal: RuleJournal = { ruleId: 'r1', added: { s2: 'member' } };
		expect(added(rule(), [member('mg', 's1'), member('mg', 's2'), member('mg', 'm1', 'manager')], journal)).toEqual([
			'remove-membership:s2'
		]);
	});

	test('the role of its own memberships follows the rule; manual ones keep theirs', () => {
		const journal: RuleJournal = { ruleId: 'r1', added: { s1: 'member' } };
		expect(added(rule({ role: 'manager' }), [member('mg', 's1'), member('mg', 'm1', 'member')], journal)).toEqual([
			'set-role:s1:manager'
		]);
	});

	test.each([
		['turned off with removal: exactly what it added goes', true, ['s1']],
		['turned off without removal: everyone stays', false, []]
	])('%s', async (_n, remove, removed) => {
		const dir = new Directory('T', { people, groups, memberships: [member('mg', 'm1', 'manager')] });
		const on = planRule(rule(), dir.snapshot(), empty);
		const outcomes = new Map<string, OpOutcome>();
		await runPlan(on.ops, outcomes, { apply: { a: async () => ({}), b: async (op, r) => dir.apply(op, r) } });
		const journal = commitRuleJournal(empty, on.ops, outcomes);
		expect(journal.added).toEqual({ s1: 'member' });
		const off = planRuleOff(rule(), dir.snapshot(), journal, remove);
		expect(off.ops.map((o) => ('person' in o && 'id' in o.person ? o.person.id : ''))).toEqual(removed);
		for (const op of off.ops) dir.apply(op);
		expect([...dir.members.get('mg')!.keys()].sort()).toEqual(remove ? ['m1'] : ['m1', 's1']);
	});

	test('a rule for a group the system does not have is an error, not a silent no-op', () => {
		expect(() => planRule(rule({ groupId: 'nope' }), snap('T', { people, groups }), empty)).toThrow(/nope/);
	});
});

/** Applies a rule's plan to a directory: the journal after it, and the run as recorded. */
async function apply(dir: Directory, ops: Op[], journal: RuleJournal) {
	const outcomes = new Map<string, OpOutcome>();
	await runPlan(ops, outcomes, { apply: { a: async () => ({}), b: async (op, r) => dir.apply(op, r) } });
	return { journal: commitRuleJournal(journal, ops, outcomes), run: { id: `run${outcomes.size}`, ops, outcomes } };
}
const membersNow = (dir: Directory, g = 'mg') =>
	Object.fromEntries([...(dir.members.get(g) ?? new Map()).entries()].sort());
const line = (o: Op) => `${o.type}:${'person' in o && 'id' in o.person ? o.person.id : ''}`;

describe('rule preview', () => {
	const memberships = [member('mg', 'm1', 'manager'), member('mg', 's2')];
	test.each<[string, Partial<Rule>, RuleJournal['added'], string[]]>([
		['a new rule: who joins, who is a member already', {}, {}, ['join:s1', 'stays:m1']],
		['organization: the member from before stays', { scope: 'organization' }, {}, ['join:s1', 'stays:m1', 'stays:s2']],
		[
			'a person who left the scope leaves (the rule added them)',
			{},
			{ s2: 'member' },
			['join:s1', 'leave:s2', 'stays:m1']
		],
		[
			'its own member gets the new role',
			{ role: 'manager', scope: 'organization' },
			{ s2: 'member' },
			['join:s1', 'role:s2', 'stays:m1']
		],
		['students: nobody of staff joins', { memberTypes: ['student'] }, {}, ['join:k1']]
	])('%s', (_n, extra, added, lines) => {
		const p = previewRule(rule(extra), snap('T', { people, groups, memberships }), { ruleId: 'r1', added });
		expect(p.people.map((x) => `${x.change}:${x.id}`).sort()).toEqual([...lines].sort());
		expect(p.joining).toBe(lines.filter((l) => l.startsWith('join')).length);
		expect(p.leaving).toBe(lines.filter((l) => l.startsWith('leave')).length);
		expect(p.roleChanges).toBe(lines.filter((l) => l.startsWith('role')).length);
	});

	test('a disabled rule is previewed as if it were on', () => {
		expect(previewRule(rule({ enabled: false }), snap('T', { people, groups }), empty).joining).toBe(2);
	});

	test.each([
		['by name', { q: 'south' }, ['s2']],
		['by email', { q: 'KID@' }, ['k1']],
		['by building', { q: 'oakw' }, ['k1']],
		['by change', { change: 'stays' as const }, ['m1']],
		['paged', { offset: 1, limit: 2 }, ['s1', 's2']]
	])('the list is searched and paged: %s', (_n, query, ids) => {
		const all = previewRule(
			rule({ scope: 'organization', memberTypes: ['staff', 'student'] }),
			snap('T', {
				people: people.map((p) => (p.id === 'k1' ? { ...p, email: 'kid@x.org', buildings: ['Oakwood'] } : p)),
				groups,
				memberships: [member('mg', 'm1', 'manager')]
			}),
			empty
		).people;
		expect(all.map((p) => p.id)).toEqual(['k1', 's1', 's2', 'm1']);
		const page = pageRulePeople(all, query);
		expect(page.people.map((p) => p.id).sort()).toEqual([...ids].sort());
	});

	const codes = (r: Rule, side: { people?: Person[]; memberships?: Membership[] } = {}, others: Rule[] = []) =>
		previewRule(r, snap('T', { people: side.people ?? people, groups, memberships: side.memberships }), empty, others)
			.warnings.map((w) => w.code)
			.sort();

	test.each<[string, Rule, { people?: Person[]; memberships?: Membership[] }, Rule[], string[]]>([
		['a staff rule: nothing to say', rule(), {}, [], []],
		['students without a staff manager', rule({ memberTypes: ['student'] }), {}, [], ['no-staff-manager']],
		[
			'students with a staff manager added by hand',
			rule({ memberTypes: ['student'] }),
			{ memberships: [member('mg', 's1', 'manager')] },
			[],
			[]
		],
		[
			'students with a rule of staff managers',
			rule({ memberTypes: ['student'] }),
			{},
			[rule({ id: 'r2', name: 'Staff managers', role: 'manager' })],
			[]
		],
		[
			'a disabled staff-manager rule does not count',
			rule({ memberTypes: ['student'] }),
			{},
			[rule({ id: 'r2', role: 'manager', enabled: false })],
			['no-staff-manager']
		],
		[
			'staff and students as manager: the staff manage',
			rule({ memberTypes: ['staff', 'student'], role: 'manager' }),
			{},
			[],
			[]
		],
		['a building nobody is in', rule({ buildings: ['W'] }), {}, [], ['matches-nobody']],
		[
			'two enabled rules disagree on the role',
			rule(),
			{},
			[rule({ id: 'r2', name: 'Others', role: 'manager', scope: 'organization' })],
			['role-disagreement']
		],
		[
			'two rules with other roles but nobody in common',
			rule(),
			{},
			[rule({ id: 'r2', role: 'manager', buildings: ['S'] })],
			[]
		],
		[
			'nobody has buildings or types',
			rule(),
			{ people: people.map((p) => ({ id: p.id, displayName: p.displayName, active: true })) },
			[],
			['field-unmapped', 'matches-nobody']
		]
	])('warnings: %s', (_n, r, side, others, expected) => {
		expect(codes(r, side, others)).toEqual(expected);
	});

	test('the role disagreement names the other rule', () => {
		const other = rule({ id: 'r2', name: 'Others', role: 'manager' });
		const w = previewRule(rule(), snap('T', { people, groups }), empty, [other]).warnings[0];
		expect(w.ruleIds).toEqual(['r2']);
		expect(w.message).toContain('"Others"');
	});
});

describe('rule runs over time, off and undo', () => {
	const start = () =>
		new Directory('T', { people, groups, memberships: [member('mg', 'm1', 'manager'), member('mg', 's2')] });

	test('a new person joins at the next application; one who leaves the scope loses only what the rule gave', async () => {
		const dir = start();
		let { journal } = await apply(dir, planRule(rule(), dir.snapshot(), empty).ops, empty);
		expect(journal.added).toEqual({ s1: 'member' });
		dir.apply({
			type: 'create-person',
			key: 'c',
			side: 'b',
			step: 1,
			record: { displayName: 'New North', memberType: 'staff', buildings: ['N'], active: true },
			restoreId: 'n1'
		});
		const next = planRule(rule(), dir.snapshot(), journal);
		expect(next.ops.map(line)).toEqual(['add-membership:n1']);
		({ journal } = await apply(dir, next.ops, journal));
		// s1 moves to the south building: out of scope; m1 (manual) and s2 (from before) stay.
		dir.apply({
			type: 'update-person',
			key: 'u',
			side: 'b',
			step: 1,
			target: { id: 's1' },
			values: { buildings: 'S' },
			before: {}
		});
		expect(planRule(rule(), dir.snapshot(), journal).ops.map(line)).toEqual(['remove-membership:s1']);
	});

	test('undo reverses exactly what the run did and leaves manual and earlier members', async () => {
		const dir = start();
		const first = await apply(dir, planRule(rule({ scope: 'organization' }), dir.snapshot(), empty).ops, empty);
		expect(membersNow(dir)).toEqual({ m1: 'manager', s1: 'member', s2: 'member' });
		const undo = planRuleUndo(rule(), first.run, dir.snapshot(), first.journal);
		expect(undo.ops.map(line)).toEqual(['remove-membership:s1']);
		const after = await apply(dir, undo.ops, first.journal);
		expect(membersNow(dir)).toEqual({ m1: 'manager', s2: 'member' });
		expect(after.journal.added).toEqual({});
	});

	test('undo of a run that removed someone adds them back with their role, and the rule owns them again', async () => {
		const dir = start();
		let { journal } = await apply(dir, planRule(rule(), dir.snapshot(), empty).ops, empty);
		const off = await apply(dir, planRuleOff(rule(), dir.snapshot(), journal, true).ops, journal);
		expect(membersNow(dir)).toEqual({ m1: 'manager', s2: 'member' });
		const undo = planRuleUndo(rule(), off.run, dir.snapshot(), off.journal);
		({ journal } = await apply(dir, undo.ops, off.journal));
		expect(membersNow(dir)).toEqual({ m1: 'manager', s1: 'member', s2: 'member' });
		expect(journal.added).toEqual({ s1: 'member' });
	});

	const removeByHand: Op = {
		type: 'remove-membership',
		key: 'x',
		side: 'b',
		step: 4,
		group: { id: 'mg' },
		person: { id: 's1' },
		before: 'member'
	};
	const addByHand: Op = { ...removeByHand, type: 'add-membership', key: 'y', step: 2, role: 'member' };

	test.each([
		['removed by hand since', [removeByHand], /no longer a member/],
		['removed by hand, then added again by hand', [removeByHand, addByHand], /no longer the rule/]
	])('undo leaves a membership alone that is not as the run left it: %s', async (_n, changes, reason) => {
		const dir = start();
		const first = await apply(dir, planRule(rule(), dir.snapshot(), empty).ops, empty);
		// The edge prunes the journal on every snapshot it takes, so it sees the removal.
		dir.apply(changes[0]);
		const journal = pruneRuleJournal(first.journal, dir.snapshot(), 'mg');
		for (const op of changes.slice(1)) dir.apply(op);
		const undo = planRuleUndo(rule(), first.run, dir.snapshot(), journal);
		expect(undo.ops).toEqual([]);
		expect(undo.irreversible[0].reason).toMatch(reason);
	});
});

describe('rules and links together', () => {
	const hr = [person('h1', 'Staff North', { email: 's1@x.org' })];
	const link = makeLink({
		id: 'P1',
		name: 'HR → T',
		mode: 'provision',
		systems: { a: 'HR', b: 'T' },
		match: { person: 'email', group: 'externalId' }
	});
	const owned: RuleOwned = { b: [{ groupId: 'mg', personId: 't1' }] };

	test.each([
		['without rule ownership the link removes its member', undefined, ['remove-membership@b']],
		['a membership a rule owns is never removed by the link', owned, []]
	])('%s', async (_n, ruleOwned, ops) => {
		const a = new Directory('HR', {
			people: hr,
			groups: [group('hg', 'North', { externalId: 'north' })],
			memberships: [member('hg', 'h1')]
		});
		const b = new Directory('T', {
			people: [person('t1', 'Staff North', { email: 's1@x.org' })],
			groups: [group('mg', 'North', { externalId: 'north' })],
			memberships: []
		});
		const first = reconcile({ link, a: a.snapshot(), b: b.snapshot(), baseline: baseline('P1'), now: NOW });
		const { baseline: base } = await applyPlan(first.plan, a, b);
		expect(membersNow(b)).toEqual({ t1: 'member' });
		a.apply({
			type: 'remove-membership',
			key: 'x',
			side: 'a',
			step: 4,
			group: { id: 'hg' },
			person: { id: 'h1' },
			before: 'member'
		});
		const next = reconcile({ link, a: a.snapshot(), b: b.snapshot(), baseline: base, now: NOW, ruleOwned });
		expect(next.plan.ops.map((o) => `${o.type}@${o.side}`)).toEqual(ops);
	});

	test('nor does the link change the role of a rule’s membership', async () => {
		const a = new Directory('HR', {
			people: hr,
			groups: [group('hg', 'North', { externalId: 'north' })],
			memberships: [member('hg', 'h1')]
		});
		const b = new Directory('T', {
			people: [person('t1', 'Staff North', { email: 's1@x.org' })],
			groups: [group('mg', 'North', { externalId: 'north' })],
			memberships: []
		});
		const { baseline: base } = await applyPlan(
			reconcile({ link, a: a.snapshot(), b: b.snapshot(), baseline: baseline('P1'), now: NOW }).plan,
			a,
			b
		);
		a.apply({
			type: 'set-role',
			key: 'x',
			side: 'a',
			step: 2,
			group: { id: 'hg' },
			person: { id: 'h1' },
			role: 'manager',
			before: 'member'
		});
		const ops = (r?: RuleOwned) =>
			reconcile({ link, a: a.snapshot(), b: b.snapshot(), baseline: base, now: NOW, ruleOwned: r }).plan.ops.map(
				(o) => o.type
			);
		expect(ops()).toEqual(['set-role']);
		expect(ops(owned)).toEqual([]);
	});
});

describe('rule properties', () => {
	const arbPerson = fc.record({
		id: fc.constantFrom('p1', 'p2', 'p3', 'p4', 'p5', 'p6'),
		memberType: fc.constantFrom('staff' as const, 'student' as const),
		buildings: fc.subarray(['N', 'S', 'W'], { minLength: 1 }),
		active: fc.boolean()
	});
	const arbWorld = fc.record({
		people: fc.uniqueArray(arbPerson, { selector: (p) => p.id, maxLength: 6 }),
		manual: fc.subarray(['p1', 'p2', 'p3', 'p4', 'p5', 'p6']),
		rule: fc.record({
			scope: fc.constantFrom('organization' as const, 'buildings' as const),
			buildings: fc.subarray(['N', 'S', 'W'], { minLength: 1 }),
			memberTypes: fc.subarray(['staff', 'student'] as const, { minLength: 1 }),
			role: fc.constantFrom('member' as const, 'manager' as const)
		}),
		later: fc.uniqueArray(arbPerson, { selector: (p) => p.id, maxLength: 6 })
	});

	fcTest.prop([arbWorld])(
		'on, people moving, on again, then off with removal: nothing the rule did not add is removed',
		async (w) => {
			const toPerson = (p: (typeof w.people)[number]) => person(p.id, p.id, p);
			const manual = w.manual.filter((id) => w.people.some((p) => p.id === id));
			const dir = new Directory('T', {
				people: w.people.map(toPerson),
				groups,
				memberships: manual.map((id) => member('mg', id))
			});
			const r = rule(w.rule);
			let { journal } = await apply(dir, planRule(r, dir.snapshot(), empty).ops, empty);
			for (const p of w.later) {
				if (!dir.people.has(p.id)) continue;
				dir.apply({
					type: 'update-person',
					key: `u${p.id}`,
					side: 'b',
					step: 1,
					target: { id: p.id },
					values: { buildings: p.buildings.join('\n'), memberType: p.memberType },
					before: {}
				});
			}
			({ journal } = await apply(dir, planRule(r, dir.snapshot(), journal).ops, journal));
			const before = membersNow(dir);
			const off = planRuleOff(r, dir.snapshot(), journal, true);
			for (const op of off.ops) expect(journal.added[line(op).split(':')[1]]).toBeDefined();
			await apply(dir, off.ops, journal);
			for (const id of manual) expect(membersNow(dir)[id]).toBe(before[id]);
			expect(Object.keys(membersNow(dir)).sort()).toEqual(manual.sort());
		}
	);
});
