import { describe, expect, it } from 'vitest';
import { changesPlan, linkChanges } from '$lib/core/link-change';
import { makeLink } from '$lib/core/link';

const link = makeLink({ id: 'l1', name: 'Ops ⇄ Team', mode: 'two-way', systems: { a: 'ops', b: 'team' } });

describe('what a link change changes', () => {
	it.each([
		['nothing', {}, [], false],
		['the name only', { name: 'Ops and Team' }, ['name'], false],
		['the schedule only', { schedule: { ...link.schedule, timeZone: 'Europe/Oslo' } }, ['schedule'], false],
		['the match field', { match: { ...link.match, person: 'employeeNumber' } }, ['match'], true],
		['the limits', { limits: { ...link.limits, person: { count: 10, percent: 5 } } }, ['limits'], true],
		['the field map', { fieldMap: [{ a: 'rank', b: 'grade' }] }, ['fieldMap'], true],
		['the first-sync side', { authority: { default: 'b', fields: {} } }, ['authority'], true],
		['name and schedule', { name: 'X', schedule: { ...link.schedule, hour: 3 } }, ['name', 'schedule'], false],
		[
			'schedule and match',
			{ schedule: { ...link.schedule, hour: 3 }, match: { ...link.match, person: 'displayName' } },
			['match', 'schedule'],
			true
		]
	] as const)('%s', (_, patch, fields, replans) => {
		const changes = linkChanges(link, { ...link, ...patch } as typeof link);
		expect(changes.map((c) => c.field).sort()).toEqual([...fields].sort());
		expect(changesPlan(changes)).toBe(replans);
	});

	it('names the values before and after', () => {
		expect(linkChanges(link, { ...link, retentionDays: 7 })).toEqual([
			{ field: 'retentionDays', before: 30, after: 7 }
		]);
	});

	it('never lists the settings a change cannot touch', () => {
		const other = { ...link, id: 'l2', systems: { a: 'x', b: 'y' }, enabled: true };
		expect(linkChanges(link, other)).toEqual([]);
	});
});
