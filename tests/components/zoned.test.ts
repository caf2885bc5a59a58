/** Times in the link's zone, and the device's beside them when its clock differs; the zone picker's list and search. */
import { describe, expect, test } from 'vitest';
import {
	canonicalZone,
	exactZone,
	searchZones,
	linkTime,
	utcOffset,
	zonedTime,
	zoneLabel,
	zoneList
} from '../../src/lib/components/zoned';
import { nextDailyRun } from '../../src/lib/core';

/** The nightly run the issue saw: Dec 2 2026, 02:00 in Oslo is 01:00 UTC. */
const RUN = Date.parse('2026-12-02T01:00:00Z');

describe('zonedTime', () => {
	test.each([
		// link zone, device zone, what the screen says
		['Europe/Oslo', 'UTC', 'Wed, Dec 2, 02:00 (Europe/Oslo) · 01:00 on this device (UTC)'],
		['Europe/Oslo', 'Etc/UTC', 'Wed, Dec 2, 02:00 (Europe/Oslo) · 01:00 on this device (UTC)'],
		['Europe/Oslo', 'Europe/Oslo', 'Wed, Dec 2, 02:00 (Europe/Oslo)'],
		// another zone, the same clock at that instant: nothing to add
		['Europe/Oslo', 'Europe/Berlin', 'Wed, Dec 2, 02:00 (Europe/Oslo)'],
		// another day on the device: the date is said too
		[
			'Europe/Oslo',
			'America/New_York',
			'Wed, Dec 2, 02:00 (Europe/Oslo) · Tue, Dec 1, 20:00 on this device (America/New_York)'
		],
		['UTC', 'Asia/Tokyo', 'Wed, Dec 2, 01:00 (UTC) · 10:00 on this device (Asia/Tokyo)']
	])('%s on a %s device: %s', (link, device, text) => {
		expect(zonedTime(RUN, link, device, 'en-US').text).toBe(text);
	});

	test.each([
		['2026-12-01T09:40:00Z', 'Wed, Dec 2, 02:00'],
		['2026-07-01T09:40:00Z', 'Thu, Jul 2, 02:00'],
		// the night clocks spring forward has no 02:00: the run is at the first minute after the gap
		['2026-03-28T12:00:00Z', 'Sun, Mar 29, 03:00']
	])("the edge's next run after %s (core nextDailyRun) reads %s in the link's zone", (now, text) => {
		const at = nextDailyRun(Date.parse(now), 'Europe/Oslo');
		expect(zonedTime(at, 'Europe/Oslo', 'UTC', 'en-US').link).toBe(text);
	});

	test('an ISO string is read as the instant it names', () => {
		expect(zonedTime('2026-12-02T01:00:00.000Z', 'Europe/Oslo', 'UTC', 'en-US')).toMatchObject({
			link: 'Wed, Dec 2, 02:00',
			device: '01:00',
			deviceZone: 'UTC'
		});
	});
});

describe('linkTime', () => {
	test("a run's instant reads in the link's zone once the zone is known, on the device's clock before", () => {
		const iso = new Date(RUN).toISOString();
		expect(linkTime(iso, 'Europe/Oslo', () => 'device')).toMatch(/02:00 \(Europe\/Oslo\)/);
		expect(linkTime(iso, undefined, (at) => `device ${at}`)).toBe(`device ${iso}`);
	});
});

describe('the zone picker', () => {
	const supported = [
		'Africa/Abidjan',
		'America/New_York',
		'America/North_Dakota/New_Salem',
		'Europe/Oslo',
		'Europe/Berlin',
		'Asia/Kolkata'
	];

	test('UTC and the device zone are always listed (Chromium leaves UTC out), UTC first', () => {
		const list = zoneList(supported, 'Etc/UTC');
		expect(list[0]).toBe('UTC');
		expect(list).toContain('Europe/Oslo');
		expect(zoneList(supported, 'Asia/Calcutta')).toContain('Asia/Calcutta');
		expect(canonicalZone('Etc/UTC')).toBe('UTC');
	});

	test.each([
		['oslo', ['Europe/Oslo']],
		['OSLO', ['Europe/Oslo']],
		['new york', ['America/New_York']],
		['new', ['America/New_York', 'America/North_Dakota/New_Salem']],
		['europe/', ['Europe/Oslo', 'Europe/Berlin']],
		['salem dakota', ['America/North_Dakota/New_Salem']],
		['nowhere', []]
	])('typing "%s" lists %o', (query, zones) => {
		expect(searchZones(supported, query)).toEqual(zones);
	});

	test('nothing typed lists every zone, up to the limit', () => {
		expect(searchZones(supported, '  ', 3)).toEqual(supported.slice(0, 3));
	});

	test('a zone typed in full is taken, in any case, with spaces for underscores', () => {
		expect(exactZone(supported, 'europe/oslo')).toBe('Europe/Oslo');
		expect(exactZone(supported, 'America/New York')).toBe('America/New_York');
		expect(exactZone(supported, 'Oslo')).toBeUndefined();
	});

	test('labels carry the offset now, daylight saving included', () => {
		expect(zoneLabel('Europe/Oslo', RUN)).toBe('Europe/Oslo (UTC+01:00)');
		expect(zoneLabel('Europe/Oslo', Date.parse('2026-07-01T00:00:00Z'))).toBe('Europe/Oslo (UTC+02:00)');
		expect(zoneLabel('America/New_York', RUN)).toBe('America/New York (UTC−05:00)');
		expect(zoneLabel('UTC', RUN)).toBe('UTC');
		expect(utcOffset('Asia/Kolkata', RUN)).toBe('UTC+05:30');
	});
});
