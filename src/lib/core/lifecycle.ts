/**
 * A removed person's life after removal: soft-removed and restorable for the retention period,
 * then anonymized. A small state machine; the clock and the link's time zone are passed in.
 */
import { fnv1a } from './digest';
import type { FieldValues, Lifecycle, Person } from './model';
import { addLocalDays, nextDailyRun } from './time';

export type LifecycleAction = 'remove' | 'restore' | 'anonymize' | null;

export interface LifecycleContext {
	now: number;
	retentionDays: number;
	timeZone: string;
}

/** When a removal made now ends its retention; the same for every removal of one run. */
const purgeMemo = new WeakMap<LifecycleContext, string>();
function purgeAfter(ctx: LifecycleContext): string {
	let at = purgeMemo.get(ctx);
	if (at === undefined)
		purgeMemo.set(ctx, (at = new Date(addLocalDays(ctx.now, ctx.retentionDays, ctx.timeZone)).toISOString()));
	return at;
}

export const ACTIVE: Lifecycle = { state: 'active' };

/**
 * The next step for a synced person, given whether its counterpart (the source record) still
 * exists. Retention ends on the same wall-clock time `retentionDays` calendar days later.
 */
export function lifecycleStep(
	current: Lifecycle | undefined,
	present: boolean,
	ctx: LifecycleContext
): { action: LifecycleAction; next: Lifecycle } {
	const state = current ?? ACTIVE;
	switch (state.state) {
		case 'active':
			if (present) return { action: null, next: state };
			return {
				action: 'remove',
				next: {
					state: 'removed',
					removedAt: new Date(ctx.now).toISOString(),
					purgeAfter: purgeAfter(ctx)
				}
			};
		case 'removed':
			if (present) return { action: 'restore', next: ACTIVE };
			if (state.purgeAfter && ctx.now >= Date.parse(state.purgeAfter))
				return { action: 'anonymize', next: { ...state, state: 'anonymized' } };
			return { action: null, next: state };
		case 'anonymized':
			return { action: null, next: state };
	}
}

/** True while a removed person can still be restored. */
export const isRestorable = (l: Lifecycle | undefined, now: number): boolean =>
	l?.state === 'removed' && (!l.purgeAfter || now < Date.parse(l.purgeAfter));

/**
 * The values that replace a person's personal data. Irreversible: nothing of the old values
 * survives (the label is a digest of the id, not of any personal field). The identifier stays
 * for audit, and the person stays inactive.
 */
export function anonymizedValues(person: Person): FieldValues {
	const values: FieldValues = {
		displayName: `Removed person ${fnv1a(person.id)}`,
		givenName: null,
		familyName: null,
		email: null,
		phone: null,
		employeeNumber: null,
		buildings: null,
		active: 'false'
	};
	for (const name of Object.keys(person.custom ?? {})) values[`custom:${name}`] = null;
	return values;
}

/** What an admin is told about a removed person (see `retention`). */
export interface Retention {
	state: 'removed' | 'anonymized';
	/** ISO instant of the soft removal. */
	removedAt?: string;
	/** ISO instant until which the person can be restored: the end of retention. */
	restorableUntil?: string;
	/**
	 * ISO instant of the run that anonymizes the person: the first nightly run at or after the end
	 * of retention. Absent when no nightly run is scheduled (the first run after that does it).
	 */
	anonymizedOn?: string;
	/** True while a restore is still possible. */
	restorable: boolean;
}

/**
 * The dates of a removal as admins know them from their directories: "restorable until" (the end
 * of retention) and "anonymized on" (the nightly run that anonymizes, in the link's schedule).
 * Undefined for a person who is not removed.
 */
export function retention(
	lifecycle: Lifecycle | undefined,
	now: number,
	schedule?: { timeZone: string; hour: number; enabled: boolean }
): Retention | undefined {
	if (!lifecycle || lifecycle.state === 'active') return undefined;
	const out: Retention = { state: lifecycle.state, restorable: isRestorable(lifecycle, now) };
	if (lifecycle.removedAt) out.removedAt = lifecycle.removedAt;
	if (lifecycle.purgeAfter) {
		out.restorableUntil = lifecycle.purgeAfter;
		if (lifecycle.state === 'removed' && schedule?.enabled) {
			// A run at the very instant retention ends anonymizes (lifecycleStep: now >= purgeAfter).
			const at = nextDailyRun(Date.parse(lifecycle.purgeAfter) - 1, schedule.timeZone, schedule.hour);
			out.anonymizedOn = new Date(at).toISOString();
		}
	}
	return out;
}

/** The lifecycle a removal made at `at` starts (what a preview's removal will say once it runs). */
export const plannedRemoval = (at: number, retentionDays: number, timeZone: string): Lifecycle =>
	lifecycleStep(ACTIVE, false, { now: at, retentionDays, timeZone }).next;
