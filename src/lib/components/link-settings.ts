/**
 * The settings screen of a link: a draft of what an owner may change after setup, the patch that
 * asks for exactly what differs, and each change in an admin's words ("People matched by Email →
 * Employee number"). The edge previews the patch (PATCH …?dryRun=true) before it is applied.
 */
import type { DeletionLimit, FieldMapping, LinkConfig, MatchField, RemoveMode, Side } from '$lib/core';
import type { LinkChange } from '$lib/api/link-change';
import type { SystemCapabilities } from '$lib/api/types';
import { fieldLabel } from './labels';

export const LIMIT_KINDS = ['person', 'group', 'membership'] as const;
type LimitKind = (typeof LIMIT_KINDS)[number];

export interface LinkDraft {
	name: string;
	timeZone: string;
	hour: number;
	nightly: boolean;
	limits: Record<LimitKind, DeletionLimit>;
	personMatch: MatchField;
	groupMatch: 'externalId' | 'name';
	fieldMap: FieldMapping[];
	/** The side whose values win on the first sync (two-way links). */
	authority: Side;
	/** What happens to someone who leaves: deactivated and restorable for `retentionDays`, or deleted. */
	removeMode: RemoveMode;
	retentionDays: number;
}

export function draftOf(config: LinkConfig): LinkDraft {
	return {
		name: config.name,
		timeZone: config.schedule.timeZone,
		hour: config.schedule.hour,
		nightly: config.schedule.enabled,
		limits: structuredClone(config.limits),
		personMatch: config.match.person,
		groupMatch: config.match.group,
		fieldMap: config.fieldMap.map((m) => ({ ...m })),
		authority: config.authority.default,
		removeMode: config.removeMode,
		retentionDays: config.retentionDays
	};
}

const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);

/** The patch that asks for what the draft changes, and nothing else (empty: nothing to preview). */
export function patchOf(config: LinkConfig, draft: LinkDraft): Partial<LinkConfig> {
	const want: Partial<LinkConfig> = {
		name: draft.name.trim(),
		schedule: { timeZone: draft.timeZone, hour: draft.hour, enabled: draft.nightly },
		limits: { ...config.limits, ...draft.limits },
		match: { person: draft.personMatch, group: draft.groupMatch },
		fieldMap: draft.fieldMap.filter((m) => m.a && m.b),
		authority: { ...config.authority, default: draft.authority },
		removeMode: draft.removeMode,
		retentionDays: draft.retentionDays
	};
	return Object.fromEntries(
		Object.entries(want).filter(([key, value]) => !same(config[key as keyof LinkConfig], value))
	) as Partial<LinkConfig>;
}

/**
 * The person fields a link can match on: the identifier and the standard ones, then each mapped
 * custom field (named as on side A; the map translates it for B).
 */
export const matchOptions = (fieldMap: readonly FieldMapping[]): MatchField[] => [
	'externalId',
	'email',
	'employeeNumber',
	'displayName',
	...fieldMap.filter((m) => m.a && m.b).map((m) => `custom:${m.a}` as const)
];

/**
 * The systems a link removes people in (a provisioning target; both sides of a two-way link) that
 * can be written but cannot deactivate anyone: while the link deactivates, each removal there
 * fails (named in the run), and the person keeps their account. Only deleting works there.
 */
export function cannotDeactivate(
	config: Pick<LinkConfig, 'mode' | 'kinds'>,
	capabilities: Partial<Record<Side, SystemCapabilities>>
): Side[] {
	if (!config.kinds.includes('person')) return [];
	const sides: Side[] = config.mode === 'provision' ? ['b'] : ['a', 'b'];
	return sides.filter((side) => capabilities[side]?.write === true && capabilities[side]?.softRemove === false);
}

/** The deletion limits' rows, as the setup names them. */
export const REMOVALS: Record<LimitKind, string> = {
	person: 'People removals',
	group: 'Group removals',
	membership: 'Membership removals'
};

export const hour = (h: number) => `${String(h).padStart(2, '0')}:00`;
const schedule = (s: LinkConfig['schedule']) =>
	s.enabled ? `${hour(s.hour)} nightly, ${s.timeZone}` : 'no nightly run';
const limit = (l: DeletionLimit) => `${l.count.toLocaleString()} or ${l.percent} %`;
const groupMatch = (m: string) => (m === 'name' ? 'identifier, then name' : 'identifier');
const mapping = (map: FieldMapping[]) => (map.length ? map.map((m) => `${m.a} → ${m.b}`).join(', ') : 'none');
const days = (n: number) => `${n.toLocaleString()} ${n === 1 ? 'day' : 'days'}`;

/** What happens to someone who leaves, as the setup's summary says it. */
export const whenLeaving = (mode: RemoveMode, retentionDays: number): string =>
	mode === 'deactivate'
		? `deactivated, restorable for ${days(retentionDays)}, then anonymized`
		: 'deleted at once, not restorable';
const leaving = (mode: RemoveMode) => (mode === 'deactivate' ? 'deactivated, restorable' : 'deleted, not restorable');

/** One change in words, one line per setting it touches. */
export function describeChange(change: LinkChange, names: Record<Side, string>): string[] {
	const before = change.before as never;
	const after = change.after as never;
	switch (change.field) {
		case 'name':
			return [`Name: “${before}” → “${after}”`];
		case 'schedule':
			return [`Nightly run: ${schedule(before)} → ${schedule(after)}`];
		case 'limits': {
			const b = before as LinkConfig['limits'];
			const a = after as LinkConfig['limits'];
			return LIMIT_KINDS.filter((k) => !same(b[k], a[k])).map(
				(k) => `${REMOVALS[k]} staged above ${limit(b[k])} → ${limit(a[k])}`
			);
		}
		case 'match': {
			const b = before as LinkConfig['match'];
			const a = after as LinkConfig['match'];
			const lines: string[] = [];
			if (b.person !== a.person) lines.push(`People matched by ${fieldLabel(b.person)} → ${fieldLabel(a.person)}`);
			if (b.group !== a.group) lines.push(`Groups matched by ${groupMatch(b.group)} → ${groupMatch(a.group)}`);
			return lines;
		}
		case 'fieldMap':
			return [`Custom fields: ${mapping(before)} → ${mapping(after)}`];
		case 'authority': {
			const b = before as LinkConfig['authority'];
			const a = after as LinkConfig['authority'];
			return [`First sync, where values differ: ${names[b.default]}'s win → ${names[a.default]}'s win`];
		}
		case 'removeMode':
			return [`Someone who leaves is ${leaving(before)} → ${leaving(after)}`];
		case 'retentionDays':
			return [`Restorable for ${days(before)} → ${days(after)}, then anonymized`];
		default:
			return [`${change.field} changed`];
	}
}
