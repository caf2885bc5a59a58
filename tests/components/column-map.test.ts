/**
 * The column map the browser builds for a CSV upload: the header row, the first guess per field,
 * the `columns` body, and that the edge's own parser takes the map the browser built.
 */
import { describe, expect, test } from 'vitest';
import {
	buildColumnMap,
	customNameFor,
	guessColumns,
	readHeader,
	unusedColumns
} from '../../src/lib/components/column-map';
import { parseRoster, type CsvColumns } from '../../worker/connectors/csv';

describe('header row', () => {
	test.each([
		['plain', 'id,email\n1,a@x.org', ['id', 'email']],
		['byte order mark, CRLF, spaces', '\uFEFF id , Email \r\n1,a', ['id', 'Email']],
		['quoted names with commas', '"Name, full","Teams"\n"A, B",T1', ['Name, full', 'Teams']],
		['blanks and repeats left out', 'id,,id,email', ['id', 'email']],
		['semicolons as the delimiter', 'id;email;phone\n1;a@x.org;1', ['id', 'email', 'phone']],
		['empty file', '', []],
		['one column', 'externalId\n1', ['externalId']]
	])('%s', (_, text, header) => expect(readHeader(text)).toEqual(header));

	test('only the first row is parsed', () => {
		const big = ['id,email', ...Array.from({ length: 50_000 }, (_, i) => `${i},"unterminated`)].join('\n');
		expect(readHeader(big)).toEqual(['id', 'email']);
	});
});

describe('first guess', () => {
	test('a header naming a field, in any case or spacing, is chosen for it', () => {
		expect(
			guessColumns(['EXTERNALID', 'Display Name', 'given_name', 'family-name', 'email', 'Communities', 'Grade'])
		).toEqual({
			externalId: 'EXTERNALID',
			displayName: 'Display Name',
			givenName: 'given_name',
			familyName: 'family-name',
			email: 'email',
			communities: 'Communities'
		});
	});
	test('an exact (case-insensitive) name wins over a loose one', () => {
		expect(guessColumns(['E mail', 'Email']).email).toBe('Email');
	});
	test('custom field names from columns', () => {
		expect(['Grade', 'Cost center', '2nd grade', 'x'].map(customNameFor)).toEqual([
			'grade',
			'costCenter',
			'f2ndGrade',
			'x'
		]);
	});
});

describe('columns body', () => {
	test('unmapped fields are left out; custom fields by name', () => {
		const built = buildColumnMap({ externalId: 'ID', email: 'Mail', phone: '' }, [{ name: 'grade', column: 'Grade' }]);
		expect(built).toEqual({ columns: { externalId: 'ID', email: 'Mail', custom: { grade: 'Grade' } }, problems: [] });
	});
	test('every problem is named', () => {
		const built = buildColumnMap({}, [
			{ name: '9lives', column: 'A' },
			{ name: 'grade', column: '' },
			{ name: 'grade', column: 'B' },
			{ name: '', column: '' }
		]);
		expect(built.columns).toBeUndefined();
		expect(built.problems).toEqual([
			'Choose the column that holds the identifier.',
			'Custom field "9lives": a name starts with a letter and has only letters, digits, _ and - (64 at most).',
			'Custom field "grade": choose its column.',
			'Custom field "grade" is there twice.'
		]);
	});
	test('columns no field uses', () => {
		expect(unusedColumns(['A', 'B', 'C', 'D'], { externalId: 'A', email: '' }, [{ name: 'c', column: 'C' }])).toEqual([
			'B',
			'D'
		]);
	});
});

describe('the edge takes the map the browser builds', () => {
	// The demo's HR export (worker/sandbox/seed.ts): its header and column map.
	const HR_COLUMNS: CsvColumns = {
		externalId: 'Employee ID',
		givenName: 'First name',
		familyName: 'Last name',
		email: 'Email',
		phone: 'Mobile',
		memberType: 'Member type',
		buildings: 'Buildings',
		communities: 'Communities',
		functions: 'Functions',
		custom: { grade: 'Grade' }
	};
	const csv = [
		'Employee ID,First name,Last name,Email,Mobile,Member type,Buildings,Communities,Functions,Grade',
		'E10001,Ada,Berg,ada.berg@example.org,+47 90000001,staff,B1;B2,North Station [ST-N],Firefighter [FN-FF];Driver [FN-DRV],Firefighter',
		'E10002,Bo,Dahl,bo.dahl@example.org,+47 90000002,staff,B1,ST-N,FN-FF,Crew Manager'
	].join('\n');

	test('the HR export, mapped as an owner would', () => {
		const header = readHeader(csv);
		const guess = guessColumns(header);
		expect(guess).toEqual({
			email: 'Email',
			memberType: 'Member type',
			buildings: 'Buildings',
			communities: 'Communities',
			functions: 'Functions'
		});
		const choice = {
			...guess,
			externalId: 'Employee ID',
			givenName: 'First name',
			familyName: 'Last name',
			phone: 'Mobile'
		};
		const built = buildColumnMap(choice, [{ name: customNameFor('Grade'), column: 'Grade' }]);
		expect(built.columns).toEqual(HR_COLUMNS);
		const records = parseRoster(csv, built.columns!, 'hr-export');
		expect([records.people.length, records.groups.length, records.memberships.length]).toEqual([2, 3, 5]);
	});
});
