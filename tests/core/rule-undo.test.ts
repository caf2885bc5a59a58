/** Undoing a rule's run reverses exactly what that run did, in the group it did it in. */
import { describe, expect, test } from 'vitest';
import { planRuleUndo, type Op, type OpOutcome, type RuleJournal } from '../../src/lib/core';
import { group, member, person, snap } from '../support/factories';

const people = [person('p1', 'Pat', { memberType: 'staff', buildings: ['N'] })];
const groups = [
	group('g1', 'Old alerts', { kind: 'message-group' }),
	group('g2', 'New alerts', { kind: 'message-group' })
];
const done = (ops: Op[]) => new Map<string, OpOutcome>(ops.map((o) => [o.key, { status: 'done' } as OpOutcome]));

describe('rule undo after the rule moved to another group', () => {
	test('undoing a removal from the old group never adds to the new group', () => {
		// The run (a turn-off with removal) took p1 out of g1; since then the rule was pointed at g2.
		const removal = {
			key: 'rm:g1:p1',
			type: 'remove-membership',
			side: 'b',
			step: 5,
			group: { id: 'g1' },
			person: { id: 'p1' },
			before: 'member'
		} as unknown as Op;
		const snapshot = snap('T', { people, groups, memberships: [] });
		const journal: RuleJournal = { ruleId: 'r1', added: {} };
		const plan = planRuleUndo(
			{ id: 'r1', groupId: 'g2' },
			{ id: 'run1', ops: [removal], outcomes: done([removal]) },
			snapshot,
			journal
		);
		const touched = plan.ops.map((o) => ('group' in o && 'id' in o.group ? o.group.id : '?'));
		expect(touched).not.toContain('g2');
	});

	test('undoing an addition to the old group never removes a membership of the new group', () => {
		const addition = {
			key: 'add:g1:p1',
			type: 'add-membership',
			side: 'b',
			step: 4,
			group: { id: 'g1' },
			person: { id: 'p1' },
			role: 'member'
		} as unknown as Op;
		// p1 is in g2 now, added there by the rule's later runs (so it owns that membership).
		const snapshot = snap('T', { people, groups, memberships: [member('g2', 'p1', 'member')] });
		const journal: RuleJournal = { ruleId: 'r1', added: { p1: 'member' } };
		const plan = planRuleUndo(
			{ id: 'r1', groupId: 'g2' },
			{ id: 'run1', ops: [addition], outcomes: done([addition]) },
			snapshot,
			journal
		);
		const touched = plan.ops.map((o) => `${o.type}:${'group' in o && 'id' in o.group ? o.group.id : '?'}`);
		expect(touched).not.toContain('remove-membership:g2');
	});
});
