/**
 * How a run ends, and what an owner may still do with it: stop it while it applies, undo it once it
 * has ended. Pure decisions over a run's summary: the edge enforces them, the app shows only the
 * buttons they would accept.
 */
import type { RunTally } from './runner';

/**
 * `done`: no operation failed. `partial`: some failed, some were done. `failed`: something failed
 * and nothing succeeded, or the run itself failed (a source could not be read, its slices kept
 * failing). `stopped`: an owner stopped it before every operation had started.
 */
export const RUN_STATUSES = ['running', 'done', 'partial', 'failed', 'stopped'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export type FinalStatus = Exclude<RunStatus, 'running'>;

/** How a run came to its end, beside its operations' outcomes. */
export interface RunEnding {
	/** The run itself failed: whatever its operations did, it did not get to the end of its plan. */
	error?: boolean;
	/** An owner asked it to stop. */
	stopRequested?: boolean;
	/** It ended before its plan was stored (so `pending` says nothing about what was left). */
	beforePlan?: boolean;
}

/**
 * The status a run ends with. A stop counts only when it cut something short: one that arrives
 * after the last operation started leaves the run to end as it would have.
 */
export function finalStatus(tally: Pick<RunTally, 'done' | 'failed' | 'pending'>, ending: RunEnding = {}): FinalStatus {
	if (ending.error) return 'failed';
	if (ending.stopRequested && (ending.beforePlan || tally.pending > 0)) return 'stopped';
	if (tally.failed === 0) return 'done';
	return tally.done > 0 ? 'partial' : 'failed';
}

/** What the stop and undo rules read of a run (a RunSummary has all of it). */
export interface RunFacts {
	id: string;
	status: RunStatus;
	dryRun: boolean;
	undoOf?: string;
	undoneBy?: string;
	tally: Pick<RunTally, 'done'>;
}

/** A rule's no, with the words for it and the ids it names (extra members of the API's error body). */
export interface PolicyRefusal<R extends string> {
	reason: R;
	message: string;
	extra?: Record<string, string>;
}

export const UNDO_REFUSALS = ['in-progress', 'dry-run', 'undone', 'is-undo', 'not-latest', 'nothing-done'] as const;
export type UndoRefusal = (typeof UNDO_REFUSALS)[number];

export interface UndoContext {
	/** The link's run in progress, if any: an undo is a run, and runs never overlap. */
	running?: string;
	/** The newest run that is an undo barrier (see isUndoBarrier), if any. */
	latest?: string;
}

/**
 * True when a run's end may have left changes that an undo of an earlier run must not skip over:
 * undoes go back one run at a time. Dry runs changed nothing; a run that failed without doing
 * anything changed nothing either (an undo run counts whatever happened: it marked its run undone).
 */
export const isUndoBarrier = (run: RunFacts): boolean =>
	!run.dryRun &&
	run.status !== 'running' &&
	(run.status !== 'failed' || run.tally.done > 0 || run.undoOf !== undefined);

/**
 * Why a run cannot be undone now, or undefined when it can: it has ended, wrote something, is the
 * latest run that did, was not undone yet and is not itself an undo (run the link again instead).
 */
export function undoRefusal(run: RunFacts, context: UndoContext): PolicyRefusal<UndoRefusal> | undefined {
	const running = context.running ?? (run.status === 'running' ? run.id : undefined);
	if (running)
		return {
			reason: 'in-progress',
			message: `Run ${running} of this link is in progress.`,
			extra: { running }
		};
	if (run.dryRun) return { reason: 'dry-run', message: 'A dry run changed nothing: there is nothing to undo.' };
	if (run.undoneBy)
		return {
			reason: 'undone',
			message: `Run ${run.id} was already undone by run ${run.undoneBy}.`,
			extra: { undoneBy: run.undoneBy }
		};
	if (run.undoOf) return { reason: 'is-undo', message: `Run ${run.id} is itself an undo; run the link again instead.` };
	if (context.latest !== undefined && context.latest !== run.id)
		return {
			reason: 'not-latest',
			message: `Only the latest run can be undone (run ${context.latest} came after this one).`,
			extra: { latest: context.latest }
		};
	if (run.tally.done === 0)
		return { reason: 'nothing-done', message: `Run ${run.id} changed nothing: there is nothing to undo.` };
	return undefined;
}

export const STOP_REFUSALS = ['not-running', 'is-undo', 'committing'] as const;
export type StopRefusal = (typeof STOP_REFUSALS)[number];

export interface StopContext {
	/** The link's run in progress, if any. */
	running?: string;
	/** The run has started every operation and is recording its baseline. */
	committing?: boolean;
}

/**
 * Why a run cannot be stopped, or undefined when it can. An undo runs to its end: it reverts the
 * undone run's whole baseline when it finishes, and a half-done undo could be neither finished
 * nor undone.
 */
export function stopRefusal(run: RunFacts, context: StopContext): PolicyRefusal<StopRefusal> | undefined {
	if (run.status !== 'running' || context.running !== run.id)
		return {
			reason: 'not-running',
			message:
				run.status === 'running'
					? `Run ${run.id} is not running.`
					: `Run ${run.id} is not running: it ended ${run.status}.`
		};
	if (run.undoOf)
		return {
			reason: 'is-undo',
			message: `Run ${run.id} undoes run ${run.undoOf}: an undo runs to its end, so the systems and the baseline agree again.`
		};
	if (context.committing)
		return {
			reason: 'committing',
			message: `Run ${run.id} has started every operation and is recording the result: there is nothing left to stop.`
		};
	return undefined;
}
