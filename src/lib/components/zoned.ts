/**
 * Times as a link means them: in the link's own time zone (the nightly run is 02:00 there), with
 * the device's wall-clock time beside it when the device lives in another zone. Pure: the zones,
 * the instant and the locale are passed in.
 */
import { offsetAt, toLocalTime as toLocal } from '$lib/core';

/** Zones Intl names by another spelling than the picker's list: the device may report either. */
const ALIASES: Record<string, string> = {
	'Etc/UTC': 'UTC',
	'Etc/GMT': 'UTC',
	'Etc/Universal': 'UTC',
	'Etc/Zulu': 'UTC',
	GMT: 'UTC',
	Universal: 'UTC',
	Zulu: 'UTC'
};

/** A zone as the picker lists it ('Etc/UTC' is 'UTC'). */
export const canonicalZone = (zone: string): string => ALIASES[zone] ?? zone;

/** The device's zone, as the picker lists it; UTC when the browser does not say. */
export function deviceZone(): string {
	return canonicalZone(Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');
}

/**
 * The zones to choose from: what the browser supports, with UTC (Chromium's list leaves it out,
 * which left the picker blank on a UTC device) and the device's own zone, sorted, UTC first.
 */
export function zoneList(supported: readonly string[], device: string): string[] {
	const all = new Set(supported.map(canonicalZone));
	all.add('UTC');
	all.add(canonicalZone(device));
	return [...all].sort((x, y) => (x === 'UTC' ? -1 : y === 'UTC' ? 1 : x < y ? -1 : x > y ? 1 : 0));
}

/** "UTC+01:00" at an instant (daylight saving included). */
export function utcOffset(zone: string, at: number): string {
	const minutes = Math.round(offsetAt(at, zone) / 60_000);
	if (minutes === 0) return 'UTC';
	const sign = minutes < 0 ? '−' : '+';
	const abs = Math.abs(minutes);
	return `UTC${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** How a zone reads in the picker: "Europe/Oslo (UTC+01:00)"; underscores as spaces. */
export const zoneLabel = (zone: string, at: number): string =>
	`${zone.replaceAll('_', ' ')}${zone === 'UTC' ? '' : ` (${utcOffset(zone, at)})`}`;

/**
 * Zones matching what a person typed: every word must appear (in any order, ignoring case,
 * underscores and slashes: "new york", "oslo", "europe/os"); zones whose city starts with the text
 * come first.
 */
export function searchZones(zones: readonly string[], query: string, limit = 50): string[] {
	const words = query.toLowerCase().replace(/[_/]/g, ' ').split(/\s+/).filter(Boolean);
	if (words.length === 0) return zones.slice(0, limit);
	const text = (z: string) => z.toLowerCase().replace(/[_/]/g, ' ');
	const city = (z: string) => text(z.slice(z.lastIndexOf('/') + 1));
	const hits = zones.filter((z) => words.every((w) => text(z).includes(w)));
	const first = words.join(' ');
	const rank = (z: string) => (city(z).startsWith(first) ? 0 : text(z).startsWith(first) ? 1 : 2);
	return hits.sort((x, y) => rank(x) - rank(y)).slice(0, limit);
}

/** The zone the text names exactly (any case, spaces for underscores), if any. */
export function exactZone(zones: readonly string[], text: string): string | undefined {
	const wanted = text.trim().toLowerCase().replaceAll(' ', '_');
	return (
		zones.find((z) => z.toLowerCase() === wanted) ?? (ALIASES[text.trim()] ? canonicalZone(text.trim()) : undefined)
	);
}

const DATE_TIME: Intl.DateTimeFormatOptions = {
	weekday: 'short',
	month: 'short',
	day: 'numeric',
	hour: '2-digit',
	minute: '2-digit',
	hourCycle: 'h23'
};
const TIME: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };

/** An instant in one zone: "Wed, Dec 2, 02:00". */
export function formatIn(at: number, zone: string, locale?: string): string {
	return new Intl.DateTimeFormat(locale, { ...DATE_TIME, timeZone: zone }).format(at);
}

/** An instant as a link means it, and as the device's clock shows it when that is another time. */
export interface ZonedTime {
	/** In the link's zone: "Wed, Dec 2, 02:00". */
	link: string;
	linkZone: string;
	/** On the device, when its clock shows another time: "01:00", or with the date when the day differs. */
	device?: string;
	deviceZone?: string;
	/** Both in one line: "Wed, Dec 2, 02:00 (Europe/Oslo) · 01:00 on this device (UTC)". */
	text: string;
}

export function zonedTime(at: number | string, linkZone: string, device: string, locale?: string): ZonedTime {
	const ms = typeof at === 'string' ? Date.parse(at) : at;
	const link = formatIn(ms, linkZone, locale);
	const here = canonicalZone(device);
	const sameClock = offsetAt(ms, linkZone) === offsetAt(ms, here);
	if (canonicalZone(linkZone) === here || sameClock) return { link, linkZone, text: `${link} (${linkZone})` };
	const l = toLocal(ms, linkZone);
	const d = toLocal(ms, here);
	const sameDay = l.year === d.year && l.month === d.month && l.day === d.day;
	const deviceText = sameDay
		? new Intl.DateTimeFormat(locale, { ...TIME, timeZone: here }).format(ms)
		: formatIn(ms, here, locale);
	return {
		link,
		linkZone,
		device: deviceText,
		deviceZone: here,
		text: `${link} (${linkZone}) · ${deviceText} on this device (${here})`
	};
}

/**
 * An instant of a link's life (a run, a plan) as the link means it when its zone is known, else
 * on the device's clock: `zonedTime`'s text, or `fallback` (how the page words a bare instant).
 */
export function linkTime(at: string, linkZone: string | undefined, fallback: (at: string) => string): string {
	return linkZone ? zonedTime(at, linkZone, deviceZone()).text : fallback(at);
}
