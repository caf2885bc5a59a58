/**
 * The plan under review. The edge's reconciliation is the truth whenever it is fresh; a local
 * preview (the worker's own reconcile over the stored snapshots and resolutions) stands in front
 * of it while resolutions wait in the outbox or the edge cannot be reached.
 */
import { commitBaseline, type Reconciliation, type Resolution } from '$lib/core';
import type { PlanSource, ReviewPlan, RostersyncDb, StoredPlan } from './schema';

/** The part of a reconciliation the review shows (see ReviewPlan). */
export function reviewPlan(r: Reconciliation): ReviewPlan {
	const { plan, ...rest } = r;
	return { ...rest, plan: { linkId: plan.linkId, versions: plan.versions, counts: plan.counts } };
}

/**
 * Stores the edge's reconciliation as the link's plan, the baseline it was computed against
 * (recovered from the plan: kept entries plus each changed entry's previous value), and its
 * conflicts. A local preview made before it is dropped: the edge has spoken since.
 */
export async function saveEdgePlan(
	db: RostersyncDb,
	reconciliation: Reconciliation,
	at = new Date().toISOString()
): Promise<StoredPlan> {
	const linkId = reconciliation.linkId;
	const baseline = commitBaseline(reconciliation.plan, new Map());
	await db.transaction('rw', db.plans, db.baselines, db.conflicts, async () => {
		await db.plans.put({ linkId, source: 'edge', at, reconciliation: reviewPlan(reconciliation) });
		await db.plans.delete([linkId, 'local']);
		await db.baselines.put({ linkId, entries: baseline.entries });
		await replaceConflicts(db, reconciliation);
	});
	return { linkId, source: 'edge', at, reconciliation: reviewPlan(reconciliation) };
}

/** Stores a local preview in front of the edge's plan. */
export async function saveLocalPlan(
	db: RostersyncDb,
	reconciliation: Reconciliation,
	at = new Date().toISOString()
): Promise<StoredPlan> {
	const stored: StoredPlan = {
		linkId: reconciliation.linkId,
		source: 'local',
		at,
		reconciliation: reviewPlan(reconciliation)
	};
	await db.transaction('rw', db.plans, db.conflicts, async () => {
		await db.plans.put(stored);
		await replaceConflicts(db, reconciliation);
	});
	return stored;
}

async function replaceConflicts(db: RostersyncDb, reconciliation: ReviewPlan): Promise<void> {
	const linkId = reconciliation.linkId;
	await db.conflicts.where('linkId').equals(linkId).delete();
	await db.conflicts.bulkPut(reconciliation.conflicts.map((c) => ({ ...c, linkId })));
}

/** The plan to show: the local preview if there is one, else the edge's. */
export async function currentPlan(db: RostersyncDb, linkId: string): Promise<StoredPlan | undefined> {
	return (await db.plans.get([linkId, 'local'])) ?? (await db.plans.get([linkId, 'edge']));
}

export async function planOf(db: RostersyncDb, linkId: string, source: PlanSource): Promise<StoredPlan | undefined> {
	return db.plans.get([linkId, source]);
}

/** Replaces the resolutions the edge holds for a link with what it just listed. */
export async function saveAcceptedResolutions(
	db: RostersyncDb,
	linkId: string,
	resolutions: Resolution[]
): Promise<void> {
	await db.transaction('rw', db.resolutions, async () => {
		await db.resolutions.where('linkId').equals(linkId).delete();
		await db.resolutions.bulkPut(
			resolutions.map((resolution) => ({ linkId, conflictId: resolution.conflictId, resolution }))
		);
	});
}
