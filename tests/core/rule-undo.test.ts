/** Undoing a rule's run reverses exactly what that run did, in the group it did it in. */
import { describe, expect, test } from 'vitest';
import { planRuleUndo, STEP, type Op, type OpOutcome, type RuleJournal } from '../../src/lib/core';
import { group, member, person, snap } from '../support/factories';

const people = [person('p1', 'Pat', { memberType: 'staff', buildings: ['N'] })];
const groups = [
	group('g1', 'Old alerts', { kind: 'message-group' }),
	group('g2', 'New alerts', { kind: 'message-group' })
];
/** The run took p1 out of g1 (a turn-off with removal), or put p1 in it. */
const removal: Op = {
	key: 'rm:g1:p1',
	type: 'remove-membership',
	side: 'b',
	step: STEP.membershipRemovals,
	group: { id: 'g1' },
	person: { id: 'p1' },
	before: 'member'
};
const addition: Op = { ...removal, key: 'add:g1:p1', type: 'add-membership', step: STEP.memberships, role: 'member' };

/** Undoing a run of `op`, done, by a rule that fills g2 now. */
const undoOf = (op: Op, journal: RuleJournal['added'], memberships = [member('g2', 'p1', 'member')]) =>
	planRuleUndo(
		{ id: 'r1', groupId: 'g2' },
		{ id: 'run1', ops: [op], outcomes: new Map<string, OpOutcome>([[op.key, { key: op.key, status: 'done' }]]) },
		snap('T', { people, groups, memberships }),
		{ ruleId: 'r1', added: journal }
	);
const touched = (plan: ReturnType<typeof planRuleUndo>) =>
	plan.ops.map((o) => `${o.type}:${'group' in o && 'id' in o.group ? o.group.id : '?'}`);

describe('rule undo after the rule moved to another group', () => {
	test('undoing a removal from the old group never adds to the new group', () => {
		expect(touched(undoOf(removal, {}, []))).toEqual([]);
	});

	test('undoing an addition to the old group never removes a membership of the new group', () => {
		// p1 is in g2 now, added there by the rule's later runs (so it owns that membership).
		expect(touched(undoOf(addition, { p1: 'member' }))).toEqual([]);
	});
});
