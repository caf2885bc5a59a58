/**
 * SCIM PATCH as clients send it, one case a line: the normalizer in front of scim-patch reads
 * Entra ID's forms (capitalised ops, path-less values, string booleans, members removed by value
 * or by filter without a value) and the same operations applied locally by the connector.
 */
import { describe, expect, it } from 'vitest';
import { applyPatch, normalizePatch, PatchError } from '../../worker/sandbox/scim-patch';
import { GROUP_SCHEMAS, USER_SCHEMAS } from '../../worker/sandbox/scim-resources';
import { applyPatchLocally } from '../../worker/connectors/scim-map';

const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const USER_EXT = 'urn:rostersync:params:scim:schemas:extension:2.0:User';
const GROUP_EXT = 'urn:rostersync:params:scim:schemas:extension:2.0:Group';

type Json = Record<string, unknown>;

const user = (): Json => ({
	schemas: [CORE_USER],
	id: 'u1',
	userName: 'ada@example.org',
	displayName: 'Ada',
	name: { givenName: 'Ada' },
	emails: [{ value: 'ada@example.org', type: 'work', primary: true }],
	active: true,
	meta: { resourceType: 'User' }
});

const group = (): Json => ({
	schemas: [CORE_GROUP, GROUP_EXT],
	id: 'g1',
	displayName: 'Crew',
	members: [
		{ value: 'a', type: 'User', display: 'A' },
		{ value: 'b', type: 'User', display: 'B' }
	],
	[GROUP_EXT]: { kind: 'group', managers: ['b'] }
});

const patchUser = (ops: unknown[]) => applyPatch(user(), ops, USER_SCHEMAS);
const patchGroup = (ops: unknown[]) => applyPatch(group(), ops, GROUP_SCHEMAS);
const values = (g: Json) => ((g.members as Json[] | undefined) ?? []).map((m) => m.value);

describe('PATCH on a User, as clients send it', () => {
	it.each<[string, unknown[], Json]>([
		['a capitalised op (Entra)', [{ op: 'Replace', path: 'displayName', value: 'Bo' }], { displayName: 'Bo' }],
		['an op in capitals', [{ op: 'REPLACE', path: 'displayName', value: 'Bo' }], { displayName: 'Bo' }],
		['"False" with no path (Entra)', [{ op: 'Replace', value: { active: 'False' } }], { active: false }],
		['"True" with a path', [{ op: 'replace', path: 'active', value: ' TRUE ' }], { active: true }],
		[
			'path-less keys that are paths (Entra)',
			[{ op: 'Add', value: { 'name.familyName': 'Lovelace', displayName: 'Ada L' } }],
			{ name: { givenName: 'Ada', familyName: 'Lovelace' }, displayName: 'Ada L' }
		],
		[
			'a value filter selecting the work email',
			[{ op: 'Replace', path: 'emails[type eq "work"].value', value: 'ada@new.example' }],
			{ emails: [{ value: 'ada@new.example', type: 'work', primary: true }] }
		],
		[
			'a value filter selecting nothing creates the element it names (Entra)',
			[{ op: 'Add', path: 'phoneNumbers[type eq "mobile"].value', value: '+47 1' }],
			{ phoneNumbers: [{ type: 'mobile', value: '+47 1' }] }
		],
		[
			'a value filter and a sub-attribute in another case',
			[{ op: 'replace', path: 'EMAILS[TYPE eq "WORK"].VALUE', value: 'x@example.org' }],
			{ emails: [{ value: 'x@example.org', type: 'work', primary: true }] }
		],
		['an attribute name in another case', [{ op: 'replace', path: 'DisplayName', value: 'Bo' }], { displayName: 'Bo' }],
		[
			'a core attribute named with its schema',
			[{ op: 'replace', path: `${CORE_USER}:displayName`, value: 'Bo' }],
			{ displayName: 'Bo' }
		],
		[
			'an extension attribute',
			[{ op: 'add', path: `${ENTERPRISE}:employeeNumber`, value: '42' }],
			{ schemas: [CORE_USER, ENTERPRISE], [ENTERPRISE]: { employeeNumber: '42' } }
		],
		[
			'a whole extension as the path',
			[{ op: 'add', path: ENTERPRISE, value: { employeeNumber: '42' } }],
			{ [ENTERPRISE]: { employeeNumber: '42' } }
		],
		[
			'a whole extension as a path-less key',
			[{ op: 'replace', value: { [USER_EXT]: { buildings: ['B1'] }, [CORE_USER]: { displayName: 'Bo' } } }],
			{ [USER_EXT]: { buildings: ['B1'] }, displayName: 'Bo' }
		],
		[
			'an email added to the list, "primary" read as a boolean',
			[{ op: 'add', path: 'emails', value: [{ value: 'b@example.org', type: 'home', primary: 'false' }] }],
			{
				emails: [
					{ value: 'ada@example.org', type: 'work', primary: true },
					{ value: 'b@example.org', type: 'home', primary: false }
				]
			}
		],
		[
			'id, meta and schemas in a path-less value are left alone',
			[{ op: 'replace', value: { id: 'x', meta: {} } }],
			{ id: 'u1' }
		]
	])('%s', (_, ops, expected) => {
		expect(patchUser(ops)).toMatchObject(expected);
	});

	it.each<[string, unknown[], Json]>([
		['removing what is not there changes nothing', [{ op: 'remove', path: 'name.familyName' }], user()],
		['removing a missing extension changes nothing', [{ op: 'remove', path: `${ENTERPRISE}:employeeNumber` }], user()],
		['a path-less replace of nothing', [{ op: 'replace', value: {} }], user()]
	])('%s', (_, ops, expected) => {
		expect(patchUser(ops)).toEqual(expected);
	});

	it('removes an attribute, a sub-attribute and a whole extension', () => {
		const withExt = { ...user(), [ENTERPRISE]: { employeeNumber: '42' } };
		const out = applyPatch(
			withExt,
			[
				{ op: 'remove', path: 'emails' },
				{ op: 'remove', path: 'name.givenName' },
				{ op: 'remove', path: ENTERPRISE }
			],
			USER_SCHEMAS
		);
		expect(out.emails).toBeUndefined();
		expect(out.name).toEqual({});
		expect(out[ENTERPRISE]).toBeUndefined();
	});

	it.each<[string, unknown, string]>([
		['not a list', { op: 'add' }, 'invalidSyntax'],
		['an empty list', [], 'invalidSyntax'],
		['an op that is not one', [{ op: 'jump', path: 'displayName' }], 'invalidSyntax'],
		['an operation that is not an object', ['replace'], 'invalidSyntax'],
		['a read-only attribute', [{ op: 'replace', path: 'id', value: 'x' }], 'mutability'],
		['meta', [{ op: 'remove', path: 'meta.created' }], 'mutability'],
		['remove without a path', [{ op: 'remove' }], 'noTarget'],
		['an unclosed filter', [{ op: 'replace', path: 'emails[type eq ', value: 'x' }], 'invalidPath'],
		['a filter with a bad escape', [{ op: 'remove', path: 'emails[value eq "a\\q"]' }], 'invalidPath'],
		['an unterminated string', [{ op: 'remove', path: 'members[value eq "a\\"]' }], 'invalidPath'],
		['a schema the resource does not have', [{ op: 'replace', path: 'urn:nope:Thing:x', value: 1 }], 'invalidPath'],
		['a path that is not a string', [{ op: 'replace', path: 7, value: 1 }], 'invalidPath'],
		['two sub-attributes', [{ op: 'replace', path: 'name.a.b', value: 1 }], 'invalidPath'],
		['the prototype, by path', [{ op: 'replace', path: 'constructor.prototype', value: 1 }], 'invalidPath'],
		['__proto__ as an attribute', [{ op: 'replace', path: '__proto__', value: {} }], 'invalidPath'],
		[
			'the prototype, by a key of a value',
			[{ op: 'replace', path: 'name', value: { 'constructor.prototype.x': 1 } }],
			'invalidValue'
		],
		['add without a value', [{ op: 'add', path: 'displayName' }], 'invalidValue'],
		['a path-less add of a scalar', [{ op: 'add', value: 'x' }], 'invalidValue'],
		[
			'a filter selecting nothing that names no element',
			[{ op: 'replace', path: 'emails[value co "zzz"].type', value: 'w' }],
			'noTarget'
		],
		['a sub-attribute of a string', [{ op: 'replace', path: 'displayName.x', value: 'y' }], 'invalidValue']
	])('refuses %s', (_, ops, scimType) => {
		let error: unknown;
		try {
			patchUser(ops as unknown[]);
		} catch (e) {
			error = e;
		}
		expect(error).toBeInstanceOf(PatchError);
		expect((error as PatchError).scimType).toBe(scimType);
		expect(({} as Json).x).toBeUndefined();
	});

	it('names the operation and its path in every refusal', () => {
		expect(() =>
			patchUser([
				{ op: 'replace', path: 'displayName', value: 'ok' },
				{ op: 'replace', path: 'emails[type eq ', value: 'x' }
			])
		).toThrow(/^Operations\[1\] \(path "emails\[type eq "\)/);
	});
});

describe('PATCH on a Group, as clients send it', () => {
	it.each<[string, unknown[], string[]]>([
		['a member removed by a filter, no value (Entra)', [{ op: 'Remove', path: 'members[value eq "a"]' }], ['b']],
		['members removed by value (Entra)', [{ op: 'Remove', path: 'members', value: [{ value: 'b' }] }], ['a']],
		['one member removed by value, not in a list', [{ op: 'remove', path: 'members', value: { value: 'a' } }], ['b']],
		['a member id compares exactly', [{ op: 'remove', path: 'members[value eq "A"]' }], ['a', 'b']],
		['removing a member who is gone changes nothing', [{ op: 'remove', path: 'members[value eq "zz"]' }], ['a', 'b']],
		['every member removed', [{ op: 'remove', path: 'members' }], []],
		['a member added', [{ op: 'Add', path: 'members', value: [{ value: 'c' }] }], ['a', 'b', 'c']],
		[
			'a member added twice is one member',
			[{ op: 'add', path: 'members', value: [{ value: 'a' }, { value: 'c' }] }],
			['a', 'b', 'c']
		],
		[
			'a member id with a quote, removed by filter',
			[
				{ op: 'add', path: 'members', value: [{ value: 'q"x\\y' }] },
				{ op: 'remove', path: 'members[value eq "q\\"x\\\\y"]' }
			],
			['a', 'b']
		],
		['members replaced', [{ op: 'replace', path: 'members', value: [{ value: 'c' }] }], ['c']]
	])('%s', (_, ops, members) => {
		expect(values(patchGroup(ops))).toEqual(members);
	});

	it('sets managers in the Rostersync Group extension, and renames with a path-less value', () => {
		const out = patchGroup([
			{ op: 'replace', path: `${GROUP_EXT}:managers`, value: ['a'] },
			{ op: 'Replace', value: { displayName: 'Crew 2' } }
		]);
		expect(out).toMatchObject({ displayName: 'Crew 2', [GROUP_EXT]: { kind: 'group', managers: ['a'] } });
	});

	it('reads each Entra form into the same normalized operation', () => {
		const forms = [
			[{ op: 'Remove', path: 'members[value eq "a"]' }],
			[{ op: 'remove', path: `${CORE_GROUP}:members[value eq "a"]` }],
			[{ op: 'REMOVE', path: 'Members[Value eq "a"]' }]
		];
		const results = forms.map((ops) => values(patchGroup(ops)));
		expect(results).toEqual([['b'], ['b'], ['b']]);
		expect(normalizePatch(forms[0], GROUP_SCHEMAS)).toMatchObject([
			{ op: 'remove', index: 0, path: { attr: 'members', filter: { op: 'eq', attrPath: 'value', compValue: 'a' } } }
		]);
	});
});

describe("the connector's local PATCH (servers without PATCH) goes through the same code", () => {
	it('applies what the connector sends, drops meta, and declares the extensions it wrote', () => {
		const resource = { ...group(), meta: { resourceType: 'Group' } };
		const out = applyPatchLocally(resource, [
			{ op: 'add', path: 'members', value: [{ value: 'c' }] },
			{ op: 'remove', path: 'members[value eq "a"]' },
			{ op: 'replace', path: 'urn:example:params:scim:schemas:extension:acme:2.0:Group:code', value: 'X' }
		]);
		expect(out.meta).toBeUndefined();
		expect(values(out)).toEqual(['b', 'c']);
		expect(out.schemas).toEqual([CORE_GROUP, GROUP_EXT, 'urn:example:params:scim:schemas:extension:acme:2.0:Group']);
		expect(out['urn:example:params:scim:schemas:extension:acme:2.0:Group']).toEqual({ code: 'X' });
	});
});
