/**
 * Canonical JSON feeds every operation's key, and keys are stored in journals: the text must stay
 * exactly what it was, whatever the implementation.
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { canonicalJson } from '../../src/lib/core';

/** The definition: sorted keys, undefined properties left out, everything else as JSON.stringify writes it. */
function reference(value: unknown): string {
	if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
	if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
	const obj = value as Record<string, unknown>;
	const keys = Object.keys(obj)
		.filter((k) => obj[k] !== undefined)
		.sort();
	return `{${keys.map((k) => `${JSON.stringify(k)}:${reference(obj[k])}`).join(',')}}`;
}

describe('canonicalJson', () => {
	test.each([
		[{ b: 1, a: [1, 'x', null, { d: undefined, c: true }] }, '{"a":[1,"x",null,{"c":true}],"b":1}'],
		[{ only: undefined }, '{}'],
		[{ z: undefined, y: 'é"\n' }, '{"y":"é\\"\\n"}'],
		[[undefined, 2], '[null,2]'],
		['text', '"text"']
	])('%j', (value, text) => {
		expect(canonicalJson(value)).toBe(text);
	});

	test('writes what the definition writes, for any JSON-like value with absent fields', () => {
		const leaf = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined));
		const { tree } = fc.letrec((tie) => ({
			tree: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('tree')), fc.dictionary(fc.string(), tie('tree')))
		}));
		fc.assert(
			fc.property(tree, (value) => canonicalJson(value) === reference(value)),
			{ numRuns: 500 }
		);
	});
});
