/**
 * The run driver: what moves a link's runs along over time. A Durable Object has one alarm, and
 * this module decides what it is for: continuing the run in progress (one step per invocation:
 * prepare, an apply slice, the commit), retrying a step that threw (with backoff, then failing the
 * run), bringing back a run whose invocation died (the watchdog), or ringing for the next nightly
 * run. The LinkDO wires its storage, its alarm and the engine's steps into it (RunDriverDeps), so
 * tests drive it with fakes and a fake clock. No cloudflare imports here.
 */
import type { LinkConfig } from '$lib/core';
import type { Step } from './engine';
import { computeNextAlarm, nightlyDue } from './schedule';
import type { RunError, RunPhase } from './types';

/** The run in progress, kept in storage so a fresh instance continues it. */
export interface ActiveRun {
	id: string;
	dryRun: boolean;
	undoOf?: string;
}

/** If an invocation dies mid-step, the alarm set at its start brings the run back this much later. */
export const WATCHDOG_MS = 30_000;

/** What the driver reads and writes of the link's state. */
export interface DriverState {
	active(): ActiveRun | undefined;
	clearActive(): void;
	/** The nightly run planned (epoch ms), if any. */
	nextRunAt(): number | undefined;
	setNextRunAt(at: number | undefined): void;
	/** Failed attempts at the current step of a run (0 when the last one succeeded). */
	attempts(runId: string): number;
	setAttempts(runId: string, attempts: number | undefined): void;
	phase(runId: string): RunPhase | undefined;
}

/** The engine's steps of one run; each ends the run itself when it is its last (then 'finished'). */
export interface RunSteps {
	prepare(run: ActiveRun): Promise<Step>;
	/** One apply slice: 'finished' when nothing is left to apply. */
	apply(run: ActiveRun): Promise<Step>;
	/** The next part of the commit: 'finished' once the run has ended. */
	commit(run: ActiveRun): Promise<Step>;
}

export interface RunDriverDeps {
	/** The link's configuration, or undefined when there is no link (nothing to drive). */
	config: LinkConfig | undefined;
	state: DriverState;
	steps: RunSteps;
	/** The schedule's clock (tests pass a fake one). */
	now(): number;
	/** The real clock: a run continues as soon as possible, whatever clock the schedule is computed with. */
	clock(): number;
	alarm: {
		get(): Promise<number | null>;
		/** Sets the one alarm, or deletes it (null). */
		set(at: number | null): Promise<void>;
	};
	/** Starts the nightly run (recorded as started by the schedule) and returns it. */
	beginNightly(): Promise<ActiveRun>;
	/**
	 * Ends a run whose steps kept failing (given up after maxAttempts), committing what it did, and
	 * forgets it as the active run and its attempts.
	 */
	fail(run: ActiveRun, error: RunError): Promise<void> | void;
	/** A step is tried this many times before the run fails. */
	maxAttempts: number;
	watchdogMs?: number;
	log?(line: Record<string, unknown>): void;
}

/** How long to wait before trying a step again after `attempts` failures: 2 s, 4 s, 8 s… */
export const retryDelayMs = (attempts: number): number => 1000 * 2 ** attempts;

/** What to do after a step threw for the `attempts`th time in a row. */
export const afterFailure = (attempts: number, maxAttempts: number): { retryInMs: number } | 'give-up' =>
	attempts >= maxAttempts ? 'give-up' : { retryInMs: retryDelayMs(attempts) };

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Sets the one alarm from the stored state: now while a run is in progress, else the next nightly
 * run (planned from `now`, the schedule's clock), else none. Returns it (epoch ms) or null.
 */
export async function arm(deps: RunDriverDeps, now = deps.now()): Promise<number | null> {
	const { config, state } = deps;
	if (!config) {
		await deps.alarm.set(null);
		return null;
	}
	const running = state.active() !== undefined;
	const next = computeNextAlarm({ running, config, nextRunAt: state.nextRunAt() }, now);
	state.setNextRunAt(next.nextRunAt);
	const at = running ? deps.clock() : next.alarm;
	await deps.alarm.set(at);
	return at;
}

/** Keeps an alarm that is set; arms one otherwise (the hourly cron's safety net). */
export async function ensureAlarm(deps: RunDriverDeps, now = deps.now()): Promise<number | null> {
	if (!deps.config) return null;
	const current = await deps.alarm.get();
	return current !== null ? current : arm(deps, now);
}

/** One step of the active run: prepare, one apply slice (then the commit, once nothing is left), or the commit. */
export async function advance(deps: RunDriverDeps, run: ActiveRun): Promise<void> {
	const { state, steps } = deps;
	const phase = state.phase(run.id);
	let finished = phase === undefined || phase === 'finished';
	if (phase === 'prepare') {
		finished = (await steps.prepare(run)) === 'finished';
	} else if (phase === 'apply') {
		if ((await steps.apply(run)) === 'finished') finished = (await steps.commit(run)) === 'finished';
	} else if (phase === 'commit') {
		finished = (await steps.commit(run)) === 'finished';
	}
	if (finished) state.clearActive();
}

/**
 * What the alarm does: starts the nightly run when it is due, moves the active run one step on
 * (retrying a step that throws, failing the run after maxAttempts), and sets the next alarm.
 */
export async function tick(deps: RunDriverDeps): Promise<void> {
	const { config, state } = deps;
	if (!config) return;
	let active = state.active();
	if (!active && nightlyDue({ running: false, config, nextRunAt: state.nextRunAt() }, deps.now()))
		active = await deps.beginNightly();
	if (active) {
		// If this invocation dies mid-step, this brings the run back; the end of the tick resets it.
		await deps.alarm.set(deps.clock() + (deps.watchdogMs ?? WATCHDOG_MS));
		try {
			await advance(deps, active);
			state.setAttempts(active.id, undefined);
		} catch (e) {
			const attempts = state.attempts(active.id) + 1;
			deps.log?.({ event: 'run-slice-failed', link: config.id, run: active.id, attempts, error: message(e) });
			const next = afterFailure(attempts, deps.maxAttempts);
			if (next === 'give-up') {
				await deps.fail(active, {
					code: 'internal',
					message: `The run stopped after ${attempts} failed attempts: ${message(e)}`
				});
			} else {
				state.setAttempts(active.id, attempts);
				await deps.alarm.set(deps.clock() + next.retryInMs);
				return;
			}
		}
	}
	await arm(deps);
}
