/**
 * The demo seed shows what it promises (worker/sandbox/seed.ts): every situation and conflict
 * reason, reconciled by the core exactly as a link would, first on the seeded directories, then
 * after a run and the drift phase.
 */
import { describe, expect, it } from 'vitest';
import {
	Directory,
	commitBaseline,
	makeLink,
	reconcile,
	runPlan,
	parseSnapshot,
	type Baseline,
	type OpOutcome,
	type Reconciliation
} from '$lib/core';
import { CsvConnector } from '../../worker/connectors/csv';
import { DEMO_LINK, HR, OPS, TEAM, drift, hrExport, seedOps, seedTeam } from '../../worker/sandbox/seed';

const NOW = Date.parse('2026-11-21T12:00:00Z');
const link = (extra = {}) => makeLink({ id: 'demo', ...DEMO_LINK, ...extra });

function directories() {
	const strip = (records: ReturnType<typeof seedOps>) => ({
		...records,
		people: records.people.map(({ userName: _, ...p }) => p)
	});
	return {
		a: new Directory(OPS.id, strip(seedOps()), 'ops-new'),
		b: new Directory(TEAM.id, strip(seedTeam()), 'team-new')
	};
}

const reasons = (r: Reconciliation) => [...new Set(r.conflicts.map((c) => `${c.kind}:${c.reason}`))].sort();
const situations = (r: Reconciliation, kind: 'person' | 'group') =>
	Object.entries(r.counts[kind])
		.filter(([, n]) => n > 0)
		.map(([s]) => s)
		.sort();

describe('the demo seed', () => {
	it('is deterministic and valid for the core', () => {
		expect(JSON.stringify(seedOps())).toBe(JSON.stringify(seedOps()));
		expect(JSON.stringify(seedTeam())).toBe(JSON.stringify(seedTeam()));
		expect(hrExport().csv).toBe(hrExport().csv);
		const { a, b } = directories();
		for (const dir of [a, b]) {
			const snap = dir.snapshot();
			expect(() => parseSnapshot(snap, snap.system, snap.takenAt)).not.toThrow();
		}
		expect(a.people.size).toBe(220);
		expect(b.people.size).toBeGreaterThan(190);
		expect(a.groups.size + b.groups.size).toBeGreaterThan(30);
	});

	it('the first reconcile shows in-sync, update, create, ambiguous-match and name-collision', () => {
		const { a, b } = directories();
		const r = reconcile({
			link: link(),
			a: a.snapshot(),
			b: b.snapshot(),
			baseline: { linkId: 'demo', entries: [] },
			now: NOW
		});
		expect(situations(r, 'person')).toEqual(['conflict', 'create', 'in-sync', 'update']);
		expect(situations(r, 'group')).toEqual(['conflict', 'create', 'in-sync', 'update']);
		expect(reasons(r)).toEqual(['group:name-collision', 'person:ambiguous-match']);
		const ambiguous = r.conflicts
			.filter((c) => c.reason === 'ambiguous-match')
			.map((c) => c.records.map((x) => `${x.side}:${x.id}`).sort());
		expect(ambiguous).toEqual(
			expect.arrayContaining([
				['a:ops-p-050', 'a:ops-p-051', 'b:team-p-050'],
				['a:ops-p-042', 'b:team-p-042', 'b:team-p-042-old']
			])
		);
		const renamed = r.pairs
			.filter((p) => p.kind === 'group' && p.situation === 'update' && p.fields?.includes('name'))
			.map((p) => p.a);
		expect(renamed.sort()).toEqual(['ops-g-st-03', 'ops-g-st-05']);
		// rank ⇄ grade is mapped and compared.
		expect(r.pairs.find((p) => p.a === 'ops-p-018')?.fields).toContain('custom:rank');
		expect(r.counts.person['in-sync']).toBeGreaterThan(100);
	});

	it('after a run and the drift: both-changed, changed-vs-removed, update, remove, create; threshold under a low limit', async () => {
		const { a, b } = directories();
		const first = reconcile({
			link: link(),
			a: a.snapshot(),
			b: b.snapshot(),
			baseline: { linkId: 'demo', entries: [] },
			now: NOW
		});
		const outcomes = new Map<string, OpOutcome>();
		await runPlan(first.plan.ops, outcomes, {
			apply: { a: async (op, resolve) => a.apply(op, resolve), b: async (op, resolve) => b.apply(op, resolve) }
		});
		expect([...outcomes.values()].filter((o) => o.status === 'failed')).toEqual([]);
		const baseline: Baseline = commitBaseline(first.plan, outcomes);

		// Nothing moved: the second reconcile has nothing to do but the open conflicts.
		const calm = reconcile({ link: link(), a: a.snapshot(), b: b.snapshot(), baseline, now: NOW });
		expect(calm.plan.ops).toEqual([]);
		expect(reasons(calm)).toEqual(['group:name-collision', 'person:ambiguous-match']);

		const { ops, team } = drift();
		for (const op of ops) a.apply(op);
		for (const op of team) b.apply(op);
		const after = reconcile({ link: link(), a: a.snapshot(), b: b.snapshot(), baseline, now: NOW });
		expect(reasons(after)).toEqual([
			'group:name-collision',
			'person:ambiguous-match',
			'person:both-changed',
			'person:changed-vs-removed'
		]);
		expect(situations(after, 'person')).toEqual(['conflict', 'create', 'in-sync', 'remove', 'update']);
		expect(after.counts.person.remove).toBe(5);
		const both = after.conflicts
			.filter((c) => c.reason === 'both-changed')
			.map((c) => c.fields!.map((f) => f.field).join());
		expect(both.sort()).toEqual(['displayName', 'phone']);
		expect(
			after.conflicts
				.filter((c) => c.reason === 'changed-vs-removed')
				.map((c) => c.removedSide)
				.sort()
		).toEqual(['a', 'b']);
		expect(after.pairs.find((p) => p.kind === 'group' && p.b === 'team-g-st-04')).toMatchObject({
			situation: 'update',
			to: 'a'
		});

		const strict = reconcile({
			link: link({
				limits: {
					person: { count: 3, percent: 20 },
					group: { count: 500, percent: 20 },
					membership: { count: 500, percent: 20 }
				}
			}),
			a: a.snapshot(),
			b: b.snapshot(),
			baseline,
			now: NOW
		});
		expect(reasons(strict)).toContain('person:threshold');
	});

	it('the HR export is a valid roster for provisioning into Team Manager', async () => {
		const { csv, columns } = hrExport();
		const snap = await new CsvConnector({ systemId: HR.id, text: csv, columns }).read();
		expect(snap.people).toHaveLength(230);
		expect(new Set(snap.groups.map((g) => g.kind))).toEqual(new Set(['community', 'function']));
		expect(snap.people[0]).toMatchObject({
			externalId: 'E10000',
			memberType: expect.any(String),
			buildings: expect.any(Array),
			custom: { grade: expect.any(String) }
		});
		const team = directories().b.snapshot();
		const provision = reconcile({
			link: makeLink({ id: 'prov', name: 'HR → Team', mode: 'provision', systems: { a: HR.id, b: TEAM.id } }),
			a: snap,
			b: team,
			baseline: { linkId: 'prov', entries: [] },
			now: NOW
		});
		expect(provision.counts.person.create).toBeGreaterThan(0);
		expect(provision.plan.ops.some((o) => o.type === 'adopt-person')).toBe(true);
		expect(provision.plan.ops.some((o) => o.type === 'adopt-group')).toBe(true);
		expect(provision.plan.ops.some((o) => o.type === 'create-group')).toBe(true);
	});
});
