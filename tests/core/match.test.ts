/** Matching's baseline pass: which entry keeps a record two entries name. */
import { describe, expect, test } from 'vitest';
import { match, type MatchInput } from '../../src/lib/core/match';
import type { BaselineEntry, Person } from '../../src/lib/core';
import { person, personEntry } from '../support/factories';

const people = (...ids: string[]) => new Map<string, Person>(ids.map((id) => [id, person(id, id)]));
const entry = (a: string, b: string): BaselineEntry => personEntry(a, b, {});
const run = (a: string[], b: string[], baseline: BaselineEntry[]) => {
	const input: MatchInput<Person> = {
		a: people(...a),
		b: people(...b),
		baseline,
		forced: [],
		excluded: { a: new Set(), b: new Set() },
		passes: []
	};
	const m = match(input);
	return {
		pairs: m.pairs.map((p) => `${p.a.id}=${p.b.id}`),
		broken: m.broken.map((x) => `${x.entry.a}/${x.entry.b}`),
		onlyA: m.onlyA.map((p) => p.id),
		onlyB: m.onlyB.map((p) => p.id)
	};
};

describe('baseline entries naming the same record', () => {
	test.each([
		[
			'one entry a record',
			['a1', 'a2'],
			['b1', 'b2'],
			[entry('a1', 'b1'), entry('a2', 'b2')],
			['a1=b1', 'a2=b2'],
			[],
			[],
			[]
		],
		// The first entry keeps a1; b2, which only the second named, is free to be matched anew.
		['two entries name a1', ['a1'], ['b1', 'b2'], [entry('a1', 'b1'), entry('a1', 'b2')], ['a1=b1'], [], [], ['b2']],
		['two entries name b1', ['a1', 'a2'], ['b1'], [entry('a1', 'b1'), entry('a2', 'b1')], ['a1=b1'], [], ['a2'], []],
		// The first entry holds its records even when one of them is gone: the second stays out.
		['the first entry is broken', ['a1'], ['b2'], [entry('a1', 'b1'), entry('a1', 'b2')], [], ['a1/b1'], [], ['b2']],
		[
			'both ids taken by two entries',
			['a1', 'a2'],
			['b1', 'b2'],
			[entry('a1', 'b1'), entry('a2', 'b2'), entry('a1', 'b2')],
			['a1=b1', 'a2=b2'],
			[],
			[],
			[]
		]
	])('%s', (_case, a, b, baseline, pairs, broken, onlyA, onlyB) => {
		expect(run(a, b, baseline)).toEqual({ pairs, broken, onlyA, onlyB });
	});
});
