/**
 * Wall-clock arithmetic in a named IANA time zone through Intl, so retention dates and the
 * nightly 02:00 run stay right across daylight-saving changes. The clock is always passed in.
 */

export interface LocalTime {
	year: number;
	month: number; // 1-12
	day: number;
	hour: number;
	minute: number;
	second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
	let f = formatters.get(timeZone);
	if (!f) {
		f = new Intl.DateTimeFormat('en-US', {
			timeZone,
			hourCycle: 'h23',
			year: 'numeric',
			month: 'numeric',
			day: 'numeric',
			hour: 'numeric',
			minute: 'numeric',
			second: 'numeric'
		});
		formatters.set(timeZone, f);
	}
	return f;
}

/** True when Intl knows the zone (an unknown zone would otherwise throw deep inside a run). */
export function isTimeZone(timeZone: string): boolean {
	try {
		formatter(timeZone);
		return true;
	} catch {
		return false;
	}
}

/** The wall-clock time in `timeZone` at the instant `epochMs`. */
export function toLocal(epochMs: number, timeZone: string): LocalTime {
	const parts: Record<string, number> = {};
	for (const p of formatter(timeZone).formatToParts(new Date(epochMs))) {
		if (p.type !== 'literal') parts[p.type] = Number(p.value);
	}
	return {
		year: parts.year,
		month: parts.month,
		day: parts.day,
		hour: parts.hour,
		minute: parts.minute,
		second: parts.second
	};
}

/** Offset of the zone from UTC at an instant, in milliseconds (east positive). */
export function offsetAt(epochMs: number, timeZone: string): number {
	const l = toLocal(epochMs, timeZone);
	const asUtc = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second);
	return asUtc - Math.floor(epochMs / 1000) * 1000;
}

/**
 * The instant a wall-clock time happens in a zone. When the time occurs twice (clocks fall back)
 * the earlier instant is taken; when it does not occur (clocks spring forward) the first instant
 * after the gap is taken, so a 02:00 job still runs that night.
 */
export function fromLocal(local: Omit<LocalTime, 'second'> & { second?: number }, timeZone: string): number {
	const naive = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second ?? 0);
	// Offsets change at most twice around any instant; try both the offset before and after.
	const candidates = new Set<number>();
	for (const probe of [naive - 36e5 * 14, naive - 36e5 * 2, naive, naive + 36e5 * 2, naive + 36e5 * 14]) {
		candidates.add(naive - offsetAt(probe, timeZone));
	}
	const exact = [...candidates].filter((t) => sameWallTime(toLocal(t, timeZone), local)).sort((x, y) => x - y);
	if (exact.length > 0) return exact[0];
	// In a gap: the wall time is skipped. The instant after the gap is where the offset changes.
	const estimate = naive - offsetAt(naive, timeZone);
	const before = naive - offsetAt(estimate - 36e5 * 3, timeZone);
	const after = naive - offsetAt(estimate + 36e5 * 3, timeZone);
	return Math.max(
		Math.min(before, after),
		transitionBetween(Math.min(before, after), Math.max(before, after), timeZone)
	);
}

function sameWallTime(a: LocalTime, b: Omit<LocalTime, 'second'> & { second?: number }): boolean {
	return (
		a.year === b.year &&
		a.month === b.month &&
		a.day === b.day &&
		a.hour === b.hour &&
		a.minute === b.minute &&
		a.second === (b.second ?? 0)
	);
}

/** The first instant in [lo, hi] whose offset differs from lo's (binary search to the second). */
function transitionBetween(lo: number, hi: number, timeZone: string): number {
	const start = offsetAt(lo, timeZone);
	while (hi - lo > 1000) {
		const mid = Math.floor((lo + hi) / 2000) * 1000;
		if (offsetAt(mid, timeZone) === start) lo = mid;
		else hi = mid;
	}
	return hi;
}

/** Adds calendar days in the zone, keeping the wall-clock time (30 days is not 720 hours across DST). */
export function addLocalDays(epochMs: number, days: number, timeZone: string): number {
	const l = toLocal(epochMs, timeZone);
	const d = new Date(Date.UTC(l.year, l.month - 1, l.day + days));
	return fromLocal(
		{
			year: d.getUTCFullYear(),
			month: d.getUTCMonth() + 1,
			day: d.getUTCDate(),
			hour: l.hour,
			minute: l.minute,
			second: l.second
		},
		timeZone
	);
}

/** The next instant strictly after `now` at which the local time is `hour`:00 in the zone. */
export function nextDailyRun(now: number, timeZone: string, hour = 2): number {
	const l = toLocal(now, timeZone);
	for (let dayOffset = 0; dayOffset <= 2; dayOffset++) {
		const d = new Date(Date.UTC(l.year, l.month - 1, l.day + dayOffset));
		const at = fromLocal(
			{ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour, minute: 0 },
			timeZone
		);
		if (at > now) return at;
	}
	throw new Error(`no ${hour}:00 found in ${timeZone} after ${new Date(now).toISOString()}`);
}
