/**
 * SCIM filters, one case a line: what scim2-parse-filter parses behind the guard, and how the
 * sandbox compares (names and strings without case, identifiers exactly).
 */
import { describe, expect, it } from 'vitest';
import {
	MAX_FILTER_LENGTH,
	ScimSyntaxError,
	equalitySeed,
	matches,
	parseFilter,
	simpleEquality
} from '../../worker/sandbox/scim-filter';

const USER = {
	schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
	id: 'U-1',
	externalId: 'E1',
	userName: 'Ada@Example.org',
	displayName: 'Ada Lovelace',
	title: '',
	active: true,
	emails: [
		{ value: 'ada@example.org', type: 'work', primary: true },
		{ value: 'ada@home.example', type: 'home' }
	],
	'urn:rostersync:params:scim:schemas:extension:2.0:User': { buildings: ['B1', 'B2'], rank: 3 },
	meta: { created: '2026-01-02T00:00:00Z' }
};

describe('matching a User', () => {
	it.each<[string, boolean]>([
		['userName eq "ada@example.org"', true],
		['USERNAME Eq "ADA@EXAMPLE.ORG"', true],
		['urn:ietf:params:scim:schemas:core:2.0:User:userName eq "ada@example.org"', true],
		['id eq "U-1"', true],
		['id eq "u-1"', false],
		['externalId eq "e1"', false],
		['displayName sw "ada"', true],
		['displayName ew "LACE"', true],
		['displayName co "love"', true],
		['displayName ne "Ada Lovelace"', false],
		['nickName ne "x"', true],
		['emails.value eq "ada@home.example"', true],
		['emails eq "ada@example.org"', true],
		['emails[type eq "work" and primary eq true]', true],
		['emails[type eq "home" and primary eq true]', false],
		['emails[type eq "work"].value eq "ada@example.org"', true],
		['active eq true', true],
		['not (active eq true)', false],
		['title pr', false],
		['emails pr', true],
		['nickName pr', false],
		['urn:rostersync:params:scim:schemas:extension:2.0:User:buildings eq "b2"', true],
		['urn:rostersync:params:scim:schemas:extension:2.0:User:rank gt 2', true],
		['urn:rostersync:params:scim:schemas:extension:2.0:User:rank le 2', false],
		['meta.created gt "2026-01-01"', true],
		['userName eq "x" or (displayName co "ada" and not (title pr))', true],
		['userName eq null', false],
		['displayName eq "Ada\\u0020Lovelace"', true],
		['displayName eq "Ada Lovelace\\\\"', false]
	])('%s → %s', (filter, expected) => {
		expect(matches(USER, parseFilter(filter))).toBe(expected);
	});

	it('compares member values exactly inside members[…]', () => {
		const group = { members: [{ value: 'abc' }] };
		expect(matches(group, parseFilter('members[value eq "abc"]'))).toBe(true);
		expect(matches(group, parseFilter('members[value eq "ABC"]'))).toBe(false);
		expect(matches(group, parseFilter('members.value eq "ABC"'))).toBe(false);
		expect(matches({ value: 'abc' }, parseFilter('value eq "ABC"'), ['members'])).toBe(false);
		expect(matches({ type: 'Work' }, parseFilter('type eq "work"'), ['emails'])).toBe(true);
	});
});

describe('refusing filters', () => {
	it.each<[string, RegExp]>([
		['', /empty/],
		['userName eq', /./],
		['userName foo "x"', /./],
		['(userName eq "x"', /./],
		['userName eq x', /./],
		['emails[type eq "work"', /./],
		['userName eq "a\\q"', /invalid escape/],
		['members[value eq "a\\"]', /./],
		['userName eq "a\nb"', /control character/],
		['userName eq "\u0000"', /control character/],
		['user%Name eq "x"', /not an attribute path/],
		['a.b.c eq "x"', /not an attribute path/],
		['x eq 1e999', /out of range/],
		[`${'not ('.repeat(40)}x pr${')'.repeat(40)}`, /nested/],
		[`${'('.repeat(3000)}x pr${')'.repeat(3000)}`, /./],
		[`userName eq "${'x'.repeat(MAX_FILTER_LENGTH)}"`, /longer than/]
	])('%j', (filter, message) => {
		expect(() => parseFilter(filter)).toThrow(ScimSyntaxError);
		expect(() => parseFilter(filter)).toThrow(message);
	});

	it('refuses an unterminated string of newlines at once (the package backtracks exponentially on it)', () => {
		// Before the guard this took hours; no timing is asserted: the refusal names the cause.
		expect(() => parseFilter(`a eq "${'\n'.repeat(60)}`)).toThrow(/control character/);
	});
});

describe('what the sandbox reads out of a filter', () => {
	it.each<[string, ReturnType<typeof simpleEquality>]>([
		['userName eq "Ada"', { attr: 'username', value: 'Ada' }],
		['urn:ietf:params:scim:schemas:core:2.0:User:id eq "x"', { attr: 'id', value: 'x' }],
		['emails.value eq "x"', undefined],
		['userName sw "x"', undefined],
		['userName eq "x" and id eq "y"', undefined]
	])('an index look-up for %s', (filter, expected) => {
		expect(simpleEquality(parseFilter(filter))).toEqual(expected);
	});

	it.each<[string, ReturnType<typeof equalitySeed>]>([
		['type eq "work"', { type: 'work' }],
		['type eq "work" and primary eq true', { type: 'work', primary: true }],
		['type co "work"', undefined],
		['type eq "work" or type eq "home"', undefined]
	])('the element %s pins', (filter, expected) => {
		expect(equalitySeed(parseFilter(filter))).toEqual(expected);
	});
});
