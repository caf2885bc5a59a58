/**
 * The CSV connector: an uploaded export as a read-only source. A good file is a snapshot; a
 * file with errors is one error naming every bad row and column, and no snapshot.
 */
import { describe, expect, it } from 'vitest';
import { CsvConnector, parseGroupItem, splitList, type CsvColumns } from '../../worker/connectors/csv';
import { ConnectorError } from '../../worker/connectors/types';
import { connectorError } from '../support/scim-suite';

const COLUMNS: CsvColumns = {
	externalId: 'Employee ID',
	givenName: 'First',
	familyName: 'Last',
	email: 'Email',
	phone: 'Phone',
	memberType: 'Type',
	active: 'Status',
	buildings: 'Sites',
	communities: 'Teams',
	functions: 'Roles',
	custom: { badge: 'Badge' }
};

const HEADER = 'Employee ID,First,Last,Email,Phone,Type,Status,Sites,Teams,Roles,Badge';

const csv = (...rows: string[]) => [HEADER, ...rows].join('\r\n');
const connector = (text: string, columns: CsvColumns = COLUMNS) =>
	new CsvConnector({ systemId: 'hr-export', text, columns, clock: { now: () => Date.UTC(2026, 0, 1) } });

describe('CSV connector', () => {
	it('reads a good file into people, communities, functions and memberships', async () => {
		const snapshot = await connector(
			csv(
				'E1,Ada,Lovelace,ada@example.org,+44 20 7946 0000,Staff,yes,North;East,North Campus [NC01]|OPS,Shift lead [LEAD],B-1',
				'E2,Alan,Turing,alan@example.org,,student,,North,NC01,,',
				'',
				'E3,Grace,Hopper,,,staff,inactive,,"OPS; NC01",LEAD,B-3'
			)
		).read();

		expect(snapshot).toMatchObject({ system: 'hr-export', takenAt: '2026-01-01T00:00:00.000Z' });
		expect(snapshot.version).toMatch(/^[0-9a-f]{16}$/);
		expect(snapshot.people).toEqual([
			{
				id: 'E1',
				externalId: 'E1',
				displayName: 'Ada Lovelace',
				givenName: 'Ada',
				familyName: 'Lovelace',
				email: 'ada@example.org',
				phone: '+44 20 7946 0000',
				memberType: 'staff',
				buildings: ['East', 'North'],
				active: true,
				custom: { badge: 'B-1' }
			},
			{
				id: 'E2',
				externalId: 'E2',
				displayName: 'Alan Turing',
				givenName: 'Alan',
				familyName: 'Turing',
				email: 'alan@example.org',
				memberType: 'student',
				buildings: ['North'],
				active: true
			},
			{
				id: 'E3',
				externalId: 'E3',
				displayName: 'Grace Hopper',
				givenName: 'Grace',
				familyName: 'Hopper',
				memberType: 'staff',
				active: false,
				custom: { badge: 'B-3' }
			}
		]);
		expect(snapshot.groups).toEqual([
			{ id: 'LEAD', externalId: 'LEAD', name: 'Shift lead', kind: 'function' },
			{ id: 'NC01', externalId: 'NC01', name: 'North Campus', kind: 'community' },
			{ id: 'OPS', externalId: 'OPS', name: 'OPS', kind: 'community' }
		]);
		const memberships = snapshot.memberships.map((m) => `${m.groupId}:${m.personId}:${m.role}`).sort();
		expect(memberships).toEqual([
			'LEAD:E1:member',
			'LEAD:E3:member',
			'NC01:E1:member',
			'NC01:E2:member',
			'NC01:E3:member',
			'OPS:E1:member',
			'OPS:E3:member'
		]);
	});

	it('gives the same version to the same content in another order', async () => {
		const rows = ['E1,Ada,L,,,staff,,,A,,', 'E2,Alan,T,,,staff,,,A,,'];
		const [a, b] = await Promise.all([connector(csv(...rows)).read(), connector(csv(...[...rows].reverse())).read()]);
		expect(a.version).toBe(b.version);
		const changed = await connector(csv(rows[0], 'E2,Alan,Turing,,,staff,,,A,,')).read();
		expect(changed.version).not.toBe(a.version);
	});

	it('rejects a file with errors, naming every bad row and column, and gives no snapshot', async () => {
		const text = csv(
			'E1,Ada,Lovelace,ada@example.org,,staff,,,,,', // row 2: fine
			'E1,Ada,Again,ada2@example.org,,staff,,,,,', // row 3: duplicate identifier
			',Nobody,Known,nobody@example.org,,staff,,,,,', // row 4: no identifier
			'E4,Bad,Mail,not-an-email,,staff,,,,,', // row 5: email
			'E5,Odd,Type,,,teacher,maybe,,,,', // row 6: member type and status
			'E6,Short,Row', // row 7: too few columns
			'E7,,,,,staff,,,,,', // row 8: no name
			'E8,Two,Names,,,staff,,,Ops [X1],,', // row 9: fine so far...
			'E9,Two,Names,,,staff,,,Operations [X1],X1,' // row 10: ...X1 named twice, and used as a function
		);
		const error = await connectorError(connector(text).read());
		expect(error).toMatchObject({ code: 'invalid', system: 'hr-export' });
		expect(error.issues.map((i) => [i.row, i.column])).toEqual([
			[3, 'Employee ID'],
			[4, 'Employee ID'],
			[5, 'Email'],
			[6, 'Type'],
			[6, 'Status'],
			[7, undefined],
			[8, 'Employee ID'],
			[10, 'Teams'],
			[10, 'Roles']
		]);
		expect(error.issues[0].message).toContain('also on row 2');
		expect(error.issues[5].message).toBe('expected 11 columns, found 3');
		expect(error.message).toContain('9 problems');
		expect(error.message).toContain('row 5, column Email: "not-an-email" is not an email address');
	});

	it.each([
		{
			case: 'a mapped column missing from the header',
			text: 'Employee ID,First\nE1,Ada',
			issue: { row: 1, column: 'Last' }
		},
		{ case: 'an empty file', text: '', issue: { row: 1 } },
		{ case: 'a header and no rows', text: `${HEADER}\n\n`, issue: { row: 2 } },
		{ case: 'an unclosed quote', text: csv('E1,"Ada,Lovelace,,,staff,,,,,'), issue: { row: 2 } }
	])('rejects $case', async ({ text, issue }) => {
		const error = await connectorError(connector(text, { ...COLUMNS, custom: {} }).read());
		expect(error.code).toBe('invalid');
		expect(error.issues[0]).toMatchObject(issue);
	});

	it('matches header names case-insensitively and ignores unmapped columns', async () => {
		const snapshot = await connector('\uFEFFemployee id,NAME,Notes\nE1,Ada Lovelace,whatever', {
			externalId: 'Employee ID',
			displayName: 'Name'
		}).read();
		expect(snapshot.people).toEqual([{ id: 'E1', externalId: 'E1', displayName: 'Ada Lovelace', active: true }]);
		expect(snapshot.groups).toEqual([]);
	});

	it('is read-only, and says what it holds', async () => {
		const c = connector(csv('E1,Ada,L,,,staff,,,,,'));
		await expect(c.apply()).rejects.toBeInstanceOf(ConnectorError);
		await expect(c.apply()).rejects.toMatchObject({ code: 'unsupported' });
		expect(await c.discover()).toEqual({
			write: false,
			groups: true,
			roles: false,
			groupKinds: true,
			filter: false,
			softRemove: false,
			personFields: ['displayName', 'givenName', 'familyName', 'email', 'phone', 'memberType', 'buildings', 'active'],
			customFields: ['badge']
		});
	});

	it.each([
		{
			case: 'identifier and name only',
			columns: { externalId: 'ID', displayName: 'Name' },
			personFields: ['displayName'],
			customFields: [],
			groups: false
		},
		{
			// Every row still has a name: given and family names make it.
			case: 'no name column',
			columns: { externalId: 'ID', givenName: 'First', familyName: 'Last', functions: 'Roles' },
			personFields: ['displayName', 'givenName', 'familyName'],
			customFields: [],
			groups: true
		},
		{
			case: 'an employee number column',
			columns: { externalId: 'ID', displayName: 'Name', employeeNumber: 'Emp', custom: { grade: 'Grade' } },
			personFields: ['displayName', 'employeeNumber'],
			customFields: ['grade'],
			groups: false
		},
		{
			// A blank column name would match a header's empty column (a trailing comma): it maps nothing.
			case: 'blank column names',
			columns: { externalId: 'ID', displayName: 'Name', employeeNumber: ' ', communities: '', custom: { grade: '' } },
			personFields: ['displayName'],
			customFields: [],
			groups: false
		}
	] satisfies { case: string; columns: CsvColumns; personFields: string[]; customFields: string[]; groups: boolean }[])(
		'holds exactly the mapped columns: $case',
		async ({ columns, personFields, customFields, groups }) => {
			const c = connector('ID,Name,First,Last,Emp,Grade,Roles,\nE1,Ada,Ada,L,7,G1,R1,', columns);
			expect(await c.discover()).toMatchObject({ personFields, customFields, groups });
			// What the capabilities say is what a read gives.
			const [person] = (await c.read()).people;
			const present = Object.keys(person).filter((k) => !['id', 'externalId', 'custom', 'active'].includes(k));
			expect(present.sort()).toEqual(personFields.filter((f) => f !== 'active').sort());
			expect(Object.keys(person.custom ?? {})).toEqual(customFields);
		}
	);

	it.each([
		{ cell: 'a;b|c', list: ['a', 'b', 'c'] },
		{ cell: ' a ; ;b; ', list: ['a', 'b'] },
		{ cell: '', list: [] }
	])('splits list cell "$cell"', ({ cell, list }) => {
		expect(splitList(cell)).toEqual(list);
	});

	it.each([
		{ item: 'NC01', parsed: { id: 'NC01', name: 'NC01', named: false } },
		{ item: 'North Campus [NC01]', parsed: { id: 'NC01', name: 'North Campus', named: true } },
		{ item: 'Team (temp) [T 1]', parsed: { id: 'T 1', name: 'Team (temp)', named: true } },
		{ item: 'Broken [', parsed: { error: expect.stringContaining('neither') } },
		{ item: 'Empty []', parsed: { error: expect.stringContaining('empty identifier') } }
	])('reads group item "$item"', ({ item, parsed }) => {
		expect(parseGroupItem(item)).toEqual(parsed);
	});
});
