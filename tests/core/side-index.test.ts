/** The side index: memberships by group, and by person for the people about to be removed. */
import { describe, expect, test } from 'vitest';
import { groupsOfPerson, indexMembers, indexSnapshot, membersOf, stretchOf } from '../../src/lib/core/side-index';
import { group, member, person } from '../support/factories';
import type { Membership } from '../../src/lib/core';

// As a system lists them, not through Directory (which would tidy the list).
const side = (memberships: Membership[]) =>
	indexSnapshot({
		system: 'A',
		takenAt: '2026-11-21T12:00:00Z',
		version: 'v1',
		people: [person('p1', 'P1'), person('p2', 'P2')],
		groups: [group('g1', 'G1'), group('g2', 'G2')],
		memberships
	});

describe('indexMembers', () => {
	test.each([
		['listed group by group', [member('g1', 'p1'), member('g1', 'p2'), member('g2', 'p1', 'manager')]],
		['listed person by person', [member('g1', 'p1'), member('g2', 'p1', 'manager'), member('g1', 'p2')]],
		// p1's groups come in the order the groups first appear (g1 before g2), not p1's own order.
		[
			'a person listed before a group’s first member',
			[member('g1', 'p2'), member('g2', 'p1', 'manager'), member('g1', 'p1')]
		],
		// Listed twice: one membership, holding its last role.
		[
			'one membership listed twice',
			[member('g1', 'p1', 'manager'), member('g1', 'p2'), member('g2', 'p1', 'manager'), member('g1', 'p1')]
		]
	])('%s: by group and, for the people asked, by person', (_case, memberships) => {
		const index = side(memberships);
		indexMembers(index, new Set(['p1']));
		expect([...membersOf(index, 'g1')]).toEqual(
			expect.arrayContaining([
				['p1', 'member'],
				['p2', 'member']
			])
		);
		expect(membersOf(index, 'g1').size).toBe(2);
		expect(membersOf(index, 'g2')).toEqual(new Map([['p1', 'manager']]));
		expect(groupsOfPerson(index, 'p1')).toEqual([
			{ groupId: 'g1', role: 'member' },
			{ groupId: 'g2', role: 'manager' }
		]);
		// Not asked about: no memberships by person.
		expect(groupsOfPerson(index, 'p2')).toEqual([]);
	});

	test('asked again once built: the people not indexed yet are found by a walk', () => {
		const index = side([member('g1', 'p1'), member('g1', 'p2', 'manager'), member('g2', 'p2')]);
		expect(membersOf(index, 'g1').size).toBe(2); // built on first use, for nobody
		indexMembers(index, new Set(['p2']));
		expect(groupsOfPerson(index, 'p2')).toEqual([
			{ groupId: 'g1', role: 'manager' },
			{ groupId: 'g2', role: 'member' }
		]);
		indexMembers(index, new Set(['p1', 'p2']));
		expect(groupsOfPerson(index, 'p1')).toEqual([{ groupId: 'g1', role: 'member' }]);
		// p2 was indexed already: not listed twice.
		expect(groupsOfPerson(index, 'p2')).toHaveLength(2);
	});

	test('a group with no members', () => {
		const index = side([]);
		expect(membersOf(index, 'g1').size).toBe(0);
	});

	test.each([
		['group by group', [member('g1', 'p1'), member('g1', 'p2'), member('g2', 'p1')], { g1: [0, 2], g2: [2, 3] }],
		['a group with none', [member('g2', 'p1')], { g1: [0, 0], g2: [0, 1] }],
		// g1 listed apart: no stretch for any group, and membersOf indexes them all at once.
		['a group listed apart', [member('g1', 'p1'), member('g2', 'p1'), member('g1', 'p2')], undefined]
	])('stretches, %s', (_case, memberships, expected) => {
		const index = side(memberships);
		const found = (id: string) => {
			const s = stretchOf(index, id);
			return s && [s.start, s.end];
		};
		expect(expected ? { g1: found('g1'), g2: found('g2') } : found('g1')).toEqual(expected);
		expect(membersOf(index, 'g1').size).toBe(memberships.filter((m) => m.groupId === 'g1').length);
	});
});
