import { describe, expect, it } from 'vitest';
import { makeLink } from '$lib/core/link';
import { linkChanges } from '$lib/core/link-change';
import {
	cannotDeactivate,
	describeChange,
	draftOf,
	matchOptions,
	patchOf,
	whenLeaving
} from '$lib/components/link-settings';
import type { SystemCapabilities } from '$lib/api/types';

const link = makeLink({
	id: 'l1',
	name: 'Ops ⇄ Team',
	mode: 'two-way',
	systems: { a: 'ops', b: 'team' },
	fieldMap: [{ a: 'rank', b: 'grade' }],
	schedule: { timeZone: 'Europe/Oslo', hour: 2, enabled: true }
});
const names = { a: 'Operations Center', b: 'Team Manager' };

describe('the settings screen', () => {
	it('an untouched draft asks for nothing', () => {
		expect(patchOf(link, draftOf(link))).toEqual({});
	});

	it('asks for exactly what the draft changes', () => {
		const draft = draftOf(link);
		draft.hour = 3;
		draft.personMatch = 'employeeNumber';
		draft.limits.person = { count: 50, percent: 5 };
		draft.authority = 'b';
		draft.fieldMap.push({ a: 'badge', b: '' }); // half a mapping is not asked for
		draft.retentionDays = 14;
		expect(patchOf(link, draft)).toEqual({
			schedule: { timeZone: 'Europe/Oslo', hour: 3, enabled: true },
			limits: { ...link.limits, person: { count: 50, percent: 5 } },
			match: { person: 'employeeNumber', group: 'externalId' },
			authority: { default: 'b', fields: {} },
			retentionDays: 14
		});
		draft.removeMode = 'delete';
		expect(patchOf(link, draft)).toMatchObject({ removeMode: 'delete', retentionDays: 14 });
	});

	it('offers the standard match fields and each mapped custom field', () => {
		expect(matchOptions(link.fieldMap)).toEqual([
			'externalId',
			'email',
			'employeeNumber',
			'displayName',
			'custom:rank'
		]);
	});

	it.each([
		[{ name: 'Ops and Team' }, ['Name: “Ops ⇄ Team” → “Ops and Team”']],
		[
			{ schedule: { timeZone: 'UTC', hour: 4, enabled: true } },
			['Nightly run: 02:00 nightly, Europe/Oslo → 04:00 nightly, UTC']
		],
		[
			{ schedule: { timeZone: 'Europe/Oslo', hour: 2, enabled: false } },
			['Nightly run: 02:00 nightly, Europe/Oslo → no nightly run']
		],
		[
			{ limits: { ...link.limits, group: { count: 5, percent: 1 } } },
			['Group removals staged above 500 or 20 % → 5 or 1 %']
		],
		[
			{ match: { person: 'custom:rank', group: 'name' } },
			['People matched by Email → rank (custom)', 'Groups matched by identifier → identifier, then name']
		],
		[{ fieldMap: [] }, ['Custom fields: rank → grade → none']],
		[
			{ authority: { default: 'b', fields: {} } },
			["First sync, where values differ: Operations Center's win → Team Manager's win"]
		],
		[{ removeMode: 'delete' }, ['Someone who leaves is deactivated, restorable → deleted, not restorable']],
		[{ retentionDays: 1 }, ['Restorable for 30 days → 1 day, then anonymized']]
	] as const)('%o in words', (patch, words) => {
		const changes = linkChanges(link, { ...link, ...patch } as typeof link);
		expect(changes.flatMap((c) => describeChange(c, names))).toEqual(words);
	});
});

describe('removals a system cannot hold', () => {
	const caps = (over: Partial<SystemCapabilities>): SystemCapabilities => ({
		personFields: [],
		customFields: [],
		groups: true,
		roles: true,
		write: true,
		softRemove: true,
		...over
	});
	const noActive = caps({ softRemove: false });

	it.each([
		['a provisioning target that cannot deactivate', 'provision', { a: caps({}), b: noActive }, ['b']],
		['a provisioning source that cannot (it is never written)', 'provision', { a: noActive, b: caps({}) }, []],
		['either side of a two-way link', 'two-way', { a: noActive, b: noActive }, ['a', 'b']],
		['a read-only side (a CSV export)', 'two-way', { a: caps({ write: false, softRemove: false }) }, []],
		['a side that did not answer', 'provision', {}, []]
	] as const)('%s', (_, mode, capabilities, sides) => {
		expect(cannotDeactivate({ mode, kinds: ['person', 'group'] }, capabilities)).toEqual(sides);
	});

	it.each([
		['deactivate', 30, 'deactivated, restorable for 30 days, then anonymized'],
		['deactivate', 1, 'deactivated, restorable for 1 day, then anonymized'],
		['delete', 30, 'deleted at once, not restorable']
	] as const)('%s (%d days) in the setup summary', (mode, days, words) => {
		expect(whenLeaving(mode, days)).toBe(words);
	});

	it('a link of groups only removes no one', () => {
		expect(cannotDeactivate({ mode: 'provision', kinds: ['group'] }, { b: noActive })).toEqual([]);
	});
});
