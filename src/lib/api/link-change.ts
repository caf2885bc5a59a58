/**
 * A link change previewed before it is applied (PATCH /api/links/:id?dryRun=true): what the edge
 * answers, shared by the edge and the settings screen.
 */
import type { LinkChange } from '$lib/core/link-change';
import type { LinkConfig, PlanCounts, SituationCounts } from '$lib/core';
import type { RunError } from './types';

export type { LinkChange };

/** A plan in numbers: situations per kind, operations, what waits for a person. */
export interface PlanSummary {
	counts: SituationCounts;
	plan: PlanCounts;
	requiresAction: number;
	staged: number;
}

export interface LinkChangePreview {
	/** The configuration as it would be. */
	config: LinkConfig;
	/** The settings that would change (empty: the patch changes nothing). */
	changes: LinkChange[];
	/** The next nightly run (ISO) now and under the change; absent while nightly runs are off. */
	nextRunAt: { before?: string; after?: string };
	/**
	 * The plan made now under the current settings and under the changed ones, from the same
	 * reads of both systems; absent when the change cannot change a plan (a name, a schedule).
	 */
	plan?: { before: PlanSummary; after: PlanSummary };
	/** The plan could not be made under the changed settings (or at all): why. */
	planError?: RunError;
}
