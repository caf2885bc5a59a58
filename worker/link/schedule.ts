/**
 * When the link's one alarm should ring. A Durable Object has a single alarm, so it is shared:
 * while a run is in progress it continues the run (now), otherwise it waits for the next nightly
 * run at `schedule.hour` in the link's own time zone (DST-correct through the core).
 */
import { nextDailyRun, type LinkConfig } from '$lib/core';

export interface AlarmState {
	/** A run is in progress: continue it. */
	running: boolean;
	config: Pick<LinkConfig, 'enabled' | 'schedule'>;
	/** The nightly run already planned (epoch ms), if any. */
	nextRunAt?: number;
}

export interface NextAlarm {
	/** Epoch ms, or null for no alarm at all. */
	alarm: number | null;
	/** The nightly run this alarm (or a later one) stands for; undefined when nothing is scheduled. */
	nextRunAt?: number;
}

/** True when nightly runs are on for this link: sync enabled and its schedule enabled. */
export const nightlyOn = (config: AlarmState['config']): boolean => config.enabled && config.schedule.enabled;

/**
 * The alarm for a state at `now`. A planned nightly run still ahead is kept; one that has passed
 * (it ran, or a run was in progress at the time) gives way to the next one after `now`.
 */
export function computeNextAlarm(state: AlarmState, now: number): NextAlarm {
	const nightly = nightlyOn(state.config);
	const nextRunAt = nightly
		? state.nextRunAt !== undefined && state.nextRunAt > now
			? state.nextRunAt
			: nextDailyRun(now, state.config.schedule.timeZone, state.config.schedule.hour)
		: undefined;
	if (state.running) return { alarm: now, nextRunAt };
	return { alarm: nextRunAt ?? null, nextRunAt };
}

/** True when the nightly run planned for `nextRunAt` is due at `now`. */
export const nightlyDue = (state: AlarmState, now: number): boolean =>
	nightlyOn(state.config) && state.nextRunAt !== undefined && state.nextRunAt <= now;
