/**
 * Undoing a rule's run: exactly what that run did, reversed, as far as the group still is as the
 * run left it. A membership added by hand since, or one the rule no longer owns, is never touched:
 * such an operation is listed as irreversible with why, and left alone.
 */
import type { Role, Snapshot } from './model';
import { STEP, type Op } from './ops';
import { PlanBuilder } from './plan';
import type { OpOutcome } from './runner';
import { groupMembers, type Rule, type RuleJournal } from './rules';

export interface RuleRunRecord {
	id: string;
	ops: readonly Op[];
	outcomes: ReadonlyMap<string, OpOutcome>;
}

export interface RuleUndoPlan {
	ops: Op[];
	/** Operations of the run that are not reversed, with why. */
	irreversible: { key: string; reason: string }[];
}

const personOf = (op: Op): string | undefined => ('person' in op && 'id' in op.person ? op.person.id : undefined);
const groupOf = (op: Op): string | undefined => ('group' in op && 'id' in op.group ? op.group.id : undefined);

export function planRuleUndo(
	rule: Pick<Rule, 'id' | 'groupId'>,
	run: RuleRunRecord,
	snapshot: Snapshot,
	journal: RuleJournal
): RuleUndoPlan {
	const current = groupMembers(snapshot, rule.groupId);
	const builder = new PlanBuilder(`rule:${rule.id}:undo:${run.id}`);
	const irreversible: RuleUndoPlan['irreversible'] = [];
	const group = { id: rule.groupId };
	const skip = (op: Op, reason: string) => irreversible.push({ key: op.key, reason });
	for (const op of run.ops) {
		if (run.outcomes.get(op.key)?.status !== 'done') continue;
		const personId = personOf(op);
		if (personId === undefined) continue;
		// The journal and `current` are the rule's group now: an operation on the group it filled
		// before it was moved is not this group's to reverse.
		const groupId = groupOf(op);
		if (groupId !== rule.groupId) {
			skip(op, `was in group "${groupId ?? '?'}", which the rule no longer fills`);
			continue;
		}
		const now: Role | undefined = current.get(personId);
		const owned = journal.added[personId] !== undefined;
		const person = { id: personId };
		switch (op.type) {
			case 'add-membership':
				if (now === undefined) skip(op, 'is no longer a member');
				else if (!owned) skip(op, 'is a member that is no longer the rule’s (added again by hand or by another rule)');
				else
					builder.add({
						type: 'remove-membership',
						side: op.side,
						step: STEP.membershipRemovals,
						group,
						person,
						before: now
					});
				break;
			case 'remove-membership':
				if (now !== undefined) skip(op, 'is a member again');
				else
					builder.add({
						type: 'add-membership',
						side: op.side,
						step: STEP.memberships,
						group,
						person,
						role: op.before
					});
				break;
			case 'set-role':
				if (now !== op.role || !owned) skip(op, 'has had its role changed since');
				else
					builder.add({
						type: 'set-role',
						side: op.side,
						step: STEP.memberships,
						group,
						person,
						role: op.before,
						before: now
					});
				break;
			default:
				skip(op, `is not something a rule does (${op.type})`);
		}
	}
	return { ops: builder.ordered(), irreversible };
}

/**
 * The journal without memberships that are gone from the group (removed by hand or by the
 * system): they are no longer the rule's, and the rule adds the person again if it still wants them.
 */
export function pruneRuleJournal(journal: RuleJournal, snapshot: Snapshot, groupId: string): RuleJournal {
	// A group missing from the read says nothing about its members: absent is not empty.
	if (!snapshot.groups.some((g) => g.id === groupId)) return journal;
	const current = groupMembers(snapshot, groupId);
	const added: Record<string, Role> = {};
	for (const [personId, role] of Object.entries(journal.added)) if (current.has(personId)) added[personId] = role;
	return { ruleId: journal.ruleId, added };
}
