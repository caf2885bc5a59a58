/**
 * A removed person's life after removal: soft-removed and restorable for the retention period,
 * then anonymized. A small state machine; the clock and the link's time zone are passed in.
 */
import { fnv1a } from './digest';
import type { FieldValues, Lifecycle, Person } from './model';
import { addLocalDays } from './time';

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
