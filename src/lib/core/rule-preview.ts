/**
 * What a rule would do before it is saved or applied: who joins, who leaves, whose role changes,
 * who is a member already, and what an admin should know first (warnings). Pure: the edge
 * computes it on the system's latest snapshot and pages the list; a bench runs it on 100k people.
 */
import type { MemberType, Person, Role, Snapshot } from './model';
import { decideRule, ruleWants, type Rule, type RuleJournal } from './rules';

export const RULE_WARNING_CODES = [
	'no-staff-manager',
	'matches-nobody',
	'role-disagreement',
	'field-unmapped'
] as const;
export type RuleWarningCode = (typeof RULE_WARNING_CODES)[number];

export interface RuleWarning {
	code: RuleWarningCode;
	/** In an admin's words, with what to do about it. */
	message: string;
	/** `role-disagreement`: the other rules. */
	ruleIds?: string[];
}

/** In list order: what changes first, what stays last. */
export const RULE_CHANGE_KINDS = ['join', 'role', 'leave', 'stays'] as const;
export type RuleChangeKind = (typeof RULE_CHANGE_KINDS)[number];

export interface RulePersonChange {
	id: string;
	name: string;
	email?: string;
	memberType?: MemberType;
	buildings?: string[];
	change: RuleChangeKind;
	/** The role the person will have in the group (or had, for `leave`). */
	role: Role;
}

export interface RulePreviewResult {
	wanted: number;
	joining: number;
	leaving: number;
	roleChanges: number;
	/** Members already, by hand or from before the rule: left as they are, never removed by it. */
	alreadyMembers: number;
	/** Everyone the rule concerns, changes first, then by name. */
	people: RulePersonChange[];
	warnings: RuleWarning[];
}

/** Another rule of the same system, as the warnings weigh it. */
export type OtherRule = Pick<
	Rule,
	'id' | 'name' | 'groupId' | 'scope' | 'buildings' | 'memberTypes' | 'role' | 'enabled'
>;

export function personChange(person: Person, change: RuleChangeKind, role: Role): RulePersonChange {
	const row: RulePersonChange = { id: person.id, name: person.displayName, change, role };
	if (person.email) row.email = person.email;
	if (person.memberType) row.memberType = person.memberType;
	if (person.buildings?.length) row.buildings = person.buildings;
	return row;
}

/**
 * The preview of `rule` as if it were on (a rule being set up is previewed before it is enabled),
 * against the system's `snapshot` and the memberships it owns already (`journal`). `others`: the
 * system's other rules, for the warnings that concern two rules on one group.
 */
export function previewRule(
	rule: Rule,
	snapshot: Snapshot,
	journal: RuleJournal,
	others: readonly OtherRule[] = []
): RulePreviewResult {
	const on = { ...rule, enabled: true };
	const people: RulePersonChange[] = [];
	let joining = 0;
	let leaving = 0;
	let roleChanges = 0;
	const counts = decideRule(on, snapshot, journal, (d) => {
		if (d.change === 'join') joining++;
		else if (d.change === 'leave') leaving++;
		else if (d.change === 'role') roleChanges++;
		const person = d.person ?? { id: d.personId, displayName: d.personId, active: false };
		people.push(personChange(person, d.change, d.role));
	});
	const rank = (c: RuleChangeKind) => RULE_CHANGE_KINDS.indexOf(c);
	people.sort((x, y) => rank(x.change) - rank(y.change) || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
	const result = { ...counts, joining, leaving, roleChanges, people };
	return { ...result, warnings: ruleWarnings(on, snapshot, result, others) };
}

const typeWords = (types: readonly MemberType[]) =>
	types.length === 2 ? 'staff or student' : types[0] === 'staff' ? 'staff' : 'student';

/**
 * What an admin should know before saving: the warnings of the preview, each with what to do.
 * `result` is the rule's own preview counts and people (as previewRule computes them).
 */
export function ruleWarnings(
	rule: Rule,
	snapshot: Snapshot,
	result: Pick<RulePreviewResult, 'wanted' | 'people'>,
	others: readonly OtherRule[]
): RuleWarning[] {
	const warnings: RuleWarning[] = [];
	const groupName = snapshot.groups.find((g) => g.id === rule.groupId)?.name ?? rule.groupId;
	const rivals = others.filter((o) => o.id !== rule.id && o.enabled && o.groupId === rule.groupId);

	let anyType = false;
	let anyBuilding = false;
	for (const p of snapshot.people) {
		if (p.memberType) anyType = true;
		if (p.buildings?.length) anyBuilding = true;
		if (anyType && anyBuilding) break;
	}
	const unmapped = [
		...(anyType ? [] : ['member type']),
		...(rule.scope === 'buildings' && !anyBuilding ? ['building'] : [])
	];
	if (unmapped.length > 0 && snapshot.people.length > 0)
		warnings.push({
			code: 'field-unmapped',
			message: `Nobody in ${snapshot.system} has a ${unmapped.join(' or a ')}: the system's field map may not say where ${unmapped.length === 1 ? 'it is' : 'they are'} kept. Map ${unmapped.length === 1 ? 'it' : 'them'} on the system (an attribute or a column), then preview again.`
		});

	if (result.wanted === 0)
		warnings.push({
			code: 'matches-nobody',
			message: `The rule matches nobody today: no active ${typeWords(rule.memberTypes)}${rule.scope === 'buildings' ? ` in ${rule.buildings.join(', ') || 'the chosen buildings'}` : ''}. Check the buildings and member types, or the system's field map.`
		});

	if (rule.memberTypes.includes('student') && !staffManagerAfter(rule, snapshot, result.people, rivals))
		warnings.push({
			code: 'no-staff-manager',
			message: `No staff member will manage "${groupName}": students' replies would reach no adult. Add the staff safety team manager to the group by hand, or add a rule for staff with permission Manager.`
		});

	const disagreeing = rivals.filter((o) => o.role !== rule.role && overlaps(rule, o, snapshot.people));
	if (disagreeing.length > 0)
		warnings.push({
			code: 'role-disagreement',
			message: `${disagreeing.map((o) => `"${o.name}"`).join(', ')} ${disagreeing.length === 1 ? 'gives' : 'give'} some of the same people in "${groupName}" the role ${disagreeing[0].role === 'manager' ? 'Manager' : 'Member'}; whichever rule adds a person first decides their role. Give both rules the same permission.`,
			ruleIds: disagreeing.map((o) => o.id)
		});
	return warnings;
}

/** Whether the group has a staff manager once this rule (and the other enabled rules) applied. */
function staffManagerAfter(
	rule: Rule,
	snapshot: Snapshot,
	people: readonly RulePersonChange[],
	rivals: readonly OtherRule[]
): boolean {
	if (people.some((p) => p.memberType === 'staff' && p.role === 'manager' && p.change !== 'leave')) return true;
	const leaving = new Set(people.filter((p) => p.change === 'leave').map((p) => p.id));
	const staff = new Set(snapshot.people.filter((p) => p.active && p.memberType === 'staff').map((p) => p.id));
	for (const m of snapshot.memberships)
		if (m.groupId === rule.groupId && m.role === 'manager' && staff.has(m.personId) && !leaving.has(m.personId))
			return true;
	return rivals.some(
		(o) =>
			o.role === 'manager' &&
			o.memberTypes.includes('staff') &&
			snapshot.people.some((p) => p.memberType === 'staff' && ruleWants({ ...o, system: '' } as Rule, p))
	);
}

function overlaps(rule: Rule, other: OtherRule, people: readonly Person[]): boolean {
	const o = { ...other, system: rule.system, enabled: true } as Rule;
	return people.some((p) => ruleWants(rule, p) && ruleWants(o, p));
}

/** The preview's list, searched (`q`: name, email or building) and paged. */
export function pageRulePeople(
	people: readonly RulePersonChange[],
	query: { q?: string; change?: RuleChangeKind; offset?: number; limit?: number }
): { people: RulePersonChange[]; total: number; offset: number; limit: number } {
	const q = query.q?.trim().toLowerCase();
	const found = people.filter(
		(p) =>
			(!query.change || p.change === query.change) &&
			(!q ||
				p.name.toLowerCase().includes(q) ||
				(p.email?.toLowerCase().includes(q) ?? false) ||
				(p.buildings?.some((b) => b.toLowerCase().includes(q)) ?? false))
	);
	const offset = Math.max(0, query.offset ?? 0);
	const limit = Math.max(0, query.limit ?? 50);
	return { people: found.slice(offset, offset + limit), total: found.length, offset, limit };
}
