/**
 * What the link's Durable Object answers over RPC and the API returns as JSON (docs/api.md,
 * Links and Runs). Plain data only: everything here survives structured clone and JSON.
 */
import type { LinkConfig, Op, OpOutcome, PlanCounts, RunTally } from '$lib/core';
import type { ErrorCode } from '../api/errors';

/** Who or what started a run. */
export const STARTERS = ['person', 'schedule', 'undo'] as const;
export type StartedBy = { kind: (typeof STARTERS)[number]; subject?: string };

export const RUN_STATUSES = ['running', 'done', 'failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/**
 * Where a run stands inside its Durable Object: reading and planning, applying slice after slice,
 * committing the baseline, finished. Only `prepare` reads the systems; only `apply` writes to them.
 */
export const RUN_PHASES = ['prepare', 'apply', 'commit', 'finished'] as const;
export type RunPhase = (typeof RUN_PHASES)[number];

/** Why a run failed, in words an admin can act on. */
export interface RunError {
	/** `source-failed`: a system could not be read or was empty; nothing was written. */
	code: 'source-failed' | 'invalid' | 'internal';
	message: string;
	/** The system that failed, when one did. */
	system?: string;
}

export interface RunSummary {
	id: string;
	linkId: string;
	dryRun: boolean;
	startedBy: StartedBy;
	status: RunStatus;
	/** ISO instants. */
	startedAt: string;
	finishedAt?: string;
	durationMs?: number;
	counts: PlanCounts;
	tally: RunTally;
	error?: RunError;
	undoOf?: string;
	undoneBy?: string;
	/** Undo runs: operations of the undone run that cannot be reversed, with why. */
	irreversible?: { key: string; reason: string }[];
}

export interface RunDetails extends RunSummary {
	ops: { op: Op; outcome?: OpOutcome }[];
	/** Paging over `ops` (in run order). */
	offset: number;
	limit: number;
}

export interface RunProgress {
	status: RunStatus;
	tally: RunTally;
}

export interface LinkStatus {
	enabled: boolean;
	running?: string;
	lastRun?: RunSummary;
	/** ISO instant of the next nightly run, when one is scheduled. */
	nextRunAt?: string;
	/** Conflicts of the current plan still needing a person (0 before the first reconcile). */
	requiresAction: number;
	/** Removals of the current plan held back by the safety limits. */
	staged: number;
}

export interface LinkView {
	config: LinkConfig;
	status: LinkStatus;
}

/** A threshold conflict of the current plan with the removals it holds back. */
export interface StagedDeletes {
	conflictId: string;
	kind: 'person' | 'group' | 'membership';
	side: 'a' | 'b';
	count: number;
	total: number;
	limit: { count: number; percent: number };
	/** The owner's decision so far, if any. */
	decision?: 'approved' | 'rejected';
	ops: Op[];
}

/**
 * Why the Durable Object refused a request, as an API error code (worker/api/errors.ts) and a
 * message. Returned rather than thrown: error classes do not survive RPC.
 */
export interface Refusal {
	code: ErrorCode;
	message: string;
	/** Extra members of the JSON error body (e.g. `requiresAction`). */
	extra?: Record<string, unknown>;
}

export type Result<T> = { ok: true; value: T } | { ok: false; refusal: Refusal };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const refuse = <T = never>(code: ErrorCode, message: string, extra?: Record<string, unknown>): Result<T> => ({
	ok: false,
	refusal: extra ? { code, message, extra } : { code, message }
});
