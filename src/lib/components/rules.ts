/**
 * The rules screens' words and choices, as the admins who manage message groups know them
 * ("Auto synchronization", Group type, member type, Permission), kept out of the components so
 * they can be tested without a browser.
 */
import type { MemberType, Op, Role, Snapshot } from '$lib/core';
import type { PeopleMap } from '$lib/api/types';
import type {
	RuleActionPreview,
	RuleChange,
	RuleConfig,
	RuleRunSummary,
	RuleScope,
	RuleTrigger,
	RuleWarningCode
} from '$lib/api/rules';

export const SCOPE_LABEL: Record<RuleScope, string> = {
	organization: 'Organization',
	buildings: 'Buildings'
};

export const SCOPE_HINT: Record<RuleScope, string> = {
	organization: 'Adds everyone in the organization to the group.',
	buildings: 'Adds the people assigned to the buildings you choose.'
};

export const MEMBER_TYPE_LABEL: Record<MemberType, string> = { staff: 'Staff', student: 'Student' };

export const PERMISSION_LABEL: Record<Role, string> = {
	member: 'Member',
	manager: 'Manager (not allowed to edit group)'
};

export const PERMISSION_HINT: Record<Role, string> = {
	member: 'Added without the ability to make any group changes.',
	manager: 'Can take part in two-way communication and send alerts, but cannot change the group.'
};

export const CHANGE_LABEL: Record<RuleChange, string> = {
	join: 'joins',
	leave: 'leaves',
	role: 'role changes',
	stays: 'stays'
};

export const CHANGE_CLASS: Record<RuleChange, string> = {
	join: 's-create',
	leave: 's-remove',
	role: 's-update',
	stays: 's-in-sync'
};

export const TRIGGER_LABEL: Record<RuleTrigger, string> = {
	person: 'started by a person',
	snapshot: 'after a new snapshot',
	schedule: 'hourly schedule',
	disable: 'turned off',
	undo: 'undo'
};

export const WARNING_TITLE: Record<RuleWarningCode, string> = {
	'no-staff-manager': 'No staff manager',
	'matches-nobody': 'Matches nobody',
	'role-disagreement': 'Rules disagree on the role',
	'field-unmapped': 'Building or member type not mapped'
};

/** What the setup form offers: the system's message groups and the buildings its people have. */
export interface RuleChoices {
	takenAt: string;
	groups: { id: string; name: string }[];
	/** Each building held by at least one person, with how many people hold it. */
	buildings: { id: string; people: number }[];
	/** People whose member type is known: none means the field map lacks it. */
	typed: number;
}

/**
 * The message groups and buildings of a snapshot. A system with no group marked as a message
 * group (a SCIM directory without that notion) offers all its groups: any group can be filled.
 */
export function ruleChoices(snapshot: Pick<Snapshot, 'takenAt' | 'groups' | 'people'>): RuleChoices {
	const messageGroups = snapshot.groups.filter((g) => g.kind === 'message-group');
	const groups = (messageGroups.length > 0 ? messageGroups : snapshot.groups)
		.map((g) => ({ id: g.id, name: g.name }))
		.sort((x, y) => x.name.localeCompare(y.name));
	const count = new Map<string, number>();
	let typed = 0;
	for (const p of snapshot.people) {
		if (p.memberType) typed++;
		for (const b of new Set(p.buildings ?? [])) count.set(b, (count.get(b) ?? 0) + 1);
	}
	const buildings = [...count]
		.map(([id, people]) => ({ id, people }))
		.sort((x, y) => x.id.localeCompare(y.id, undefined, { numeric: true }));
	return { takenAt: snapshot.takenAt, groups, buildings, typed };
}

/** The setup form's state: what the owner picked so far. */
export interface RuleDraft {
	name: string;
	groupId: string;
	scope: RuleScope;
	buildings: string[];
	memberTypes: MemberType[];
	role: Role;
}

export const emptyDraft = (groupId = '', name = ''): RuleDraft => ({
	name,
	groupId,
	scope: 'organization',
	buildings: [],
	memberTypes: ['staff'],
	role: 'member'
});

/** What keeps a draft from being previewed or saved, by field (empty when none). */
export function draftProblems(draft: RuleDraft): Partial<Record<keyof RuleDraft, string>> {
	const out: Partial<Record<keyof RuleDraft, string>> = {};
	if (!draft.groupId) out.groupId = 'Choose the message group.';
	if (!draft.name.trim()) out.name = 'Give the rule a name.';
	if (draft.scope === 'buildings' && draft.buildings.length === 0) out.buildings = 'Choose at least one building.';
	if (draft.memberTypes.length === 0) out.memberTypes = 'Choose Staff, Student or both.';
	return out;
}

/** The config the edge takes: buildings only with the Buildings group type. */
export function draftConfig(draft: RuleDraft): RuleConfig {
	return {
		name: draft.name.trim(),
		groupId: draft.groupId,
		scope: draft.scope,
		buildings: draft.scope === 'buildings' ? [...draft.buildings] : [],
		memberTypes: [...draft.memberTypes],
		role: draft.role
	};
}

export const draftOf = (config: RuleConfig): RuleDraft => ({
	name: config.name,
	groupId: config.groupId,
	scope: config.scope,
	buildings: [...config.buildings],
	memberTypes: [...config.memberTypes],
	role: config.role
});

const plural = (n: number, one: string, many: string) => `${n.toLocaleString()} ${n === 1 ? one : many}`;
export const people = (n: number) => plural(n, 'person', 'people');

/** A rule in one line: "Buildings B1, B2 · Staff and students · as Member". */
export function ruleSummary(config: Pick<RuleConfig, 'scope' | 'buildings' | 'memberTypes' | 'role'>): string {
	const where =
		config.scope === 'organization'
			? 'Everyone in the organization'
			: `${config.buildings.length === 1 ? 'Building' : 'Buildings'} ${config.buildings.join(', ')}`;
	const types =
		config.memberTypes.length === 2
			? 'staff and students'
			: config.memberTypes[0] === 'staff'
				? 'staff only'
				: 'students only';
	return `${where} · ${types} · as ${config.role === 'member' ? 'Member' : 'Manager (no edit)'}`;
}

/**
 * The two ways to turn a rule off, each with what it does to people, from the edge's dry runs.
 * `keep` should touch nobody; it is asked of the edge all the same so the screen never promises
 * what the edge would not do.
 */
export function disableChoices(keep: RuleActionPreview, remove: RuleActionPreview, owned: number) {
	const touched = (p: RuleActionPreview) => p.remove + p.add + p.role;
	return {
		keep: {
			touches: touched(keep),
			title: 'Keep the members it added',
			text:
				touched(keep) === 0
					? `Removes nobody: the ${people(owned)} it added stay in the group, as members added by hand.`
					: `Changes ${people(touched(keep))}.`
		},
		remove: {
			touches: touched(remove),
			title: `Remove the ${people(remove.remove)} it added`,
			text:
				remove.remove === 0
					? 'Nobody to remove: the rule has no member of its own left in the group.'
					: `Removes exactly the ${people(remove.remove)} this rule added. Members added by hand, and members from before the rule, stay.`
		}
	};
}

/** What undoing a run would do, in a sentence. */
export function undoSummary(p: RuleActionPreview): string {
	const parts: string[] = [];
	if (p.remove) parts.push(`removes ${people(p.remove)} it added`);
	if (p.add) parts.push(`adds back ${people(p.add)} it removed`);
	if (p.role) parts.push(`gives ${people(p.role)} their previous role back`);
	return parts.length === 0
		? 'Nothing to reverse: every change of this run is already gone.'
		: `Undo ${parts.join(', ')}.`;
}

/** A rule run's operations in one line: "3 joined · 1 left · 0 role changes". */
export function runCounts(run: Pick<RuleRunSummary, 'counts' | 'dryRun'>): string {
	const { add, remove, role } = run.counts;
	if (run.dryRun) return `would add ${add} · remove ${remove} · change ${role} roles`;
	return `${add} added · ${remove} removed · ${role} role ${role === 1 ? 'change' : 'changes'}`;
}

/** A rule's operation as the run lists it next to the person's name. */
export function ruleOpLabel(op: Op): string {
	switch (op.type) {
		case 'add-membership':
			return `joins as ${op.role === 'manager' ? 'Manager' : 'Member'}`;
		case 'set-role':
			return `becomes ${op.role === 'manager' ? 'Manager' : 'Member'} (was ${op.before === 'manager' ? 'Manager' : 'Member'})`;
		case 'remove-membership':
			return 'leaves the group';
		default:
			return op.type;
	}
}

/** The people map as the form edits it: value lists as comma-separated text. */
export interface PeopleMapDraft {
	building: string;
	memberType: string;
	staff: string;
	student: string;
}

export const peopleMapDraft = (map: PeopleMap | undefined): PeopleMapDraft => ({
	building: map?.building ?? '',
	memberType: map?.memberType ?? '',
	staff: (map?.staff ?? ['staff']).join(', '),
	student: (map?.student ?? ['student']).join(', ')
});

/** The map the edge takes: empty fields left out (the defaults apply), values trimmed and once each. */
export function peopleMapOf(draft: PeopleMapDraft): PeopleMap {
	const list = (text: string) => [
		...new Set(
			text
				.split(',')
				.map((v) => v.trim())
				.filter(Boolean)
		)
	];
	const map: PeopleMap = {};
	if (draft.building.trim()) map.building = draft.building.trim();
	if (draft.memberType.trim()) map.memberType = draft.memberType.trim();
	const staff = list(draft.staff);
	const student = list(draft.student);
	if (staff.length) map.staff = staff;
	if (student.length) map.student = student;
	return map;
}
