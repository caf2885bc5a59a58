/** Auto-membership rules: scope, member types, roles, journal-exact turn-off and undo. */
import { describe, expect, test } from 'vitest';
import {
	commitRuleJournal,
	Directory,
	planRule,
	planRuleOff,
	runPlan,
	type OpOutcome,
	type Rule,
	type RuleJournal
} from '../../src/lib/core';
import { group, member, person, snap } from '../support/factories';

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
