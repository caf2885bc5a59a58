/** Which fields a link writes: its own, intersected with what each system holds. */
import { describe, expect, test } from 'vitest';
import { writableFields } from '../../src/lib/core';
import { fieldsOf, opLine, person, personEntry, provision, run, twoWay } from '../support/factories';

const link = {
	personFields: ['displayName', 'familyName', 'employeeNumber'] as const,
	fieldMap: [{ a: 'badge', b: 'badgeNo' }]
};

describe('writableFields', () => {
	test.each([
		['both hold everything', undefined, undefined, ['displayName', 'familyName', 'employeeNumber', 'custom:badge'], []],
		[
			'B has no enterprise extension',
			undefined,
			['displayName', 'familyName', 'custom:badgeNo'],
			['displayName', 'familyName', 'custom:badge'],
			[{ field: 'employeeNumber', missingOn: ['b'] }]
		],
		[
			'a CSV without the employee-number and badge columns',
			['displayName', 'familyName'],
			undefined,
			['displayName', 'familyName'],
			[
				{ field: 'employeeNumber', missingOn: ['a'] },
				{ field: 'custom:badge', missingOn: ['a'] }
			]
		],
		[
			"custom fields are held under each side's own name",
			['displayName', 'familyName', 'employeeNumber', 'custom:badge'],
			['displayName', 'familyName', 'employeeNumber', 'custom:badge'],
			['displayName', 'familyName', 'employeeNumber'],
			[{ field: 'custom:badge', missingOn: ['b'] }]
		]
	] as const)('%s', (_n, a, b, written, omitted) => {
		expect(writableFields({ ...link, personFields: [...link.personFields] }, { a, b })).toEqual({ written, omitted });
	});
});

describe('absent is not empty', () => {
	const eva = (extra = {}) => person('a1', 'Eva', { externalId: 'E1', familyName: 'Smit', ...extra });
	const target = person('b1', 'Eva', { externalId: 'E1', familyName: 'Smit', employeeNumber: '217' });
	const entry = personEntry('a1', 'b1', fieldsOf({ displayName: 'Eva', familyName: 'Smit', employeeNumber: '217' }));

	test("a source that does not provide a field leaves the target's value alone", () => {
		const r = run(
			provision(),
			{ people: [eva()], fields: ['displayName', 'familyName', 'email'] },
			{ people: [target] },
			{ entries: [entry] }
		);
		expect(opLine(r)).toEqual([]);
		expect(r.fields.omitted).toContainEqual({ field: 'employeeNumber', missingOn: ['a'] });
	});

	test('a source that provides the field empty clears it', () => {
		const r = run(provision(), { people: [eva()] }, { people: [target] }, { entries: [entry] });
		expect(r.plan.ops).toEqual([expect.objectContaining({ type: 'update-person', values: { employeeNumber: null } })]);
	});

	test('a target that cannot hold a field gets the real change alone, night after night', () => {
		const renamed = eva({ familyName: 'Jansen', employeeNumber: '217' });
		for (const mode of [provision(), twoWay()]) {
			const r = run(
				mode,
				{ people: [renamed] },
				{
					people: [person('b1', 'Eva', { externalId: 'E1', familyName: 'Smit' })],
					fields: ['displayName', 'familyName']
				},
				{ entries: [personEntry('a1', 'b1', fieldsOf({ displayName: 'Eva', familyName: 'Smit' }))] }
			);
			expect(r.plan.ops).toEqual([
				expect.objectContaining({ type: 'update-person', side: 'b', values: { familyName: 'Jansen' } })
			]);
		}
	});
});
