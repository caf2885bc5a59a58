/**
 * Auto-membership rules as the edge API shows them (docs/api.md, "Rules"). A rule lives on one
 * message group of one system and draws on that system's people; the edge stores it, applies it on
 * every snapshot of that system, and journals each application as a run.
 *
 * This file is the contract between the edge (worker/rules/) and the app (src/routes/systems/…):
 * change it in one commit with both sides.
 */
import type { MemberType, Op, OpOutcome, Role as MemberRole, RunStatus, RunTally } from '$lib/core';
import type { RuleScope } from '$lib/core/rules';
import type { RunError } from './types';

export type { RuleScope };

/** What an owner sets on a rule (POST creates it disabled unless `enabled` is true). */
export interface RuleConfig {
	name: string;
	/** The message group (a group id of the rule's system). */
	groupId: string;
	/** `organization`: everyone; `buildings`: people of at least one of `buildings`. */
	scope: RuleScope;
	buildings: string[];
	/** Staff, students or both (never empty). */
	memberTypes: MemberType[];
	/** Member, or Manager (a manager is not allowed to edit the group). */
	role: MemberRole;
}

export type NewRule = RuleConfig & { enabled?: boolean };

/**
 * PATCH /api/rules/:ruleId. `enabled: true` turns a rule on (it applies at once); turning it off
 * is POST …/disable, which must say what happens to the members it added.
 */
export type RulePatch = Partial<RuleConfig> & { enabled?: true };

export const RULE_WARNINGS = [
	/** A group of students with nobody of staff as manager: nobody can answer the students. */
	'no-staff-manager',
	/** The rule matches nobody in the system today. */
	'matches-nobody',
	/** Another enabled rule on the same group gives the same people another role. */
	'role-disagreement',
	/** The system holds no building or member type for anyone: its field map may be missing them. */
	'field-unmapped'
] as const;
export type RuleWarningCode = (typeof RULE_WARNINGS)[number];

export interface RuleWarning {
	code: RuleWarningCode;
	/** In an admin's words, with what to do about it. */
	message: string;
	/** `role-disagreement`: the other rules. */
	ruleIds?: string[];
}

export const RULE_CHANGES = ['join', 'leave', 'role', 'stays'] as const;
export type RuleChange = (typeof RULE_CHANGES)[number];

/** One person a rule concerns, as the preview lists them. */
export interface RulePerson {
	id: string;
	name: string;
	email?: string;
	memberType?: MemberType;
	buildings?: string[];
	change: RuleChange;
	/** The role the person will have in the group (or had, for `leave`). */
	role: MemberRole;
}

/**
 * What applying a rule (saved, or a config not yet saved) would do now, on the system's latest
 * snapshot: POST /api/systems/:systemId/rules/preview (a RuleConfig) or POST /api/rules/:id/preview
 * (optionally a RulePatch to preview an edit before saving it).
 */
export interface RulePreview {
	/** The snapshot it was computed on (ISO). */
	takenAt: string;
	/** People the rule wants in the group. */
	wanted: number;
	joining: number;
	leaving: number;
	roleChanges: number;
	/** Members already, by hand or from before the rule: left as they are and never removed by it. */
	alreadyMembers: number;
	/** Paged and searchable: `?q=` matches name, email and building; `offset`/`limit`. */
	people: RulePerson[];
	total: number;
	offset: number;
	limit: number;
	warnings: RuleWarning[];
}

export const RULE_TRIGGERS = ['person', 'snapshot', 'schedule', 'disable', 'undo'] as const;
export type RuleTrigger = (typeof RULE_TRIGGERS)[number];

export interface RuleRunSummary {
	id: string;
	ruleId: string;
	dryRun: boolean;
	trigger: RuleTrigger;
	/** The token's label or the Access email, when a person started it. */
	startedBy?: string;
	status: RunStatus;
	startedAt: string;
	finishedAt?: string;
	tally: RunTally;
	/** Operations by kind: additions, removals, role changes. */
	counts: { add: number; remove: number; role: number };
	error?: RunError;
	undoOf?: string;
	undoneBy?: string;
}

export interface RuleRunDetails extends RuleRunSummary {
	ops: { op: Op; outcome?: OpOutcome; personName?: string }[];
	offset: number;
	limit: number;
}

export interface RuleView extends RuleConfig {
	id: string;
	systemId: string;
	groupName: string;
	enabled: boolean;
	createdAt: string;
	updatedAt: string;
	/** Memberships the rule added and still owns: what turning it off with removal would remove. */
	owned: number;
	running?: string;
	lastRun?: RuleRunSummary;
}

/**
 * POST /api/rules/:id/disable `{ removeMembers, dryRun? }` and POST …/runs/:runId/undo
 * `{ dryRun? }`: with `dryRun` the edge answers what would happen and changes nothing.
 */
export interface RuleActionPreview {
	/** People whose membership would go (disable with removal, or undo of additions). */
	remove: number;
	/** People who would be added back (undo of removals). */
	add: number;
	/** Role changes reversed. */
	role: number;
	people: RulePerson[];
}
