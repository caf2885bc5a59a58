/** Which link settings a change may touch: one line a case. */
import { describe, expect, test } from 'vitest';
import { linkChangeIssues, makeLink, patchedLink, scheduleMoved } from '../../src/lib/core';

const link = makeLink({ id: 'L1', name: 'HR → Team', mode: 'provision', systems: { a: 'HR', b: 'T' } });

describe('linkChangeIssues', () => {
	test.each<[string, Record<string, unknown>, boolean, string[]]>([
		['a new name', { name: 'Renamed' }, true, []],
		['a new schedule while synced', { schedule: { timeZone: 'UTC', hour: 3, enabled: true } }, true, []],
		['the same id and systems', { id: 'L1', systems: { a: 'HR', b: 'T' } }, true, []],
		['another id', { id: 'L2' }, false, ['id']],
		['other systems', { systems: { a: 'HR', b: 'X' } }, false, ['systems']],
		['the enabled flag', { enabled: true }, false, ['enabled']],
		['the same enabled flag', { enabled: false }, false, []],
		['the mode before the first sync', { mode: 'two-way' }, false, []],
		['the mode once records were synced', { mode: 'two-way' }, true, ['mode']],
		['several at once', { id: 'L2', enabled: true, mode: 'two-way' }, true, ['id', 'enabled', 'mode']]
	])('%s (synced: %s)', (_case, patch, synced, fields) => {
		expect(linkChangeIssues(link, patch, { synced }).map((i) => i.field)).toEqual(fields);
	});
});

describe('patchedLink', () => {
	test('keeps the settings a patch may not change', () => {
		const next = patchedLink(link, { name: 'New', id: 'L2', systems: { a: 'x', b: 'y' }, enabled: true });
		expect(next).toMatchObject({ name: 'New', id: 'L1', systems: { a: 'HR', b: 'T' }, enabled: false });
	});
});

describe('scheduleMoved', () => {
	test.each<[string, Partial<typeof link.schedule>, boolean]>([
		['the same schedule', {}, false],
		['another hour', { hour: 3 }, true],
		['another time zone', { timeZone: 'Europe/Oslo' }, true],
		['nightly runs off', { enabled: false }, true]
	])('%s → %s', (_case, change, moved) => {
		expect(scheduleMoved(link, { ...link, schedule: { ...link.schedule, ...change } })).toBe(moved);
	});
});
