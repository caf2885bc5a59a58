import { describe, expect, it } from 'vitest';
import { columnChanges, readHeader, reuseColumns, usedColumns, type CsvColumns } from '$lib/api/csv-columns';

const MAP: CsvColumns = {
	externalId: 'Employee ID',
	displayName: 'Name',
	email: 'Email',
	communities: 'Team',
	custom: { grade: 'Grade', site: 'Team' }
};
const HEADER = ['Employee ID', 'Name', 'Email', 'Team', 'Grade', 'Notes'];

describe('a saved column map against a new file', () => {
	it('lists every column a map uses with its fields', () => {
		expect([...usedColumns(MAP)]).toEqual([
			['Employee ID', ['externalId']],
			['Name', ['displayName']],
			['Email', ['email']],
			['Team', ['communities', 'custom:site']],
			['Grade', ['custom:grade']]
		]);
	});

	it.each([
		['the same header', HEADER, [], []],
		['a new column', [...HEADER, 'Cost center'], ['Cost center'], []],
		['a mapped column gone', HEADER.filter((c) => c !== 'Grade'), [], [{ column: 'Grade', fields: ['custom:grade'] }]],
		['an unmapped column gone: nothing to say', HEADER.filter((c) => c !== 'Notes'), [], []],
		['case and spaces aside, the same column', [' employee id', 'NAME', 'email', 'team', 'grade', 'notes'], [], []],
		[
			'a renamed column: one new, one missing',
			['Employee ID', 'Full name', 'Email', 'Team', 'Grade', 'Notes'],
			['Full name'],
			[{ column: 'Name', fields: ['displayName'] }]
		],
		[
			'a column two fields use, gone',
			HEADER.filter((c) => c !== 'Team'),
			[],
			[{ column: 'Team', fields: ['communities', 'custom:site'] }]
		]
	])('%s', (_, header, added, missing) => {
		expect(columnChanges({ columns: MAP, header: HEADER }, header)).toEqual({ added, missing });
	});

	it("keeps each field on its column where the file has it, under the file's spelling", () => {
		expect(reuseColumns(MAP, ['employee id', 'Name', 'Team', 'Notes'])).toEqual({
			externalId: 'employee id',
			displayName: 'Name',
			communities: 'Team',
			custom: { site: 'Team' }
		});
	});

	it('leaves the identifier empty, not absent, when its column is gone (the form asks for it)', () => {
		expect(reuseColumns(MAP, ['Name'])).toEqual({ externalId: '', displayName: 'Name' });
	});

	it('reads a header row as the edge and the form both do', () => {
		expect(readHeader('\uFEFF ID , Name,,ID,"Cost, center"\n1,2,3,4,5')).toEqual(['ID', 'Name', 'Cost, center']);
		expect(readHeader('')).toEqual([]);
	});
});
