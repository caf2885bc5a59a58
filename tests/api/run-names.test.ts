/** Operations in words: names instead of ids, systems instead of sides, one line a case. */
import { describe, expect, test } from 'vitest';
import type { Op } from '../../src/lib/core';
import { collectNames, describeOp, type NameLookup } from '../../src/lib/api/run-names';

const systems = { a: 'HR export', b: 'Team Manager' };
const people: Record<string, string> = { 'b:t1': 'Eva Smit', 'b:t2': 'Jan Jansen' };
const groups: Record<string, string> = { 'b:tc1': 'Amsterdam', 'b:tc2': 'Utrecht' };
const lookup: NameLookup = {
	person: (side, id) => people[`${side}:${id}`],
	group: (side, id) => groups[`${side}:${id}`],
	created: (key) => (key === 'elsewhere' ? 'Piet Puk' : undefined)
};

const create: Op = {
	type: 'create-person',
	key: 'c1',
	side: 'b',
	step: 1,
	record: { displayName: 'Ida Nieuw', active: true }
};
const base = { side: 'b' as const, step: 2 };

describe('describeOp', () => {
	test.each([
		[create, 'Create', 'Ida Nieuw in Team Manager'],
		[{ ...base, type: 'invite', key: 'i1', person: { createdBy: 'c1' } }, 'Invite', 'Ida Nieuw to Team Manager'],
		[{ ...base, type: 'invite', key: 'i2', person: { createdBy: 'elsewhere' } }, 'Invite', 'Piet Puk to Team Manager'],
		[
			{ ...base, type: 'add-membership', key: 'm1', group: { id: 'tc2' }, person: { id: 't1' }, role: 'manager' },
			'Add to group',
			'Eva Smit to Utrecht in Team Manager as manager'
		],
		[
			{ ...base, type: 'remove-membership', key: 'm2', group: { id: 'tc1' }, person: { id: 't1' }, before: 'member' },
			'Remove from group',
			'Eva Smit from Amsterdam in Team Manager'
		],
		[
			{
				...base,
				type: 'notify-transfer',
				key: 'n1',
				person: { id: 't1' },
				from: ['Amsterdam'],
				to: ['Utrecht'],
				after: []
			},
			'Transfer notice',
			'Eva Smit in Team Manager: Amsterdam → Utrecht'
		],
		[
			{
				...base,
				type: 'remove-person',
				key: 'r1',
				target: { id: 't9' },
				soft: true,
				before: { id: 't9', displayName: 'Oud Lid', active: true },
				beforeMembers: []
			},
			'Deactivate',
			'Oud Lid in Team Manager (restorable)'
		],
		[{ ...base, type: 'restore-person', key: 'r2', target: { id: 't2' } }, 'Restore', 'Jan Jansen in Team Manager'],
		[
			{
				...base,
				type: 'update-person',
				key: 'u1',
				target: { id: 't2' },
				values: { email: 'j@x.org' },
				before: { email: null }
			},
			'Update',
			'Jan Jansen in Team Manager: email'
		],
		[
			{ ...base, side: 'a', type: 'restore-person', key: 'r3', target: { id: 'gone' } },
			'Restore',
			'person gone in HR export'
		]
	] as [Op, string, string][])('%#: %s', (op, action, text) => {
		const names = collectNames([create, op], lookup);
		expect(describeOp(op, names, systems)).toEqual({ action, text });
	});

	test('names come from the operations themselves before the latest read', () => {
		const removal: Op = {
			...base,
			type: 'remove-person',
			key: 'r',
			target: { id: 't1' },
			soft: false,
			before: { id: 't1', displayName: 'Eva (as removed)', active: true },
			beforeMembers: []
		};
		const names = collectNames([removal], lookup);
		expect(names.people.b.t1).toBe('Eva (as removed)');
	});
});
