/**
 * After a reload that could not read a system, the review keeps the last good read: the note says
 * which system failed, when (in the link's zone) and why, as a status rather than an alert.
 */
import { describe, expect, it } from 'vitest';
import { render } from 'svelte/server';
import ReadFailureNote from '$lib/components/ReadFailureNote.svelte';

describe('ReadFailureNote', () => {
	const failure = {
		code: 'source-failed' as const,
		system: 'sys_team',
		message: 'System sys_team could not be read (auth: 401); nothing was written.',
		at: '2026-12-01T23:30:00.000Z'
	};

	it.each([
		['Europe/Oslo', /Dec 2, 2026,? 12:30\s?AM \(Europe\/Oslo\)/],
		['UTC', /Dec 1, 2026,? 11:30\s?PM \(UTC\)/]
	])('names the system and the time of the failure in the link zone %s', (timeZone, time) => {
		const { body } = render(ReadFailureNote, { props: { failure, systemName: 'Team Manager', timeZone } });
		const text = body.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ');
		expect(text).toMatch(/^ ?Showing the last good read\. Team Manager could not be read at /);
		expect(text).toMatch(time);
		expect(text).toContain(failure.message);
		expect(body).toContain('role="status"');
	});
});
