/**
 * Undo's baseline: entries a run removed come back under the ids the undo re-created them with, and
 * each pair goes back only as far as the undo's own operations on it succeeded.
 */
import { describe, expect, test } from 'vitest';
import {
	recreatedIds,
	restoredEntry,
	revertChanges,
	type BaselineEntry,
	type Op,
	type OpOutcome
} from '../../src/lib/core';
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

describe('revertChanges', () => {
	const failed = (key: string): OpOutcome => ({ key, status: 'failed', error: '503' });
	/** An undo operation and how it ended. */
	const ran = (op: Op, outcome: 'done' | 'failed') => ({
		op,
		outcome: outcome === 'done' ? done(op.key) : failed(op.key)
	});
	const removePerson = (side: 'a' | 'b', id: string, outcome: 'done' | 'failed') =>
		ran(
			{
				key: `rm-${side}-${id}`,
				type: 'remove-person',
				side,
				step: STEP.peopleRemovals,
				target: { id },
				soft: false,
				before: { id, displayName: 'Eva', active: true },
				beforeMembers: []
			},
			outcome
		);
	const removeMember = (side: 'a' | 'b', group: string, person: string, outcome: 'done' | 'failed') =>
		ran(
			{
				key: `rmm-${side}-${group}-${person}`,
				type: 'remove-membership',
				side,
				step: STEP.membershipRemovals,
				group: { id: group },
				person: { id: person },
				before: 'member'
			},
			outcome
		);
	const removeGroup = (side: 'a' | 'b', id: string, outcome: 'done' | 'failed') =>
		ran(
			{
				key: `rmg-${side}-${id}`,
				type: 'remove-group',
				side,
				step: STEP.groupRemovals,
				target: { id },
				before: { id, name: 'Crew', kind: 'group' },
				beforeMembers: []
			},
			outcome
		);
	const updated = { ...person, fields: { displayName: 'Eva (edited)' } };

	test.each([
		[
			'a person the run made, removed by the undo: the pair goes',
			[{ action: 'ins', entry: person }],
			[removePerson('b', 'b1', 'done')],
			{ remove: [person], put: [] }
		],
		[
			'its removal failed: the record is still there, and so is the pair',
			[{ action: 'ins', entry: person }],
			[removePerson('b', 'b1', 'failed')],
			{ remove: [], put: [] }
		],
		[
			'an update changed back: the old values return',
			[
				{ action: 'ins', entry: updated },
				{ action: 'del', entry: person }
			],
			[],
			{ remove: [updated], put: [person] }
		],
		[
			'an update not changed back: the values the record still has stay',
			[
				{ action: 'ins', entry: updated },
				{ action: 'del', entry: person }
			],
			[
				{
					op: {
						key: 'up',
						type: 'update-person',
						side: 'b',
						step: STEP.people,
						target: { id: 'b1' },
						values: { displayName: 'Eva' },
						before: { displayName: 'Eva (edited)' }
					} as Op,
					outcome: failed('up')
				}
			],
			{ remove: [], put: [] }
		],
		[
			'a group the run made, not removed: it stays, without the members the undo did remove',
			[{ action: 'ins', entry: crew }],
			[
				removeMember('b', 'gb', 'b1', 'done'),
				removeMember('b', 'gb', 'b2', 'failed'),
				removeGroup('b', 'gb', 'failed')
			],
			{ remove: [crew], put: [{ ...crew, members: [['a2', 'b2', 'manager']] }] }
		],
		[
			'a record the run made again, its removal failed: the new pair stays, the old one does not return',
			[
				{ action: 'ins', entry: { ...person, b: 'b3' } },
				{ action: 'del', entry: person }
			],
			[removePerson('b', 'b3', 'failed')],
			{ remove: [], put: [] }
		],
		[
			"a grant the undo could not take back: the pair goes back, with sync's grant",
			[
				{ action: 'ins', entry: { ...person, access: true } },
				{ action: 'del', entry: person }
			],
			[
				{
					op: {
						key: 'rv',
						type: 'revoke-access',
						side: 'b',
						step: STEP.membershipRemovals,
						target: { id: 'b1' }
					} as Op,
					outcome: failed('rv')
				}
			],
			{ remove: [{ ...person, access: true }], put: [{ ...person, access: true }] }
		],
		[
			'a revocation the undo could not take back: the pair goes back without the grant',
			[
				{ action: 'ins', entry: person },
				{ action: 'del', entry: { ...person, access: true } }
			],
			[
				{
					op: { key: 'gr', type: 'grant-access', side: 'b', step: STEP.memberships, target: { id: 'b1' } } as Op,
					outcome: failed('gr')
				}
			],
			{ remove: [person], put: [person] }
		],
		[
			'a group the run made, removed: it goes',
			[{ action: 'ins', entry: crew }],
			[removeMember('b', 'gb', 'b1', 'done'), removeMember('b', 'gb', 'b2', 'done'), removeGroup('b', 'gb', 'done')],
			{ remove: [crew], put: [] }
		]
	] as const)('%s', (_name, changes, undo, expected) => {
		expect(revertChanges(changes, undo)).toEqual(expected);
	});
});
