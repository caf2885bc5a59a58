/** What a run, an undo or an approval will do, as the confirmation sheet shows it. */
import { describe, expect, test } from 'vitest';
import { irreversibleReason, previewOps, STEP, type Op } from '../../src/lib/core';

const ada = { id: 'b1', displayName: 'Ada Berg', active: true };
const OPS: Op[] = [
	{ key: 'c1', type: 'create-person', side: 'b', step: STEP.people, record: { displayName: 'Bo Dahl', active: true } },
	{
		key: 'm1',
		type: 'add-membership',
		side: 'b',
		step: STEP.memberships,
		group: { id: 'g1' },
		person: { createdBy: 'c1' },
		role: 'member'
	},
	{
		key: 'm2',
		type: 'add-membership',
		side: 'b',
		step: STEP.memberships,
		group: { id: 'g1' },
		person: { id: 'b1' },
		role: 'member'
	},
	{ key: 'i1', type: 'invite', side: 'b', step: STEP.notices, person: { createdBy: 'c1' } },
	{
		key: 'r1',
		type: 'remove-person',
		side: 'b',
		step: STEP.peopleRemovals,
		target: { id: 'b1' },
		soft: true,
		before: ada,
		beforeMembers: []
	},
	{
		key: 'r2',
		type: 'remove-person',
		side: 'b',
		step: STEP.peopleRemovals,
		target: { id: 'b2' },
		soft: false,
		before: { ...ada, id: 'b2', displayName: 'Cy Eng' },
		beforeMembers: [],
		staged: true
	},
	{
		key: 'x1',
		type: 'anonymize-person',
		side: 'b',
		step: STEP.peopleRemovals,
		target: { id: 'b3' },
		values: {},
		before: { ...ada, id: 'b3', displayName: 'Di Fox' }
	}
];
const byKey = new Map(OPS.map((op) => [op.key, op]));

describe('irreversible operations', () => {
	test.each([
		['c1', undefined],
		['m1', undefined],
		['i1', 'a notice that was sent cannot be unsent'],
		['r1', undefined],
		['r2', 'deleted, not deactivated: an undo creates a new account with the same values'],
		['x1', 'anonymization is irreversible by design']
	])('%s: %s', (key, reason) => {
		expect(irreversibleReason(byKey.get(key)!)).toBe(reason);
	});
});

describe('previewOps', () => {
	test('counts every operation, lists the ones that run, says what cannot be reversed (staged ones excepted)', () => {
		const p = previewOps(OPS, { limit: 3 });
		expect(p.counts).toMatchObject({ total: 7, staged: 1, byType: { 'add-membership': 2, 'remove-person': 2 } });
		expect(p.ops.map((o) => o.key)).toEqual(['c1', 'm1', 'm2']);
		expect(p.more).toBe(3);
		expect(p.irreversible).toEqual([
			{ type: 'invite', reason: 'a notice that was sent cannot be unsent', count: 1 },
			{ type: 'anonymize-person', reason: 'anonymization is irreversible by design', count: 1 }
		]);
		expect(previewOps(OPS).digest).not.toBe(previewOps(OPS.slice(1)).digest);
	});
});
