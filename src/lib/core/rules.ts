/**
 * Auto-membership rules keep a message group filled: the organization or chosen buildings; staff,
 * students or both; as member or manager. Every membership a rule adds is journaled, so turning
 * it off (with removal) or undoing it removes exactly what it added, never a manual membership.
 */
import type { MemberType, Person, Role, Snapshot } from './model';
import { STEP, type Op } from './ops';
import { PlanBuilder } from './plan';
import type { OpOutcome } from './runner';

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
	const builder = new PlanBuilder(`rule:${rule.id}`);
	const group = { id: rule.groupId };
	const counts = decideRule(rule, snapshot, journal, (d) => {
		const person = { id: d.personId };
		if (d.change === 'join')
			builder.add({ type: 'add-membership', side: 'b', step: STEP.memberships, group, person, role: d.role });
		else if (d.change === 'role')
			builder.add({
				type: 'set-role',
				side: 'b',
				step: STEP.memberships,
				group,
				person,
				role: d.role,
				before: d.before!
			});
		else if (d.change === 'leave')
			builder.add({
				type: 'remove-membership',
				side: 'b',
				step: STEP.membershipRemovals,
				group,
				person,
				before: d.role
			});
	});
	return { ruleId: rule.id, ops: builder.ordered(), ...counts };
}

/** What a rule decides for one person (see decideRule). */
export interface RuleDecision {
	personId: string;
	/** Absent for a journaled person no longer in the system. */
	person?: Person;
	/** `stays`: wanted and a member already (by hand, from before, or the rule's own). */
	change: 'join' | 'role' | 'leave' | 'stays';
	/** The role they will have (`leave`: the role they had). */
	role: Role;
	before?: Role;
}

/**
 * The one place a rule decides: add who is missing, correct the role of memberships it owns,
 * remove its own memberships of people no longer in scope (or gone), leave everyone else as they
 * are. `visit` gets each decision, people in snapshot order, then those leaving. Reads one
 * group's members and the snapshot's people once: no index of everyone.
 */
export function decideRule(
	rule: Rule,
	snapshot: Snapshot,
	journal: RuleJournal,
	visit: (decision: RuleDecision) => void
): { wanted: number; alreadyMembers: number } {
	if (!snapshot.groups.some((g) => g.id === rule.groupId))
		throw new Error(`rule "${rule.name}": group "${rule.groupId}" is not in ${snapshot.system}`);
	const current = groupMembers(snapshot, rule.groupId);
	const on = { ...rule, enabled: true };
	const stillWanted = new Set<string>();
	let wanted = 0;
	let alreadyMembers = 0;
	for (const person of snapshot.people) {
		if (!ruleWants(on, person)) continue;
		wanted++;
		const role = current.get(person.id);
		const owned = journal.added[person.id] !== undefined;
		if (owned) stillWanted.add(person.id);
		if (role === undefined) visit({ personId: person.id, person, change: 'join', role: rule.role });
		else if (owned && role !== rule.role)
			visit({ personId: person.id, person, change: 'role', role: rule.role, before: role });
		else {
			if (!owned) alreadyMembers++;
			visit({ personId: person.id, person, change: 'stays', role });
		}
	}
	let leaving: Map<string, Person> | undefined;
	for (const personId of Object.keys(journal.added)) {
		if (stillWanted.has(personId)) continue;
		const role = current.get(personId);
		if (role === undefined) continue;
		leaving ??= new Map(snapshot.people.filter((p) => Object.hasOwn(journal.added, p.id)).map((p) => [p.id, p]));
		visit({ personId, person: leaving.get(personId), change: 'leave', role });
	}
	return { wanted, alreadyMembers };
}

/** The members of one group (person id to role), from the snapshot's memberships. */
export function groupMembers(snapshot: Snapshot, groupId: string): Map<string, Role> {
	const members = new Map<string, Role>();
	for (const m of snapshot.memberships) if (m.groupId === groupId) members.set(m.personId, m.role);
	return members;
}

/** Turning a rule off (or undoing it): with removal, exactly the memberships it added go. */
export function planRuleOff(rule: Rule, snapshot: Snapshot, journal: RuleJournal, removeMembers: boolean): RulePlan {
	const builder = new PlanBuilder(`rule:${rule.id}`);
	if (removeMembers) {
		const current = groupMembers(snapshot, rule.groupId);
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
