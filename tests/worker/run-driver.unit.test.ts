/**
 * The run driver with fakes: an in-memory link state, a recording alarm, scripted engine steps and
 * a fake clock. Each case reads as what the alarm did, step by step.
 */
import { describe, expect, it } from 'vitest';
import { makeLink, type LinkConfig } from '$lib/core';
import type { Step } from '../../worker/link/engine';
import {
	advance,
	afterFailure,
	arm,
	ensureAlarm,
	tick,
	WATCHDOG_MS,
	type ActiveRun,
	type RunDriverDeps
} from '../../worker/link/run-driver';
import type { RunError, RunPhase } from '../../worker/link/types';

const at = (s: string) => Date.parse(s);
const NOW = at('2027-06-01T10:00:00Z');
const NIGHTLY = at('2027-06-02T02:00:00Z');
/** The real clock of the fakes: alarms that continue a run ring at it, whatever the schedule's clock says. */
const CLOCK = at('2030-01-01T00:00:00Z');

type Behaviour = Step | 'throw' | Promise<Step>;

/** A link whose steps answer from scripts, one answer per call (the last one repeats). */
function fakeLink(
	options: {
		config?: LinkConfig | null;
		active?: ActiveRun;
		phase?: RunPhase;
		nextRunAt?: number;
		alarm?: number | null;
		script?: Partial<Record<'prepare' | 'apply' | 'commit', Behaviour[]>>;
		maxAttempts?: number;
	} = {}
) {
	const trace: string[] = [];
	const alarms: (number | null)[] = [];
	const failed: { run: string; error: RunError }[] = [];
	const attempts = new Map<string, number>();
	const phases = new Map<string, RunPhase>();
	let active = options.active;
	if (active && options.phase) phases.set(active.id, options.phase);
	let nextRunAt = options.nextRunAt;
	let alarm = options.alarm ?? null;
	const calls = { prepare: 0, apply: 0, commit: 0 };
	const step = (name: 'prepare' | 'apply' | 'commit', run: ActiveRun): Promise<Step> => {
		trace.push(`${name} ${run.id}`);
		const script = options.script?.[name] ?? ['finished'];
		const answer = script[Math.min(calls[name]++, script.length - 1)];
		if (answer === 'throw') return Promise.reject(new Error(`${name} broke`));
		return Promise.resolve(answer).then((result) => {
			// What the engine's steps do to the phase: a stored plan moves on to apply, the commit's
			// first part to commit; a step that ends the run finishes it.
			if (name === 'prepare') phases.set(run.id, result === 'continue' ? 'apply' : 'finished');
			if (name === 'commit') phases.set(run.id, result === 'continue' ? 'commit' : 'finished');
			return result;
		});
	};
	const config =
		options.config === null
			? undefined
			: (options.config ??
				makeLink({
					id: 'L',
					name: 'L',
					mode: 'provision',
					systems: { a: 'a', b: 'b' },
					enabled: true,
					schedule: { timeZone: 'UTC', hour: 2, enabled: true }
				}));
	const deps: RunDriverDeps = {
		config,
		state: {
			active: () => active,
			clearActive: () => {
				trace.push('cleared');
				active = undefined;
			},
			nextRunAt: () => nextRunAt,
			setNextRunAt: (next) => (nextRunAt = next),
			attempts: (id) => attempts.get(id) ?? 0,
			setAttempts: (id, n) => (n === undefined ? attempts.delete(id) : attempts.set(id, n)),
			phase: (id) => phases.get(id)
		},
		steps: {
			prepare: (run) => step('prepare', run),
			apply: (run) => step('apply', run),
			commit: (run) => step('commit', run)
		},
		now: () => NOW,
		clock: () => CLOCK,
		alarm: {
			get: async () => alarm,
			set: async (next) => {
				alarms.push(next);
				alarm = next;
			}
		},
		beginNightly: async () => {
			trace.push('began nightly');
			active = { id: 'nightly', dryRun: false };
			phases.set('nightly', 'prepare');
			return active;
		},
		fail: (run, error) => {
			failed.push({ run: run.id, error });
			active = undefined;
			attempts.delete(run.id);
		},
		maxAttempts: options.maxAttempts ?? 5
	};
	return {
		deps,
		trace,
		alarms,
		failed,
		attempts,
		get active() {
			return active;
		},
		get alarm() {
			return alarm;
		},
		get nextRunAt() {
			return nextRunAt;
		}
	};
}

const run = (id = 'r1'): ActiveRun => ({ id, dryRun: false });

describe('advance: one step of the active run', () => {
	// [phase, scripted answers, the steps taken]: 'cleared' when the run ended and is no longer active.
	it.each<[RunPhase | undefined, Partial<Record<'prepare' | 'apply' | 'commit', Step[]>>, string[]]>([
		[undefined, {}, ['cleared']],
		['finished', {}, ['cleared']],
		['prepare', { prepare: ['continue'] }, ['prepare r1']],
		['prepare', { prepare: ['finished'] }, ['prepare r1', 'cleared']],
		['apply', { apply: ['continue'] }, ['apply r1']],
		['apply', { apply: ['finished'], commit: ['continue'] }, ['apply r1', 'commit r1']],
		['apply', { apply: ['finished'], commit: ['finished'] }, ['apply r1', 'commit r1', 'cleared']],
		['commit', { commit: ['continue'] }, ['commit r1']],
		['commit', { commit: ['finished'] }, ['commit r1', 'cleared']]
	])('in %s with %o: %o', async (phase, script, steps) => {
		const link = fakeLink({ active: run(), phase, script });
		await advance(link.deps, run());
		expect(link.trace).toEqual(steps);
	});
});

describe('afterFailure', () => {
	it.each<[number, number, ReturnType<typeof afterFailure>]>([
		[1, 5, { retryInMs: 2000 }],
		[2, 5, { retryInMs: 4000 }],
		[4, 5, { retryInMs: 16_000 }],
		[5, 5, 'give-up'],
		[1, 1, 'give-up']
	])('attempt %i of %i: %o', (attempts, max, expected) => {
		expect(afterFailure(attempts, max)).toEqual(expected);
	});
});

describe('arm and ensureAlarm', () => {
	it('ring for the next nightly run while idle, and remember it', async () => {
		const link = fakeLink();
		expect(await arm(link.deps)).toBe(NIGHTLY);
		expect(link.nextRunAt).toBe(NIGHTLY);
	});

	it('continue a run at once, by the real clock', async () => {
		const link = fakeLink({ active: run(), phase: 'apply' });
		expect(await arm(link.deps)).toBe(CLOCK);
		expect(link.nextRunAt).toBe(NIGHTLY);
	});

	it('delete the alarm when there is no link, or nothing to wait for', async () => {
		expect(await arm(fakeLink({ config: null, alarm: NOW }).deps)).toBeNull();
		const off = fakeLink({
			config: makeLink({ id: 'L', name: 'L', mode: 'provision', systems: { a: 'a', b: 'b' }, enabled: false }),
			alarm: NOW
		});
		expect(await arm(off.deps)).toBeNull();
		expect(off.alarm).toBeNull();
	});

	it('ensureAlarm keeps an alarm that is set and arms a missing one from the cron instant', async () => {
		const set = fakeLink({ alarm: NOW + 5 });
		expect(await ensureAlarm(set.deps)).toBe(NOW + 5);
		expect(set.alarms).toEqual([]);
		const lost = fakeLink();
		expect(await ensureAlarm(lost.deps, at('2027-06-02T03:00:00Z'))).toBe(at('2027-06-03T02:00:00Z'));
		expect(await ensureAlarm(fakeLink({ config: null }).deps)).toBeNull();
	});
});

describe('tick: what the alarm does', () => {
	it('rings again for the night when nothing is due', async () => {
		const link = fakeLink({ nextRunAt: NIGHTLY });
		await tick(link.deps);
		expect(link.trace).toEqual([]);
		expect(link.alarms).toEqual([NIGHTLY]);
	});

	it('starts the nightly run when it is due and moves it one step per alarm, the watchdog set first', async () => {
		const link = fakeLink({ nextRunAt: NOW - 1, script: { prepare: ['continue'], apply: ['continue', 'finished'] } });
		await tick(link.deps);
		expect(link.trace).toEqual(['began nightly', 'prepare nightly']);
		// The watchdog while the step ran, then "continue now".
		expect(link.alarms).toEqual([CLOCK + WATCHDOG_MS, CLOCK]);
		await tick(link.deps);
		await tick(link.deps);
		expect(link.trace.slice(2)).toEqual(['apply nightly', 'apply nightly', 'commit nightly', 'cleared']);
		// The run is over: the alarm rings for the next night (the one that was due has passed).
		expect(link.alarm).toBe(NIGHTLY);
		expect(link.active).toBeUndefined();
	});

	it('keeps the watchdog set while a step is in flight', async () => {
		let release!: (step: Step) => void;
		const slow = new Promise<Step>((resolve) => (release = resolve));
		const link = fakeLink({ active: run(), phase: 'apply', script: { apply: [slow], commit: ['finished'] } });
		const ticking = tick(link.deps);
		await Promise.resolve();
		expect(link.alarm).toBe(CLOCK + WATCHDOG_MS);
		release('continue');
		await ticking;
		expect(link.alarm).toBe(CLOCK);
	});

	it('retries a step that throws with backoff, then fails the run and rings for the night', async () => {
		const link = fakeLink({ active: run(), phase: 'prepare', script: { prepare: ['throw'] }, maxAttempts: 3 });
		await tick(link.deps);
		expect(link.attempts.get('r1')).toBe(1);
		expect(link.alarm).toBe(CLOCK + 2000);
		await tick(link.deps);
		expect(link.attempts.get('r1')).toBe(2);
		expect(link.alarm).toBe(CLOCK + 4000);
		await tick(link.deps);
		expect(link.failed).toEqual([
			{
				run: 'r1',
				error: { code: 'internal', message: 'The run stopped after 3 failed attempts: prepare broke' }
			}
		]);
		expect(link.active).toBeUndefined();
		expect(link.alarm).toBe(NIGHTLY);
	});

	it('forgets the failed attempts once a step succeeds', async () => {
		const link = fakeLink({ active: run(), phase: 'prepare', script: { prepare: ['throw', 'continue'] } });
		await tick(link.deps);
		expect(link.attempts.get('r1')).toBe(1);
		await tick(link.deps);
		expect(link.attempts.has('r1')).toBe(false);
		expect(link.alarm).toBe(CLOCK);
	});

	it('does nothing without a link', async () => {
		const link = fakeLink({ config: null, active: run(), phase: 'apply' });
		await tick(link.deps);
		expect(link.trace).toEqual([]);
		expect(link.alarms).toEqual([]);
	});
});
