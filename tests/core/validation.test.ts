/** Input validation: every problem named by system, record and field; nothing half-accepted. */
import { describe, expect, test } from 'vitest';
import {
	makeLink,
	MAX_ISSUES,
	parseLinkConfig,
	parseResolutions,
	parseSnapshot,
	SnapshotParser,
	ValidationError
} from '../../src/lib/core';

const issuesOf = (fn: () => unknown) => {
	try {
		fn();
	} catch (e) {
		if (e instanceof ValidationError)
			return e.issues.map((i) => `${i.system ?? ''}|${i.record}|${i.field}|${i.message}`);
		throw e;
	}
	return [];
};

describe('parseSnapshot', () => {
	test('normalizes: NFC, trimmed, emails lower-cased, buildings as a sorted set', () => {
		const s = parseSnapshot(
			{
				people: [
					{ id: 'p1', displayName: ' Jose\u0301 ', email: ' Jose@X.org ', active: true, buildings: ['B', 'A', 'B'] }
				]
			},
			'Ops',
			'2026-01-01T00:00:00Z'
		);
		expect(s.people[0]).toEqual({
			id: 'p1',
			displayName: 'Jos\u00e9',
			email: 'jose@x.org',
			active: true,
			buildings: ['A', 'B']
		});
		expect(s.version).toMatch(/^[0-9a-f]{16}$/);
	});

	test('the same records in another order have the same version', () => {
		const p = [
			{ id: 'p1', displayName: 'A', active: true },
			{ id: 'p2', displayName: 'B', active: true }
		];
		expect(parseSnapshot({ people: p }, 'S', 't').version).toBe(
			parseSnapshot({ people: [...p].reverse() }, 'S', 't').version
		);
	});

	test('every bad record is named with its field, and no snapshot comes out', () => {
		const issues = issuesOf(() =>
			parseSnapshot(
				{
					people: [
						{ id: 'p1', displayName: 'Ok', active: true },
						{ id: 'p2', displayName: 'Bad mail', email: 'nope', active: true },
						{ id: 'p3', displayName: '', active: 'yes' },
						{ displayName: 'No id', active: true },
						{ id: 'p1', displayName: 'Twin', active: true }
					],
					groups: [{ id: 'g1', name: 'G', kind: 'team' }],
					memberships: [{ groupId: 'g9', personId: 'p1', role: 'member' }]
				},
				'Operations Center',
				't'
			)
		);
		expect(issues).toEqual([
			'Operations Center|person "p2"|email|is not an email address',
			'Operations Center|person "p3"|displayName|must not be empty',
			'Operations Center|person "p3"|active|must be true or false',
			expect.stringMatching(/^Operations Center\|people\[3\]\|id\|/),
			'Operations Center|person "p1"|id|is used by another person',
			'Operations Center|group "g1"|kind|must be one of group, community, function, message-group',
			'Operations Center|membership of "p1" in "g9"|groupId|names no group of this snapshot'
		]);
	});
});

describe('SnapshotParser (the edge validates each page as it arrives)', () => {
	test('pages give what one whole snapshot gives: normalized records, problems named across pages', () => {
		const parser = new SnapshotParser('HR export');
		const people = [
			...parser.people([{ id: 'p1', displayName: ' Zoe\u0308 ', email: 'ZOE@X.ORG', active: true }]),
			...parser.people([
				{ id: 'p1', displayName: 'Again', active: true },
				{ id: 'p2', displayName: 'Jose\u0301', active: true }
			])
		];
		expect(people).toEqual([
			{ id: 'p1', displayName: 'Zoë', email: 'zoe@x.org', active: true },
			{ id: 'p2', displayName: 'José', active: true }
		]);
		parser.groups([{ id: 'g1', name: 'Ops', kind: 'group' }]);
		expect(
			parser.memberships([
				{ groupId: 'g1', personId: 'p2', role: 'member' },
				{ groupId: 'g1', personId: 'nobody', role: 'member' }
			])
		).toEqual([{ groupId: 'g1', personId: 'p2', role: 'member' }]);
		expect(() => parser.finish()).toThrow(ValidationError);
		try {
			parser.finish();
		} catch (e) {
			expect((e as ValidationError).issues.map((i) => `${i.record}|${i.field}`)).toEqual([
				'person "p1"|id',
				'membership of "nobody" in "g1"|personId'
			]);
		}
	});

	test('a huge bad input lists the first MAX_ISSUES problems and counts the rest', () => {
		const parser = new SnapshotParser('HR export');
		parser.people(Array.from({ length: 250 }, (_, i) => ({ id: `p${i}`, displayName: '', active: true })));
		let error: ValidationError | undefined;
		try {
			parser.finish();
		} catch (e) {
			error = e as ValidationError;
		}
		expect(error?.issues).toHaveLength(MAX_ISSUES);
		expect(error?.message).toContain('250 problems');
	});
});

describe('parseLinkConfig', () => {
	test('fills the defaults a new link starts with', () => {
		const link = makeLink({ id: 'L', name: 'L', mode: 'provision', systems: { a: 'HR', b: 'T' } });
		expect(link).toMatchObject({
			kinds: ['group', 'person'],
			match: { person: 'email', group: 'externalId' },
			schedule: { timeZone: 'UTC', hour: 2, enabled: true },
			limits: { person: { count: 500, percent: 20 } },
			retentionDays: 30,
			removeMode: 'deactivate',
			enabled: false
		});
	});

	test.each([
		[{ id: 'L', name: 'L', mode: 'sideways', systems: { a: 'A', b: 'B' } }, 'mode'],
		[{ id: 'L', name: 'L', mode: 'two-way', systems: { a: 'A', b: 'A' } }, 'systems'],
		[
			{ id: 'L', name: 'L', mode: 'two-way', systems: { a: 'A', b: 'B' }, schedule: { timeZone: 'Mars/Olympus' } },
			'schedule.timeZone'
		],
		[
			{ id: 'L', name: 'L', mode: 'two-way', systems: { a: 'A', b: 'B' }, match: { person: 'shoeSize' } },
			'match.person'
		],
		[
			{
				id: 'L',
				name: 'L',
				mode: 'two-way',
				systems: { a: 'A', b: 'B' },
				limits: { person: { count: -1, percent: 20 } }
			},
			'limits.person.count'
		]
	])('names the bad field (%#)', (input, field) => {
		expect(issuesOf(() => parseLinkConfig(input)).some((i) => i.startsWith(`|link "L"|${field}|`))).toBe(true);
	});
});

describe('parseResolutions', () => {
	test('a link choice needs the two records', () => {
		expect(issuesOf(() => parseResolutions([{ conflictId: 'c1', choice: 'link', against: [] }]))).toEqual([
			'|resolution of "c1"|link|is required to link two records'
		]);
	});
	test('an unknown choice is refused', () => {
		expect(issuesOf(() => parseResolutions([{ conflictId: 'c1', choice: 'guess', against: [] }]))[0]).toMatch(
			/^\|resolution of "c1"\|choice\|/
		);
	});
});
