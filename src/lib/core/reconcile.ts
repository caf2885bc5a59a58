/**
 * Reconciliation: both snapshots and the baseline in, every pair's situation, the conflicts that
 * need a person, and the plan out. Pure: the browser's preview and the edge's run are the same call.
 */
import { ReconcileContext, type PairView, type RuleOwned } from './context';
import { settleGroups } from './memberships';
import type { Baseline, Collision, Conflict, LinkConfig, RecordKind, Resolution, Situation, Snapshot } from './model';
import { SITUATIONS } from './model';
import { reconcileGroups } from './groups';
import { fillJournals, reconcilePeople } from './people';
import { countOps, type Plan } from './plan';
import { prepareResolutions, type StaleResolution } from './resolutions';
import { applyLimits, assertUsable } from './safety';
import { writableFields, type WritableFields } from './fields';
import { indexSnapshot } from './side-index';
import { accessVia, NO_ACCESS, planAccess } from './access';

export interface ReconcileInput {
	link: LinkConfig;
	a: Snapshot;
	b: Snapshot;
	baseline: Baseline;
	resolutions?: readonly Resolution[];
	/** Epoch milliseconds: the clock, passed in. */
	now: number;
	/**
	 * This is one part of a larger reconciliation (see parts.ts): the whole's checks and limits are
	 * the caller's, over every part; `createdElsewhere` holds the create keys of earlier parts.
	 */
	part?: { createdElsewhere: Set<string> };
	/** Creates the other side refused last time (see Collision). */
	collisions?: readonly Collision[];
	/** Memberships rules own on each side: never removed nor re-roled by the link (see RuleOwned). */
	ruleOwned?: RuleOwned;
}

export type SituationCounts = Record<RecordKind, Record<Situation, number>>;

export interface Reconciliation {
	linkId: string;
	versions: { a: string; b: string };
	pairs: PairView[];
	conflicts: Conflict[];
	/** Resolutions whose records changed since they were made: for another look, not applied. */
	stale: StaleResolution[];
	/** Conflict ids whose resolution took effect. */
	applied: string[];
	plan: Plan;
	counts: SituationCounts;
	/** Conflicts that need a person before sync can be enabled. */
	requiresAction: number;
	/** Provisioning: target records no link created or adopted, which sync leaves alone. */
	untouched: { person: number; group: number };
	/** The person fields this link writes, and those it leaves out because a system lacks them. */
	fields: WritableFields;
}

export const emptyCounts = (): SituationCounts => ({
	person: Object.fromEntries(SITUATIONS.map((s) => [s, 0])) as Record<Situation, number>,
	group: Object.fromEntries(SITUATIONS.map((s) => [s, 0])) as Record<Situation, number>
});

/**
 * Provisioning's source without the people it marks inactive (an HR leaver; Entra's `"active":
 * "False"`), and their memberships: no one to give an account to. A synced one then leaves as if
 * gone (removed softly, restored if active again within the retention period); a new one is
 * neither created nor invited. Only an explicit `false` counts.
 */
function inService(s: Snapshot): Snapshot {
	if (!s.people.some((p) => p.active === false)) return s;
	const people = s.people.filter((p) => p.active !== false);
	const ids = new Set(people.map((p) => p.id));
	return { ...s, people, memberships: s.memberships.filter((m) => ids.has(m.personId)) };
}

export function reconcile(input: ReconcileInput): Reconciliation {
	const { link, a, b, baseline, now } = input;
	// The guard counts records as the edge's does (from what was read); people turned inactive at
	// once are removals, which the removal limit stages.
	if (!input.part) assertUsable(link, a, b, baseline);
	const sides = { a: indexSnapshot(link.mode === 'provision' ? inService(a) : a), b: indexSnapshot(b) };
	const resolutions = prepareResolutions(input.resolutions ?? [], sides);
	const lifecycle = { now, retentionDays: link.retentionDays, timeZone: link.schedule.timeZone };
	const fields = writableFields(link, { a: a.fields, b: b.fields });
	const ctx = new ReconcileContext(
		link,
		sides,
		resolutions,
		lifecycle,
		baseline.entries,
		fields,
		input.part?.createdElsewhere,
		input.collisions,
		input.ruleOwned
	);

	// People first, so groups can be filled with the people this plan creates.
	if (link.kinds.includes('person')) reconcilePeople(ctx);
	if (link.kinds.includes('group')) {
		reconcileGroups(ctx);
		settleGroups(ctx);
	}
	fillJournals(ctx);
	if (!input.part) applyLimits(ctx);
	// After the limits: a removal they stage is not happening, and neither is its revocation.
	if (link.kinds.includes('person')) planAccess(ctx, accessVia(input[(link.access ?? NO_ACCESS).side].fields));

	const ops = ctx.builder.ordered();
	const counts = emptyCounts();
	for (let i = 0; i < ctx.views.length; i++) counts[ctx.views[i].kind][ctx.views[i].situation]++;
	return {
		linkId: link.id,
		versions: { a: a.version, b: b.version },
		pairs: ctx.views,
		conflicts: ctx.conflicts,
		stale: resolutions.stale,
		applied: [...resolutions.applied],
		plan: {
			linkId: link.id,
			versions: { a: a.version, b: b.version },
			ops,
			counts: countOps(ops),
			keep: ctx.kept,
			next: ctx.drafts
		},
		counts,
		requiresAction: ctx.conflicts.length,
		untouched: ctx.untouched,
		fields
	};
}
