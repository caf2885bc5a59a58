/** An answer in words: what it does and to whom, one case a line. */
import { describe, expect, test } from 'vitest';
import type { Resolution } from '../../src/lib/core';
import type { RecordName } from '../../src/lib/db/schema';
import { answerStateText, answerWords, changedWords } from '../../src/lib/components/answer-words';

const systems = { a: 'Operations Center', b: 'Team Manager' };
const ref = (side: 'a' | 'b', id: string, kind: 'person' | 'group' = 'person') => ({ side, kind, id, version: 'v1' });
const who: RecordName[] = [
	{ side: 'a', kind: 'person', id: 'a1', name: 'Ada Berg' },
	{ side: 'b', kind: 'person', id: 'b1', name: 'Ada Berg' },
	{ side: 'a', kind: 'person', id: 'a2', name: 'Bo Dahl' },
	{ side: 'b', kind: 'person', id: 'b2', name: 'Bo Dahl (duplicate)' },
	{ side: 'b', kind: 'person', id: 'b3', name: 'Bo Dahl' },
	{ side: 'a', kind: 'group', id: 'g1', name: 'Logistics' },
	{ side: 'b', kind: 'group', id: 'g2', name: 'Logistics' }
];
const r = (
	conflictId: string,
	choice: Resolution['choice'],
	against: Resolution['against'],
	extra: Partial<Resolution> = {}
) => ({ conflictId, choice, against, ...extra }) as Resolution;

describe('answerWords', () => {
	test.each([
		// changed-vs-removed: removed in B, kept in A; take-a keeps, take-b removes (and the mirror)
		[r('changed-vs-removed:person:x', 'take-a', [ref('a', 'a1')]), 'Keep Ada Berg: created again in Team Manager'],
		[r('changed-vs-removed:person:y', 'take-b', [ref('a', 'a2')]), 'Remove Bo Dahl from Operations Center too'],
		[r('changed-vs-removed:person:z', 'take-b', [ref('b', 'b1')]), 'Keep Ada Berg: created again in Operations Center'],
		[r('changed-vs-removed:person:w', 'take-a', [ref('b', 'b3')]), 'Remove Bo Dahl from Team Manager too'],
		// both-changed
		[r('both-changed:person:q', 'take-b', [ref('a', 'a1'), ref('b', 'b1')]), "Ada Berg: use Team Manager's values"],
		[
			r('both-changed:person:q', 'per-field', [ref('a', 'a1'), ref('b', 'b1')], { fields: { email: 'a', phone: 'b' } }),
			'Ada Berg: email from Operations Center and phone from Team Manager'
		],
		// ambiguous-match and name-collision
		[
			r('ambiguous-match:person:m', 'link', [ref('a', 'a2'), ref('b', 'b2'), ref('b', 'b3')], {
				link: { a: 'a2', b: 'b3' }
			}),
			'Link Bo Dahl (Operations Center) with Bo Dahl (Team Manager): one person, synced'
		],
		[
			r('ambiguous-match:person:m', 'ignore', [ref('a', 'a2'), ref('b', 'b2')]),
			'Ignore Bo Dahl (Operations Center) and Bo Dahl (duplicate) (Team Manager): sync leaves them alone'
		],
		[
			r('name-collision:group:n', 'create-new', [ref('a', 'g1', 'group'), ref('b', 'g2', 'group')]),
			'Create as new: Logistics (Operations Center) and Logistics (Team Manager), each added to the other system'
		],
		[r('threshold:person:t', 'approve-deletes', []), 'Approve the staged removals'],
		// a record this device never saw by name is named by its id, never left out
		[r('both-changed:person:u', 'take-a', [ref('a', 'a9'), ref('b', 'b9')]), "a9 / b9: use Operations Center's values"]
	])('%o → %s', (resolution, words) => {
		expect(answerWords(resolution, {}, systems, who)).toBe(words);
	});

	test('the context given wins over what the id says', () => {
		const answer = r('opaque-id', 'take-a', [ref('a', 'a1')]);
		expect(answerWords(answer, { reason: 'changed-vs-removed', removedSide: 'b' }, systems, who)).toBe(
			'Keep Ada Berg: created again in Team Manager'
		);
	});

	test('the two answers the issue saw as "take-a" twice read differently', () => {
		const keep = answerWords(r('changed-vs-removed:person:1', 'take-a', [ref('a', 'a1')]), {}, systems, who);
		const remove = answerWords(r('changed-vs-removed:person:2', 'take-a', [ref('b', 'b3')]), {}, systems, who);
		expect([keep, remove]).toEqual([
			'Keep Ada Berg: created again in Team Manager',
			'Remove Bo Dahl from Team Manager too'
		]);
	});
});

describe('changedWords and state texts', () => {
	test('what changed under a stale answer, by name and system', () => {
		expect(changedWords([{ then: ref('b', 'b1'), now: ref('b', 'b1') }, { then: ref('a', 'a7') }], systems, who)).toBe(
			'Ada Berg in Team Manager changed; a7 in Operations Center is gone'
		);
	});

	test('a waiting answer says when it goes out; a refused one says why', () => {
		expect(answerStateText('waiting', false)).toBe('On this device: sent when the connection returns.');
		expect(answerStateText('waiting', true)).toBe('On this device, being sent to the edge.');
		expect(answerStateText('refused', true, 'No such conflict.')).toBe('The edge refused it: No such conflict.');
	});
});
