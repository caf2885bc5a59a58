/**
 * The journal, the outcomes and the baseline go by operation key: a plan whose rows carry one key
 * twice (two parts' operations meeting under one digest) is refused as a whole, never stored.
 */
import { env, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { makeLink, PartMerger, STEP, type MergedParts, type Op } from '$lib/core';
import type { LinkDO } from '../../worker/link/link-do';
import { LinkStore } from '../../worker/link/store';

const link = makeLink({ id: 'lnk_keys', name: 'keys', mode: 'two-way', systems: { a: 'A', b: 'B' } });
const membership = (person: string): Op => ({
	key: 'add-membership:b:0123456789abcdef',
	type: 'add-membership',
	side: 'b',
	step: STEP.memberships,
	group: { id: 'g1' },
	person: { id: person },
	role: 'member'
});

/** `ops` written as the parts of a plan in a link's own store (one part each), and merged. */
async function planned(name: string, ops: Op[], check: (store: LinkStore, merged: MergedParts) => void) {
	await runInDurableObject(env.LINKS.getByName(name), async (_: LinkDO, state) => {
		const store = new LinkStore(state.storage, link.id);
		store.migrate();
		store.plan.begin();
		const merger = new PartMerger(link, [], store.baseline.ownedCounts(), store.plan);
		ops.forEach((op, part) => store.plan.op(op, part));
		check(store, merger.finish());
	});
}

describe('a plan whose operations share a key', () => {
	it('is refused, and the link keeps no plan', () =>
		planned('plan-keys', [membership('p1'), membership('p2')], (store, merged) => {
			expect(() => store.plan.finish(merged, () => 0, 0)).toThrow(
				'Two operations of the plan share the key "add-membership:b:0123456789abcdef"'
			);
			expect(store.plan.meta()).toBeUndefined();
			expect(store.plan.tag()).toBeUndefined();
		}));

	it('is stored when every key is its own', () =>
		planned(
			'plan-keys-ok',
			[membership('p1'), { ...membership('p2'), key: 'add-membership:b:fedcba9876543210' }],
			(store, merged) => {
				store.plan.finish(merged, () => 0, 0);
				expect(store.plan.meta()?.counts.total).toBe(2);
				expect(store.plan.tag()).toMatch(/^[0-9a-f-]{36}$/);
			}
		));
});
