/**
 * The plan production runs is the plan the core's property checks: over generated directories,
 * edits and answers, the edge's own path (scan into SQLite, reconcile in parts, assemble with the
 * core's assemblePlan over the SQLite PlanRows, stream the plan back) gives what one reconcile
 * gives. tests/core/parts.test.ts runs the same property over the in-memory PlanRows.
 */
import { env, runInDurableObject } from 'cloudflare:test';
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import {
	Directory,
	makeLink,
	PERSON_FIELDS,
	reconcile,
	ReconcileError,
	type Baseline,
	type LinkConfig,
	type Reconciliation,
	type Resolution,
	type Snapshot
} from '$lib/core';
import type { Capabilities, Connector } from '../../worker/connectors/types';
import type { LinkDO } from '../../worker/link/link-do';
import { planLink, SourceError } from '../../worker/link/planning';
import { LinkStore } from '../../worker/link/store';
import { applyPlan } from '../support/apply';
import { arbEdits, arbSide, edit, LINKS } from '../support/arbitraries';
import { NOW } from '../support/factories';
import { answer, normalized, type Answer } from '../support/plans';

const TIGHT = { count: 1, percent: 100 };
const TIGHT_LIMITS = { person: TIGHT, group: TIGHT, membership: TIGHT };
/**
 * Tight limits stage removals, the assembly's hardest part: weighted up, since each case here costs
 * a Durable Object and a few SQLite transactions (the in-memory property runs 300 cases).
 */
const arbLink = fc.oneof(
	{ arbitrary: fc.constantFrom(...LINKS), weight: 2 },
	{
		arbitrary: fc.constantFrom(
			makeLink({ id: 'L', name: 'two-way, tight', mode: 'two-way', systems: { a: 'A', b: 'B' }, limits: TIGHT_LIMITS }),
			makeLink({
				id: 'Q',
				name: 'provision, tight',
				mode: 'provision',
				systems: { a: 'A', b: 'B' },
				limits: TIGHT_LIMITS
			})
		),
		weight: 3
	}
);
const ANSWERS: Answer[] = ['take-a', 'take-b', 'ignore', 'create-new', 'approve-deletes', 'link', 'none'];

/** What a system holds: every standard field and the custom fields its people carry. */
function held(s: Snapshot): Pick<Capabilities, 'personFields' | 'customFields'> {
	const custom = new Set<string>();
	for (const p of s.people) for (const k of Object.keys(p.custom ?? {})) custom.add(k);
	return { personFields: [...PERSON_FIELDS], customFields: [...custom].sort() };
}

const withFields = (s: Snapshot): Snapshot => {
	const h = held(s);
	return { ...s, fields: [...h.personFields, ...h.customFields.map((n) => `custom:${n}`)] };
};

/** A connector that reads whole: what a CSV export does at the edge. */
const fake = (s: Snapshot): Connector =>
	({
		kind: 'sandbox',
		discover: async () => ({ ...held(s) }) as Capabilities,
		capabilities: () => ({ ...held(s) }) as Capabilities,
		read: async () => s,
		apply: async () => {
			throw new Error('a plan is never applied here');
		}
	}) as unknown as Connector;

/** One link Durable Object for every case: a new one per case would cost most of the run. */
const stub = env.LINKS.getByName(`property-${crypto.randomUUID()}`);

/** The edge's plan for these inputs, made with `peoplePerPart` people a part. */
async function edgePlan(
	link: LinkConfig,
	a: Snapshot,
	b: Snapshot,
	baseline: Baseline,
	resolutions: Resolution[],
	peoplePerPart: number
): Promise<Reconciliation | 'refused'> {
	return runInDurableObject(stub, async (_instance: LinkDO, state) => {
		const store = new LinkStore(state.storage, link.id);
		store.migrate();
		// The previous case's baseline and guards go; snapshots and plan are replaced by planning itself.
		state.storage.sql.exec('DELETE FROM baseline');
		state.storage.sql.exec('DELETE FROM meta');
		for (const e of baseline.entries) store.baseline.insert(e);
		const systems: Record<string, Snapshot> = { [link.systems.a]: a, [link.systems.b]: b };
		try {
			await planLink(
				{ store, config: link, connector: async (id) => fake(systems[id]), now: () => NOW, peoplePerPart },
				{ resolutions }
			);
		} catch (e) {
			if (e instanceof SourceError) return 'refused' as const;
			throw e;
		}
		return JSON.parse(await new Response(store.plan.text()).text()) as Reconciliation;
	});
}

function coreAnswer(input: Parameters<typeof reconcile>[0]): Reconciliation | 'refused' {
	try {
		return reconcile(input);
	} catch (e) {
		if (e instanceof ReconcileError) return 'refused';
		throw e;
	}
}

async function expectSame(
	link: LinkConfig,
	a0: Snapshot,
	b0: Snapshot,
	baseline: Baseline,
	resolutions: Resolution[],
	peoplePerPart: number
) {
	const [a, b] = [withFields(a0), withFields(b0)];
	const whole = coreAnswer({ link, a, b, baseline, resolutions, now: NOW });
	const edge = await edgePlan(link, a, b, baseline, resolutions, peoplePerPart);
	if (whole === 'refused' || edge === 'refused') {
		expect(edge === 'refused').toBe(whole === 'refused');
		return;
	}
	expect(normalized(edge)).toEqual(normalized(whole));
}

describe('the edge plan (SQLite PlanRows) equals reconcile', () => {
	test.prop(
		[
			arbLink,
			arbSide('a'),
			arbSide('b'),
			arbEdits,
			fc.integer({ min: 1, max: 6 }),
			fc.array(fc.constantFrom(...ANSWERS), { minLength: 8, maxLength: 8 })
		],
		{ numRuns: 300 }
	)(
		'before and after a run, and with answers to its conflicts',
		async (link, a0, b0, edits, perPart, picks) => {
			const dirs = { a: new Directory('A', a0), b: new Directory('B', b0) };
			const empty: Baseline = { linkId: link.id, entries: [] };
			await expectSame(link, dirs.a.snapshot(), dirs.b.snapshot(), empty, [], perPart);
			const first = coreAnswer({
				link,
				a: withFields(dirs.a.snapshot()),
				b: withFields(dirs.b.snapshot()),
				baseline: empty,
				now: NOW
			});
			if (first === 'refused') return;
			const { baseline } = await applyPlan(first.plan, dirs.a, dirs.b);
			edit(dirs, edits);
			const [a, b] = [dirs.a.snapshot(), dirs.b.snapshot()];
			await expectSame(link, a, b, baseline, [], perPart);
			const second = coreAnswer({ link, a: withFields(a), b: withFields(b), baseline, now: NOW });
			if (second === 'refused') return;
			const resolutions = second.conflicts.flatMap((c, i) => answer(c, picks[i % picks.length]) ?? []);
			await expectSame(link, a, b, baseline, resolutions, perPart);
		},
		180_000
	);
});
