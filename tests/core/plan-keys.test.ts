/**
 * Operation keys name what an operation does, and the journal, the outcomes and the baseline all
 * go by them: two operations must never share one. A large plan is built in parts, each with its
 * own builder, so only the digest keeps keys apart across parts.
 */
import { describe, expect, it } from 'vitest';
import { STEP } from '../../src/lib/core';
import { PlanBuilder } from '../../src/lib/core/plan';

const membership = (group: string, person: string) =>
	({
		type: 'add-membership',
		side: 'b',
		step: STEP.memberships,
		group: { id: group },
		person: { id: person },
		role: 'member'
	}) as const;

describe('operation keys', () => {
	it('are the same for the same operation, planned twice', () => {
		const draft = membership('g1', 'p1');
		expect(new PlanBuilder('lnk').add(draft)).toBe(new PlanBuilder('lnk').add(draft));
	});

	it('stay with their operation when one draft is added twice', () => {
		// The builder keeps a draft as its operation; a second add must not re-key the first.
		const builder = new PlanBuilder('lnk');
		const draft = membership('g1', 'p1');
		const first = builder.add(draft);
		const second = builder.add(draft);
		expect(second).toBe(`${first}#2`);
		expect(builder.ops.map((op) => op.key)).toEqual([first, second]);
	});

	it('differ for two memberships planned in different parts whose 32-bit digests collide', () => {
		// Found among 300k memberships of a 100k-person first provisioning (bench: edge-first-provision-100k),
		// where such pairs shared an outcome and one of the two was never written.
		const one = new PlanBuilder('lnk_bench').add(membership('g4364', 'p64364'));
		const other = new PlanBuilder('lnk_bench').add(membership('g2153', 'p62153'));
		expect(one).not.toBe(other);
		// The first 32 bits of the digest are what keys were before: equal for these two.
		const digest = (key: string) => key.split(':')[2];
		expect(digest(one).slice(0, 8)).toBe(digest(other).slice(0, 8));
	});

	it('are told apart within one builder when equal', () => {
		const builder = new PlanBuilder('lnk');
		const first = builder.add(membership('g1', 'p1'));
		expect(builder.add(membership('g1', 'p1'))).toBe(`${first}#2`);
	});
});
