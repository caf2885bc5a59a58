/** A system's people map: where buildings and member type are read, for SCIM and CSV alike. */
import { describe, expect, test } from 'vitest';
import { buildingsOf, memberTypeOf, memberTypeValues } from '../../worker/connectors/people-map';
import {
	personFieldsOf,
	personPatch,
	personToUser,
	userToPerson,
	type ScimProfile
} from '../../worker/connectors/scim-map';
import { CsvConnector } from '../../worker/connectors/csv';
import { ConnectorError } from '../../worker/connectors/types';

const EXT = 'urn:rostersync:params:scim:schemas:extension:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const profile = (peopleMap?: ScimProfile['peopleMap']): ScimProfile => ({
	enterprise: true,
	userExt: EXT,
	userExtAttributes: ['buildings'],
	fieldMap: {},
	attributeTypes: {},
	defaultGroupKind: 'group',
	peopleMap
});
const user = (extra: Record<string, unknown>) => ({
	schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
	id: 'u1',
	userName: 'ada',
	userType: 'staff',
	[EXT]: { buildings: ['north'] },
	...extra
});
const read = (raw: unknown, map?: ScimProfile['peopleMap']) => {
	const r = userToPerson(raw, profile(map));
	if ('issues' in r) throw new Error(JSON.stringify(r.issues));
	return { memberType: r.person.memberType, buildings: r.person.buildings };
};

describe('people map: values', () => {
	const values = memberTypeValues({ staff: ['Teacher', 'Employee'], student: ['Pupil'] });
	test.each([
		['teacher', 'staff'],
		[' EMPLOYEE ', 'staff'],
		['pupil', 'student'],
		['staff', null],
		['', undefined],
		[undefined, undefined],
		[{ a: 1 }, null]
	])('member type of %j is %s', (raw, type) => expect(memberTypeOf(raw, values)).toBe(type));

	test.each([
		['north', ['north']],
		['north; south|west, east', ['east', 'north', 'south', 'west']],
		[
			['b', 'a', 'a'],
			['a', 'b']
		],
		[
			[{ value: 'x' }, { value: 'y' }],
			['x', 'y']
		],
		[12, ['12']],
		[{ nested: true }, null]
	])('buildings of %j are %j', (raw, list) => expect(buildingsOf(raw)).toEqual(list));
});

describe('people map: SCIM', () => {
	test.each([
		['no map: userType and the extension', user({}), undefined, { memberType: 'staff', buildings: ['north'] }],
		[
			'an enterprise attribute for buildings, a core one for the member type with its own words',
			user({ title: 'Teacher', userType: 'x', [ENTERPRISE]: { department: 'south;west' } }),
			{ building: `${ENTERPRISE}:department`, memberType: 'title', staff: ['teacher'], student: ['pupil'] },
			{ memberType: 'staff', buildings: ['south', 'west'] }
		],
		[
			'an extension attribute; a value that means neither is no member type',
			user({ title: 'Janitor', [EXT]: { buildings: ['north'], school: ['east'] } }),
			{ building: `${EXT}:school`, memberType: 'title', staff: ['teacher'] },
			{ memberType: undefined, buildings: ['east'] }
		]
	])('%s', (_n, raw, map, expected) => expect(read(raw, map)).toEqual(expected));

	test('a mapped building that is not text names the attribute', () => {
		const r = userToPerson(
			user({ [ENTERPRISE]: { department: { a: 1 } } }),
			profile({ building: `${ENTERPRISE}:department` })
		);
		expect('issues' in r && r.issues[0].field).toBe(`${ENTERPRISE}:department`);
	});
});

describe('people map: CSV', () => {
	const csv = 'id,name,type,school,kind\n1,Ada,Teacher,north,staff\n2,Cy,Pupil,south;west,student\n';
	const columns = { externalId: 'id', displayName: 'name', memberType: 'kind' };
	test('the columns and the words of the map', async () => {
		const snap = await new CsvConnector({
			systemId: 'csv',
			text: csv,
			columns: { ...columns, memberType: 'type', buildings: 'school' },
			memberTypes: memberTypeValues({ staff: ['teacher'], student: ['pupil'] })
		}).read();
		expect(snap.people.map((p) => [p.memberType, p.buildings])).toEqual([
			['staff', ['north']],
			['student', ['south', 'west']]
		]);
	});
	test('a value the map does not know is refused, naming row and column', async () => {
		const e = await new CsvConnector({ systemId: 'csv', text: csv, columns: { ...columns, memberType: 'type' } })
			.read()
			.catch((x) => x);
		expect(e).toBeInstanceOf(ConnectorError);
		expect(e.issues[0]).toMatchObject({ row: 2, column: 'type' });
	});
});

describe('people map: writes go where reads come from', () => {
	const map = { memberType: 'title', staff: ['Teacher', 'Employee'], student: ['Pupil'] };

	test('a new person: member type in the mapped attribute, as its first word; no userType', () => {
		const body = personToUser(
			{ displayName: 'Ada', email: 'ada@x.org', memberType: 'staff', active: true },
			profile(map)
		);
		expect(body).toMatchObject({ title: 'Teacher' });
		expect(body).not.toHaveProperty('userType');
		// What is written reads back as what was meant.
		expect(read({ ...body, id: 'u1', userType: undefined }, map).memberType).toBe('staff');
	});

	test.each([
		['student', [{ op: 'replace', path: 'title', value: 'Pupil' }]],
		['staff', [{ op: 'replace', path: 'title', value: 'Teacher' }]],
		[null, [{ op: 'remove', path: 'title' }]]
	] as const)('an update to %s', (value, ops) => {
		expect(personPatch({ memberType: value }, profile(map))).toEqual(ops);
	});

	test('without a map: userType, as before', () => {
		expect(personPatch({ memberType: 'student' }, profile())).toEqual([
			{ op: 'replace', path: 'userType', value: 'student' }
		]);
	});

	test('mapped buildings are read for rules, but are not a field links write', () => {
		const mapped = profile({ building: 'addresses.locality' });
		expect(personFieldsOf(mapped)).not.toContain('buildings');
		expect(personFieldsOf(profile())).toContain('buildings');
		expect(() => personPatch({ buildings: 'north' }, mapped)).toThrow(/people map/);
		expect(
			personToUser({ displayName: 'Ada', email: 'ada@x.org', buildings: ['north'], active: true }, mapped)
		).not.toHaveProperty(EXT);
	});
});
