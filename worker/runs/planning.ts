/**
 * Reading both systems and reconciling them with the stored baseline and resolutions: the one
 * path behind the reconcile route, enabling, re-checking resolutions and every run. The pure work
 * is the core's `reconcile`; this file only feeds it from storage and stores what it answers.
 */
import { conflictId, opKind, reconcile, ReconcileError, type LinkConfig, type Reconciliation, type Resolution, type Side, type Snapshot } from '$lib/core';
import type { Connector } from '../connectors/types';
import { ConnectorError } from '../connectors/types';
import type { LinkStore, PlanMeta } from './store';
import type { RunError, StagedDeletes } from './types';

/** A system could not be read, or what it returned cannot be reconciled (an empty source). */
export class SourceError extends Error {
	constructor(
		readonly detail: RunError,
		options?: { cause?: unknown }
	) {
		super(detail.message, options);
		this.name = 'SourceError';
	}
}

export interface PlanningDeps {
	store: LinkStore;
	config: LinkConfig;
	connector(systemId: string): Promise<Connector>;
	now(): number;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Both snapshots, read at once. Any failure is a SourceError naming the system. */
export async function readBoth(deps: Pick<PlanningDeps, 'config' | 'connector'>): Promise<Record<Side, Snapshot>> {
	const read = async (side: Side): Promise<Snapshot> => {
		const system = deps.config.systems[side];
		try {
			const connector = await deps.connector(system);
			return await connector.read();
		} catch (e) {
			const what = e instanceof ConnectorError ? `${e.code}: ${e.message}` : message(e);
			throw new SourceError({ code: 'source-failed', system, message: `System ${system} could not be read (${what}); nothing was written.` }, { cause: e });
		}
	};
	const [a, b] = await Promise.all([read('a'), read('b')]);
	return { a, b };
}

/** The core's reconciliation of two fresh snapshots; an empty side is a SourceError. */
export function reconcileSnapshots(deps: PlanningDeps, snaps: Record<Side, Snapshot>, resolutions: readonly Resolution[] = deps.store.resolutions()): Reconciliation {
	try {
		return reconcile({ link: deps.config, a: snaps.a, b: snaps.b, baseline: { linkId: deps.config.id, entries: deps.store.baselineEntries() }, resolutions, now: deps.now() });
	} catch (e) {
		if (e instanceof ReconcileError) {
			const system = e.code === 'empty-source' ? deps.config.systems.a : undefined;
			throw new SourceError({ code: e.code === 'invalid-input' ? 'invalid' : 'source-failed', message: e.message, ...(system ? { system } : {}) }, { cause: e });
		}
		throw e;
	}
}

const THRESHOLD_KINDS = ['person', 'group', 'membership'] as const;

/** Which kind of removals a threshold conflict holds back (its id says it; see the core's applyLimits). */
export function thresholdKind(id: string, side: Side): StagedDeletes['kind'] | undefined {
	return THRESHOLD_KINDS.find((k) => id.startsWith(`${conflictId('threshold', k === 'membership' ? 'group' : k, [{ side, id: k }])}:`));
}

/** The staged removals of a reconciliation, per threshold conflict. */
export function stagedOf(rec: Reconciliation): Omit<StagedDeletes, 'decision'>[] {
	const out: Omit<StagedDeletes, 'decision'>[] = [];
	for (const c of rec.conflicts) {
		if (c.reason !== 'threshold' || !c.staged || !c.removedSide) continue;
		const side = c.removedSide;
		const kind = thresholdKind(c.id, side);
		if (!kind) continue;
		const ops = rec.plan.ops.filter((op) => op.staged && op.side === side && opKind(op) === kind);
		out.push({ conflictId: c.id, kind, side, count: c.staged.count, total: c.staged.total, limit: c.staged.limit, ops });
	}
	return out;
}

/** Stores a reconciliation as the link's current plan, with the snapshots' versions. */
export function storeCurrentPlan(deps: PlanningDeps, rec: Reconciliation): PlanMeta {
	const meta: PlanMeta = {
		versions: rec.versions,
		computedAt: deps.now(),
		requiresAction: rec.requiresAction,
		staged: rec.plan.counts.staged,
		counts: rec.plan.counts,
		thresholds: rec.conflicts.filter((c) => c.reason === 'threshold').map((c) => c.id)
	};
	deps.store.putPlan(rec, meta, stagedOf(rec));
	deps.store.setMeta('versions', rec.versions);
	return meta;
}

/**
 * Conflicts still needing a person: threshold conflicts the owner approved or rejected are settled
 * at once (their id names exactly the removals decided on); the others wait for the next reconcile.
 */
export function requiresAction(store: LinkStore, meta: PlanMeta): number {
	let decided = 0;
	for (const id of meta.thresholds) if (thresholdDecision(store, id)) decided++;
	return Math.max(0, meta.requiresAction - decided);
}

/** An owner's decision on a threshold conflict: approve-deletes, or reject (stored as ignore). */
export function thresholdDecision(store: LinkStore, id: string): StagedDeletes['decision'] {
	const r = store.resolution(id);
	if (r?.choice === 'approve-deletes') return 'approved';
	if (r?.choice === 'ignore') return 'rejected';
	return undefined;
}
