/**
 * What the link's Durable Object answers over RPC and the API returns as JSON (docs/api.md,
 * Links and Runs). Plain data only: everything here survives structured clone and JSON.
 */
import type { DomainCode } from '../errors';

// The shapes the API returns are the browser's contract, defined once (src/lib/api/types.ts).
export type {
	LinkStatus,
	LinkView,
	RunDetails,
	RunError,
	RunProgress,
	RunStatus,
	RunSummary,
	StagedDeletes,
	StartedBy
} from '$lib/api/types';
export { RUN_STATUSES, STARTERS } from '$lib/api/types';

/**
 * Where a run stands inside its Durable Object: reading and planning, applying slice after slice,
 * committing the baseline, finished. Only `prepare` reads the systems; only `apply` writes to them.
 */
export const RUN_PHASES = ['prepare', 'apply', 'commit', 'finished'] as const;
export type RunPhase = (typeof RUN_PHASES)[number];

/**
 * Why the Durable Object refused a request, as an API error code (worker/api/errors.ts) and a
 * message. Returned rather than thrown: error classes do not survive RPC.
 */
export interface Refusal {
	code: DomainCode;
	message: string;
	/** Extra members of the JSON error body (e.g. `requiresAction`). */
	extra?: Record<string, unknown>;
}

export type Result<T> = { ok: true; value: T } | { ok: false; refusal: Refusal };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const refuse = <T = never>(code: DomainCode, message: string, extra?: Record<string, unknown>): Result<T> => ({
	ok: false,
	refusal: extra ? { code, message, extra } : { code, message }
});
