/**
 * Which link settings a change may touch. The id and the two systems are the link itself (another
 * pair of systems is another link); `enabled` has its own switch, because turning sync on needs a
 * fresh reconciliation with nothing requiring action; and the mode is fixed once records were
 * synced, as the baseline a mode wrote means something else under the other one.
 */
import type { LinkConfig } from './model';

/** One setting a change may not touch, named as the API's issues name fields. */
export interface LinkChangeIssue {
	field: string;
	message: string;
}

export interface LinkState {
	/** Sync has written records (the baseline is not empty). */
	synced: boolean;
}

const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);

/** The settings `patch` may not change on a link in `state`; empty when it may be applied. */
export function linkChangeIssues(
	current: LinkConfig,
	patch: Readonly<Record<string, unknown>>,
	state: LinkState
): LinkChangeIssue[] {
	const issues: LinkChangeIssue[] = [];
	if ('id' in patch && patch.id !== current.id) issues.push({ field: 'id', message: 'cannot be changed' });
	if ('systems' in patch && !same(patch.systems, current.systems))
		issues.push({ field: 'systems', message: 'cannot be changed: create another link' });
	if ('enabled' in patch && patch.enabled !== current.enabled)
		issues.push({ field: 'enabled', message: 'is changed through /enable and /disable' });
	if ('mode' in patch && patch.mode !== current.mode && state.synced)
		issues.push({ field: 'mode', message: 'cannot be changed once records were synced' });
	return issues;
}

/** The configuration a permitted patch asks for, still to be validated: the fixed settings kept. */
export const patchedLink = (
	current: LinkConfig,
	patch: Readonly<Record<string, unknown>>
): Record<string, unknown> => ({
	...current,
	...patch,
	id: current.id,
	systems: current.systems,
	enabled: current.enabled
});

/** True when the nightly run must be planned again: its hour, time zone or switch changed. */
export const scheduleMoved = (before: LinkConfig, after: LinkConfig): boolean => !same(before.schedule, after.schedule);
