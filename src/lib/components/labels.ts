/** Words for the core's names, as admins read them. */
import type { Role, RunStatus } from '$lib/api/types';
import type { Conflict, ConflictReason, OpType, PairNote, RecordKind, Situation } from '$lib/core';

export const SITUATION_LABEL: Record<Situation, string> = {
	conflict: 'Requiring action',
	create: 'Create',
	update: 'Update',
	remove: 'Remove',
	'in-sync': 'In sync'
};

export const REASON_LABEL: Record<ConflictReason, string> = {
	'ambiguous-match': 'More than one match',
	'both-changed': 'Changed on both sides',
	'changed-vs-removed': 'Changed on one side, removed on the other',
	'name-collision': 'Same name, different identifier',
	threshold: 'Over a safety limit'
};

export const NOTE_LABEL: Record<PairNote, string> = {
	'first-sync': 'first sync',
	'name-collision': 'same name',
	adopt: 'adopted',
	ignored: 'ignored',
	restore: 'restored',
	anonymize: 'anonymized',
	recreate: 'created again',
	staged: 'staged: waits for an owner',
	resolved: 'resolved',
	transfer: 'transfer'
};

const FIELD_LABEL: Record<string, string> = {
	externalId: 'Identifier',
	displayName: 'Name',
	givenName: 'Given name',
	familyName: 'Family name',
	email: 'Email',
	phone: 'Phone',
	employeeNumber: 'Employee number',
	memberType: 'Member type',
	buildings: 'Buildings',
	communities: 'Communities',
	functions: 'Functions',
	active: 'Active',
	name: 'Name',
	kind: 'Kind'
};

export function fieldLabel(key: string): string {
	if (key.startsWith('custom:')) return `${key.slice(7)} (custom)`;
	return FIELD_LABEL[key] ?? key;
}

export const kindLabel = (kind: RecordKind | 'membership', plural = false): string =>
	kind === 'person'
		? plural
			? 'people'
			: 'person'
		: kind === 'group'
			? plural
				? 'groups'
				: 'group'
			: plural
				? 'memberships'
				: 'membership';

export const OP_LABEL: Record<OpType, string> = {
	'create-group': 'Create group',
	'update-group': 'Update group',
	'remove-group': 'Remove group',
	'create-person': 'Create person',
	'update-person': 'Update person',
	'adopt-person': 'Adopt person',
	'adopt-group': 'Adopt group',
	'remove-person': 'Remove person',
	'restore-person': 'Restore person',
	'anonymize-person': 'Anonymize person',
	'add-membership': 'Add membership',
	'set-role': 'Change role',
	'remove-membership': 'Remove membership',
	invite: 'Invite',
	'notify-transfer': 'Notify of a move',
	'grant-access': 'Grant access',
	'revoke-access': 'Revoke access'
};

/** A conflict's reason in plain words, naming the systems. */
export function explain(conflict: Conflict, names: { a: string; b: string }, matchField?: string): string {
	const what = kindLabel(conflict.kind, true);
	switch (conflict.reason) {
		case 'ambiguous-match': {
			const na = conflict.records.filter((r) => r.side === 'a').length;
			const nb = conflict.records.filter((r) => r.side === 'b').length;
			const value = matchField ? fieldLabel(matchField).toLowerCase() : 'matching value';
			if (na === 0 || nb === 0) {
				const [n, system, other] = na === 0 ? [nb, names.b, names.a] : [na, names.a, names.b];
				return `${n} ${what} in ${system} share the same ${value}. Created in ${other} they would be one record, or the second would fail. Correct the ${value} in ${system}, or create one as new and ignore the other.`;
			}
			return `${na} ${na === 1 ? kindLabel(conflict.kind) : what} in ${names.a} and ${nb} in ${names.b} share the same ${matchField ? fieldLabel(matchField).toLowerCase() : 'matching value'}, so Rostersync cannot tell which belong together. Link the two that are the same, create them as new, or ignore them.`;
		}
		case 'both-changed': {
			const fields = (conflict.fields ?? []).map((f) => fieldLabel(f.field).toLowerCase()).join(', ');
			return `Since the last sync, both ${names.a} and ${names.b} changed the ${fields || 'same fields'} to different values. Choose which side is right, as a whole or field by field.`;
		}
		case 'changed-vs-removed': {
			const removed = conflict.removedSide === 'a' ? names.a : names.b;
			const kept = conflict.removedSide === 'a' ? names.b : names.a;
			return `This ${kindLabel(conflict.kind)} was removed from ${removed} but changed in ${kept} since the last sync. Keep it (it is created again in ${removed}) or remove it from ${kept} too.`;
		}
		case 'name-collision':
			if (conflict.collision) {
				const on = conflict.collision.side === 'a' ? names.a : names.b;
				const value = conflict.collision.field ? fieldLabel(conflict.collision.field).toLowerCase() : 'a unique value';
				return conflict.collision.existingId
					? `${on} refused to create this person: another account there already holds the same ${value}. Link the two if that account is this person (sync adopts it), create as new to try again once ${on} is corrected, or ignore this person.`
					: `${on} refused to create this person: another account there already holds the same ${value}, and ${on} would not say which. Correct it in ${on} and create as new to try again, or ignore this person.`;
			}
			return `${names.a} and ${names.b} each have a ${kindLabel(conflict.kind)} of this name, but with different identifiers: they may not be the same. Link them if they are, create each as new, or ignore them.`;
		case 'threshold': {
			const s = conflict.staged;
			if (conflict.createdSide) {
				const on = conflict.createdSide === 'b' ? names.b : names.a;
				return s
					? `Sync would create ${s.count} new ${what} in ${on}, where the link has ${s.total}: more than its limit (${s.limit.count} new, or ${s.limit.percent}% more). A file that suddenly grew is more often wrong than the staff; these creations, and the invitations that follow them, wait until an owner approves them.`
					: `Creations above the link's limit wait until an owner approves them.`;
			}
			const side = conflict.removedSide === 'b' ? names.b : names.a;
			return s
				? `Sync would remove ${s.count} of ${s.total} ${what} in ${side}, more than the link's limit (${s.limit.count} or ${s.limit.percent}%). These removals wait until an owner approves them.`
				: `Removals above the link's limit wait until an owner approves them.`;
		}
	}
}

/** Roles in words, and what each may do (docs/api.md). */
export const ROLE_LABEL: Record<Role, string> = { owner: 'Owner', reviewer: 'Reviewer', viewer: 'Viewer' };
export const ROLE_POWERS: Record<Role, string> = {
	owner: 'everything: connect systems, set up links, enable sync, manage access',
	reviewer: 'read, resolve conflicts, start dry runs',
	viewer: 'read only'
};

/** A run's status in a word or two (the edge's statuses: docs/api.md, Runs). */
export const RUN_STATUS_LABEL: Record<RunStatus, string> = {
	running: 'Running',
	done: 'Done',
	partial: 'Partly done',
	failed: 'Failed',
	stopped: 'Stopped'
};

/** What a status means, for the run's own page. */
export const RUN_STATUS_TEXT: Record<RunStatus, string> = {
	running: 'In progress.',
	done: 'No operation failed.',
	partial: 'Some operations failed; the others are done.',
	failed: 'The run itself failed, or every operation it tried failed.',
	stopped: 'An owner stopped it: operations already under way finished, no others were started.'
};

/** The badge colour of a status (the situation classes of app.css): green done, amber partly, red failed. */
export const RUN_STATUS_CLASS: Record<RunStatus, string> = {
	running: 's-update',
	done: 's-create',
	partial: 's-remove',
	failed: 's-conflict',
	stopped: 's-in-sync'
};
