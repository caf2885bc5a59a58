/** Two-way people: a person removed on one side and added again there. */
import { describe, expect, test } from 'vitest';
import { fieldsOf, opLine, person, personEntry, run, twoWay } from '../support/factories';

describe('two-way: a person re-added on one side after removal', () => {
	test('is not created a second time on A: the removed record that holds its key is named in a conflict', () => {
		const removed = personEntry('a1', 'b1', fieldsOf({ displayName: 'Ann', email: 'ann@x.org' }), {
			lifecycle: { state: 'removed', removedAt: '2026-11-20T00:00:00.000Z', on: 'a' }
		});
		const r = run(
			twoWay(),
			{ people: [person('a1', 'Ann', { email: 'ann@x.org', active: false })] },
			{ people: [person('b2', 'Ann', { email: 'ann@x.org' })] },
			{ entries: [removed] }
		);
		// A's removed Ann still holds ann@x.org: a second Ann there is a person's call, never silent.
		expect(opLine(r)).not.toContain('create-person@a');
		expect(r.conflicts).toEqual([
			expect.objectContaining({
				reason: 'ambiguous-match',
				records: expect.arrayContaining([expect.objectContaining({ side: 'a', id: 'a1' })])
			})
		]);
	});
});
