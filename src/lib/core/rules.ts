/**
 * Auto-membership rules keep a message group filled: the organization or chosen buildings; staff,
 * students or both; as member or manager. Every membership a rule adds is journaled, so turning
 * it off (with removal) or undoing it removes exactly what it added, never a manual membership.
 */
import type { MemberType, Person, Role, Snapshot } from './model';
import { STEP, type Op } from './ops';
import { PlanBuilder } from './plan';
import type { OpOutcome } from './runner';
import { indexSnapshot, membersOf } from './side-index';

export const RULE_SCOPES = ['organization', 'buildings'] as const;
export type RuleScope = (typeof RULE_SCOPES)[number];

export interface Rule {
	id: string;
	name: string;
	/** System the message group lives in. */
	system: string;
	groupId: string;
	scope: RuleScope;
	/** With scope `buildings`: the building identifiers whose people belong. */
	buildings: string[];
	memberTypes: MemberType[];
	role: Role;
	enabled: boolean;
}

/** The memberships a rule added and still owns, by person id. */
export interface RuleJournal {
	ruleId: string;
	added: Record<string, Role>;
}

export interface RulePlan {
	ruleId: string;
	ops: Op[];
	/** People the rule wants in the group. */
	wanted: number;
	/** Already members on their own: left as they are, never journaled. */
	alreadyMembers: number;
}

/** Whether a person falls under a rule: active, of a chosen member type, and in scope. */
export function ruleWants(rule: Rule, person: Person): boolean {
	if (!person.active) return false;
	if (!person.memberType || !rule.memberTypes.includes(person.memberType)) return false;
	if (rule.scope === 'organization') return true;
	return (person.buildings ?? []).some((b) => rule.buildings.includes(b));
}

/**
 * The plan that brings the group in line with the rule: add who is missing, correct the role of
 * memberships the rule owns, and remove the rule's own memberships of people no longer in scope.
 */
export function planRule(rule: Rule, snapshot: Snapshot, journal: RuleJournal): RulePlan {
	if (!rule.enabled) return planRuleOff(rule, snapshot, journal, false);
	const index = indexSnapshot(snapshot);
	if (!index.groups.has(rule.groupId))
		throw new Error(`rule "${rule.name}": group "${rule.groupId}" is not in ${snapshot.system}`);
	const current = membersOf(index, rule.groupId);
	const builder = new PlanBuilder(`rule:${rule.id}`);
	const group = { id: rule.groupId };
	let wanted = 0;
	let alreadyMembers = 0;
	for (const person of snapshot.people) {
		if (!ruleWants(rule, person)) continue;
		wanted++;
		const role = current.get(person.id);
		const owned = journal.added[person.id];
		if (role === undefined) {
			builder.add({
				type: 'add-membership',
				side: 'b',
				step: STEP.memberships,
				group,
				person: { id: person.id },
				role: rule.role
			});
		} else if (owned !== undefined && role !== rule.role) {
			builder.add({
				type: 'set-role',
				side: 'b',
				step: STEP.memberships,
				group,
				person: { id: person.id },
				role: rule.role,
				before: role
			});
		} else if (owned === undefined) {
			alreadyMembers++;
		}
	}
	for (const [personId, ownedRole] of Object.entries(journal.added)) {
		const person = index.people.get(personId);
		if (person && ruleWants(rule, person)) continue;
		const role = current.get(personId);
		if (role === undefined) continue;
		builder.add({
			type: 'remove-membership',
			side: 'b',
			step: STEP.membershipRemovals,
			group,
			person: { id: personId },
			before: role ?? ownedRole
		});
	}
	return { ruleId: rule.id, ops: builder.ordered(), wanted, alreadyMembers };
}

/** Turning a rule off (or undoing it): with removal, exactly the memberships it added go. */
export function planRuleOff(rule: Rule, snapshot: Snapshot, journal: RuleJournal, removeMembers: boolean): RulePlan {
	const builder = new PlanBuilder(`rule:${rule.id}`);
	if (removeMembers) {
		const current = membersOf(indexSnapshot(snapshot), rule.groupId);
		for (const personId of Object.keys(journal.added)) {
			const role = current.get(personId);
			if (role === undefined) continue;
			builder.add({
				type: 'remove-membership',
				side: 'b',
				step: STEP.membershipRemovals,
				group: { id: rule.groupId },
				person: { id: personId },
				before: role
			});
		}
	}
	return { ruleId: rule.id, ops: builder.ordered(), wanted: 0, alreadyMembers: 0 };
}

/** The journal after a rule's plan ran: what it added and still owns. */
export function commitRuleJournal(
	journal: RuleJournal,
	ops: readonly Op[],
	outcomes: ReadonlyMap<string, OpOutcome>
): RuleJournal {
	const added = { ...journal.added };
	for (const op of ops) {
		if (outcomes.get(op.key)?.status !== 'done') continue;
		if (!('person' in op) || !('id' in op.person)) continue;
		if (op.type === 'add-membership' || op.type === 'set-role') added[op.person.id] = op.role;
		if (op.type === 'remove-membership') delete added[op.person.id];
	}
	return { ruleId: journal.ruleId, added };
}
