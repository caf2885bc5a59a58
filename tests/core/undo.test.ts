/** Undo's baseline: entries a run removed come back under the ids the undo re-created them with. */
import { describe, expect, test } from 'vitest';
import { recreatedIds, restoredEntry, type BaselineEntry, type Op, type OpOutcome } from '../../src/lib/core';
import { STEP } from '../../src/lib/core/ops';
import { personEntry } from '../support/factories';

const recreate = (side: 'a' | 'b', restoreId: string, outcome?: OpOutcome): { op: Op; outcome?: OpOutcome } => ({
	op: {
		key: `c-${side}-${restoreId}`,
		type: 'create-person',
		side,
		step: STEP.people,
		record: { displayName: 'Eva', active: true },
		restoreId
	},
	outcome
});
const done = (key: string, id?: string): OpOutcome => ({ key, status: 'done', ...(id ? { id } : {}) });

const person = personEntry('a1', 'b1', { displayName: 'Eva' }, { origin: 'created' });
const crew: BaselineEntry = {
	kind: 'group',
	a: 'ga',
	b: 'gb',
	origin: 'created',
	fields: { name: 'Crew' },
	members: [
		['a1', 'b1', 'member'],
		['a2', 'b2', 'manager']
	]
};

describe('restoredEntry', () => {
	test.each([
		['kept its id: the entry as it was', [recreate('b', 'b1', done('c-b-b1', 'b1'))], person, person],
		[
			'given a new id (SCIM assigns ids): the entry names it',
			[recreate('b', 'b1', done('c-b-b1', 'b9'))],
			person,
			{ ...person, b: 'b9' }
		],
		['an id not said: the one asked for', [recreate('b', 'b1', done('c-b-b1'))], person, person],
		['not re-created: the pair is new again, not a removal', [recreate('b', 'b1')], person, undefined],
		['failed: the same', [recreate('b', 'b1', { key: 'c-b-b1', status: 'failed', error: '409' })], person, undefined],
		['nothing re-created: the entry as it was', [], person, person],
		[
			"a group's member re-created under a new id, another not re-created",
			[recreate('b', 'b1', done('c-b-b1', 'b9')), recreate('b', 'b2')],
			crew,
			{ ...crew, members: [['a1', 'b9', 'member']] }
		]
	] as const)('%s', (_name, undo, entry, expected) => {
		expect(restoredEntry(entry, recreatedIds(undo))).toEqual(expected);
	});

	test('the side matters: an id re-created on A does not rename a record on B', () => {
		const recreated = recreatedIds([recreate('a', 'b1', done('c-a-b1', 'x'))]);
		expect(restoredEntry(person, recreated)).toEqual(person);
	});
});
