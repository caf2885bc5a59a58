/**
 * Person <-> SCIM User and Group <-> SCIM Group, for one server's profile (which extensions it
 * has, how custom fields map). Pure functions: the client in scim.ts does the talking.
 *
 *   Person            SCIM User
 *   id, externalId    id, externalId
 *   displayName       displayName (read falls back to name.formatted, given + family, userName)
 *   givenName ...     name.givenName, name.familyName
 *   email             emails: the primary (else work, else first) value; written as the one primary work email
 *   phone             phoneNumbers: same rule
 *   memberType        userType ("staff" / "student"; other values read as none)
 *   employeeNumber    enterprise extension employeeNumber
 *   buildings         Rostersync User extension `buildings` (multi-valued)
 *   custom[name]      the field map's attribute path, else the Rostersync extension attribute `name`
 *   active            active (absent reads as true)
 *   (userName)        set on create: email, else employeeNumber, else externalId; then left alone
 *
 *   Group: displayName <-> name, externalId, Rostersync Group extension `kind` and `managers`
 *   (person ids); memberships from members[].value, role manager when also listed in managers.
 */
import type { FieldValue, FieldValues, Group, GroupKind, Person, PersonField } from '$lib/core/model';
import {
	CORE_GROUP,
	CORE_USER,
	ENTERPRISE_USER,
	RostersyncGroupExt,
	RostersyncUserExt,
	ScimGroup,
	ScimUser,
	check
} from './scim-schema';
import { digest } from './digest';
import { applyPatch } from '../sandbox/scim-patch';
import { buildingsOf, memberTypeOf, memberTypeValues, type PeopleMap } from './people-map';
import { ACCESS_ATTRIBUTE, readAccess } from './scim-access';

/** What the client learned about one server, as the mapping needs it. */
export interface ScimProfile {
	/** The enterprise User extension is available (employeeNumber). */
	enterprise: boolean;
	/**
	 * The core User attributes the server declares in /Schemas (lower-cased), or undefined when it
	 * declares none: then every core attribute is assumed, as servers ignore what they lack.
	 */
	coreAttributes?: readonly string[];
	/** The Rostersync User extension id this server uses, if any. */
	userExt?: string;
	/** Attributes the Rostersync User extension declares on this server (buildings, custom ones). */
	userExtAttributes: string[];
	/** The Rostersync Group extension id this server uses, if any (kind, managers). */
	groupExt?: string;
	/** Custom field name -> SCIM attribute path (`title`, `name.middleName`, `urn:...:User:department`). */
	fieldMap: Record<string, string>;
	/** SCIM attribute types by lower-cased full path (`urn:...:User:seniority` -> integer), from /Schemas. */
	attributeTypes: Record<string, string>;
	/** The kind of a group on a server that stores none. */
	defaultGroupKind: GroupKind;
	/** Where the owner says buildings and member type are kept (see people-map.ts). */
	peopleMap?: PeopleMap;
}

export interface MapIssue {
	field: string;
	message: string;
}

/** A field the server cannot store, or a value it cannot take. */
export class MappingError extends Error {
	constructor(
		readonly field: string,
		message: string,
		readonly unsupported: boolean
	) {
		super(message);
		this.name = 'MappingError';
	}
}

/** A SCIM attribute path split into its schema (undefined: the core schema) and its segments. */
export interface AttributePath {
	schema?: string;
	segments: string[];
}

export function parsePath(path: string): AttributePath {
	if (path.toLowerCase().startsWith('urn:')) {
		const at = path.lastIndexOf(':');
		return { schema: path.slice(0, at), segments: path.slice(at + 1).split('.') };
	}
	return { segments: path.split('.') };
}

const fullPath = (p: AttributePath, resourceSchema: string) =>
	`${p.schema ?? resourceSchema}:${p.segments.join('.')}`.toLowerCase();

function getAt(resource: Record<string, unknown>, p: AttributePath): unknown {
	let cur: unknown = p.schema ? resource[p.schema] : resource;
	for (const segment of p.segments) {
		if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
		cur = (cur as Record<string, unknown>)[segment];
	}
	return cur;
}

function setAt(resource: Record<string, unknown>, p: AttributePath, value: unknown): void {
	let cur = resource;
	const keys = p.schema ? [p.schema, ...p.segments] : p.segments;
	for (const key of keys.slice(0, -1)) {
		const next = cur[key];
		if (next === null || typeof next !== 'object' || Array.isArray(next)) cur[key] = {};
		cur = cur[key] as Record<string, unknown>;
	}
	cur[keys[keys.length - 1]] = value;
}

/**
 * The value a multi-valued attribute presents: the primary one, else the work one, else the first.
 * Entries without a value are not candidates (a server's placeholder for a cleared number).
 */
function pick(
	list: readonly { value?: string | null; type?: string | null; primary?: boolean | null }[] | null | undefined
): string | undefined {
	const candidates = (list ?? []).filter((x) => !!x.value?.trim());
	if (candidates.length === 0) return undefined;
	const chosen =
		candidates.find((x) => x.primary === true) ??
		candidates.find((x) => x.type?.toLowerCase() === 'work') ??
		candidates[0];
	return chosen.value ?? undefined;
}

const nonEmpty = (s: string | null | undefined): string | undefined => (s == null || s.trim() === '' ? undefined : s);
const uniqueSorted = (list: readonly string[]) => [...new Set(list)].sort();

/** Where custom field `name` lives on this server, or undefined if nowhere. */
export function customPath(profile: ScimProfile, name: string): string | undefined {
	if (profile.fieldMap[name]) return holdsPath(profile, profile.fieldMap[name]) ? profile.fieldMap[name] : undefined;
	if (profile.userExt && name !== 'buildings' && name !== ACCESS_ATTRIBUTE && profile.userExtAttributes.includes(name))
		return `${profile.userExt}:${name}`;
	return undefined;
}

/**
 * Whether the server can hold a field-map path: a core attribute its core schema declares, or an
 * attribute of an extension it has. What it does not declare at all (no /Schemas) is assumed, as
 * for the standard fields; a path into an extension it lacks is not a field of this server, so it
 * is neither read (as empty) nor written, night after night, to be dropped.
 */
export function holdsPath(profile: ScimProfile, path: string): boolean {
	const lower = path.toLowerCase();
	const cut = lower.startsWith('urn:') ? lower.lastIndexOf(':') : -1;
	const schema = cut < 0 ? CORE_USER.toLowerCase() : lower.slice(0, cut);
	const attribute = lower.slice(cut + 1).split('.')[0];
	if (schema === CORE_USER.toLowerCase()) return !profile.coreAttributes || profile.coreAttributes.includes(attribute);
	if (schema === ENTERPRISE_USER.toLowerCase()) return profile.enterprise;
	const declared = Object.keys(profile.attributeTypes);
	return declared.length === 0 || profile.attributeTypes[`${schema}:${attribute}`] !== undefined;
}

/** Custom field names this server can store. */
export function customFieldNames(profile: ScimProfile): string[] {
	const mapped = new Set(Object.values(profile.fieldMap).map((p) => p.toLowerCase()));
	const held = Object.keys(profile.fieldMap).filter((name) => holdsPath(profile, profile.fieldMap[name]));
	const fromExt = profile.userExt
		? profile.userExtAttributes.filter(
				(a) => a !== 'buildings' && a !== ACCESS_ATTRIBUTE && !mapped.has(`${profile.userExt}:${a}`.toLowerCase())
			)
		: [];
	return uniqueSorted([...held, ...fromExt]);
}

/** The core User attribute that holds each standard person field (the others live in extensions). */
const CORE_ATTRIBUTE: Partial<Record<PersonField, string>> = {
	displayName: 'displayName',
	givenName: 'name',
	familyName: 'name',
	email: 'emails',
	phone: 'phoneNumbers',
	memberType: 'userType',
	active: 'active'
};

/** The core attribute of a field key (own keys only: a key such as `constructor` names none). */
const coreAttributeOf = (key: string): string | undefined =>
	Object.hasOwn(CORE_ATTRIBUTE, key) ? CORE_ATTRIBUTE[key as PersonField] : undefined;

/** The server's core User schema has the attribute that holds `field` (always true for extension fields). */
function holdsCore(profile: ScimProfile, field: string): boolean {
	const attribute = coreAttributeOf(field);
	return !attribute || !profile.coreAttributes || profile.coreAttributes.includes(attribute.toLowerCase());
}

/** Standard person fields this server can store. */
export function personFieldsOf(profile: ScimProfile): PersonField[] {
	const core: PersonField[] = ['displayName', 'givenName', 'familyName', 'email', 'phone', 'memberType', 'active'];
	const fields = core.filter((f) => holdsField(profile, f));
	if (profile.enterprise) fields.push('employeeNumber');
	if (holdsBuildings(profile)) fields.push('buildings');
	return fields;
}

/** The server holds a core field where a link writes it (member type: where the people map reads it). */
const holdsField = (profile: ScimProfile, field: string): boolean =>
	field === 'memberType' && profile.peopleMap?.memberType
		? holdsPath(profile, profile.peopleMap.memberType)
		: holdsCore(profile, field);

/** Buildings in the Rostersync extension; ones a people map reads from elsewhere are for rules, not links. */
const holdsBuildings = (profile: ScimProfile): boolean =>
	!!profile.userExt && profile.userExtAttributes.includes('buildings') && !profile.peopleMap?.building;

/**
 * Where member type is written, and as which word: through the people map when it has one (the
 * first of each type's words), so that what is written reads back as what was meant.
 */
function memberTypeTarget(profile: ScimProfile): { path: string; word: (type: string) => string } {
	const map = profile.peopleMap;
	if (!map?.memberType) return { path: 'userType', word: (type) => type };
	const words: Record<string, string> = {
		staff: map.staff?.find((w) => w.trim() !== '')?.trim() ?? 'staff',
		student: map.student?.find((w) => w.trim() !== '')?.trim() ?? 'student'
	};
	return { path: map.memberType, word: (type) => words[type] ?? type };
}

function scalar(value: unknown): string | undefined | MapIssue {
	if (value === undefined || value === null || value === '') return undefined;
	if (typeof value === 'string') return value;
	if (typeof value === 'number' || typeof value === 'boolean') return String(value);
	return { field: '', message: 'must be a single value (string, number or boolean)' };
}

/** A SCIM User as a Person, or every problem with it. */
export function userToPerson(raw: unknown, profile: ScimProfile): { person: Person } | { issues: MapIssue[] } {
	const checked = check(ScimUser, raw);
	if (!checked.ok) return { issues: checked.issues };
	const u = checked.value;
	const resource = raw as Record<string, unknown>;
	const issues: MapIssue[] = [];

	let extension: Record<string, unknown> = {};
	if (profile.userExt && resource[profile.userExt] != null) {
		const ext = check(RostersyncUserExt, resource[profile.userExt]);
		if (!ext.ok)
			issues.push(...ext.issues.map((i) => ({ field: `${profile.userExt}:${i.field}`, message: i.message })));
		else extension = ext.value;
	}

	const givenName = nonEmpty(u.name?.givenName);
	const familyName = nonEmpty(u.name?.familyName);
	const person: Person = {
		id: u.id,
		displayName:
			nonEmpty(u.displayName) ??
			nonEmpty(u.name?.formatted) ??
			nonEmpty([givenName, familyName].filter(Boolean).join(' ')) ??
			u.userName,
		active: u.active ?? true
	};
	const externalId = nonEmpty(u.externalId);
	if (externalId) person.externalId = externalId;
	if (givenName) person.givenName = givenName;
	if (familyName) person.familyName = familyName;
	const email = pick(u.emails);
	if (email) person.email = email;
	const phone = pick(u.phoneNumbers);
	if (phone) person.phone = phone;
	const employeeNumber = nonEmpty(u[ENTERPRISE_USER]?.employeeNumber);
	if (employeeNumber) person.employeeNumber = employeeNumber;
	const map = profile.peopleMap;
	if (map?.memberType) {
		const type = memberTypeOf(getAt(resource, parsePath(map.memberType)), memberTypeValues(map));
		// A value that means neither is no member type: a rule leaves such a person out, as for userType.
		if (type) person.memberType = type;
	} else {
		const userType = u.userType?.toLowerCase();
		if (userType === 'staff' || userType === 'student') person.memberType = userType;
	}

	if (map?.building) {
		const mapped = buildingsOf(getAt(resource, parsePath(map.building)));
		if (mapped === null)
			issues.push({ field: map.building, message: 'must be text or a list of text (the buildings)' });
		else if (mapped.length > 0) person.buildings = mapped;
	} else {
		const buildings = extension.buildings;
		if (Array.isArray(buildings) && buildings.length > 0) person.buildings = uniqueSorted(buildings);
		else if (buildings != null && !Array.isArray(buildings))
			issues.push({ field: `${profile.userExt}:buildings`, message: 'must be a list of strings' });
	}

	const custom: Record<string, string> = {};
	for (const name of customFieldNames(profile)) {
		const path = customPath(profile, name);
		if (!path) continue;
		const value = scalar(getAt(resource, parsePath(path)));
		if (typeof value === 'object') issues.push({ field: path, message: value.message });
		else if (value !== undefined) custom[name] = value;
	}
	if (Object.keys(custom).length > 0) person.custom = custom;
	Object.assign(person, readAccess(resource, profile));

	return issues.length > 0 ? { issues } : { person };
}

export interface MappedGroup {
	group: Group;
	/** Person ids listed as members (users only; nested groups are not followed). */
	members: string[];
	/** Person ids listed as managers in the Rostersync Group extension. */
	managers: string[];
	/**
	 * The resource carried `members` at all. A list may leave them out (RFC 7643 §7: `returned:
	 * "request"`, or a server sparing itself large groups), which is not "no members".
	 */
	listed: boolean;
}

/** A SCIM Group as a Group plus its member and manager ids, or every problem with it. */
export function scimToGroup(raw: unknown, profile: ScimProfile): MappedGroup | { issues: MapIssue[] } {
	const checked = check(ScimGroup, raw);
	if (!checked.ok) return { issues: checked.issues };
	const g = checked.value;
	let kind: GroupKind = profile.defaultGroupKind;
	let managers: string[] = [];
	const ext = profile.groupExt ? (raw as Record<string, unknown>)[profile.groupExt] : undefined;
	if (profile.groupExt && ext != null) {
		const parsed = check(RostersyncGroupExt, ext);
		if (!parsed.ok)
			return { issues: parsed.issues.map((i) => ({ field: `${profile.groupExt}:${i.field}`, message: i.message })) };
		kind = parsed.value.kind ?? kind;
		managers = uniqueSorted(parsed.value.managers ?? []);
	}
	const group: Group = { id: g.id, name: g.displayName, kind };
	const externalId = nonEmpty(g.externalId);
	if (externalId) group.externalId = externalId;
	// SCIMMY keeps a member twice when it is added twice; the membership is one.
	const members = uniqueSorted(
		(g.members ?? []).filter((m) => !m.type || m.type.toLowerCase() === 'user').map((m) => m.value)
	);
	return { group, members, managers, listed: g.members != null };
}

/** The userName a new person gets: email, else employee number, else externalId. */
export function userNameFor(record: Omit<Person, 'id'>): string | undefined {
	return nonEmpty(record.email) ?? nonEmpty(record.employeeNumber) ?? nonEmpty(record.externalId);
}

/** Converts a custom value to the attribute's declared type (integer, decimal, boolean). */
function typed(profile: ScimProfile, path: string, resourceSchema: string, value: string): unknown {
	const type = profile.attributeTypes[fullPath(parsePath(path), resourceSchema)];
	if (type === 'integer') {
		if (!/^-?\d+$/.test(value.trim())) throw new MappingError(path, `"${value}" is not an integer`, false);
		return Number(value.trim());
	}
	if (type === 'decimal') {
		const n = Number(value.trim());
		if (value.trim() === '' || Number.isNaN(n)) throw new MappingError(path, `"${value}" is not a number`, false);
		return n;
	}
	if (type === 'boolean') {
		const t = value.trim().toLowerCase();
		if (t !== 'true' && t !== 'false') throw new MappingError(path, `"${value}" is not true or false`, false);
		return t === 'true';
	}
	return value;
}

const workValue = (value: string) => [{ value, type: 'work', primary: true }];

/**
 * The POST body for a new person. Fields this server cannot store are left out (its
 * capabilities say so, and the core compares only what both sides store).
 */
export function personToUser(record: Omit<Person, 'id'>, profile: ScimProfile): Record<string, unknown> {
	const userName = userNameFor(record);
	if (!userName) throw new MappingError('userName', 'needs an email, an employee number or an externalId', false);
	const holds = (field: PersonField) => holdsField(profile, field);
	const body: Record<string, unknown> = { schemas: [CORE_USER], userName };
	if (holds('active')) body.active = record.active;
	if (record.externalId) body.externalId = record.externalId;
	if (record.displayName && holds('displayName')) body.displayName = record.displayName;
	const name: Record<string, string> = {};
	if (record.givenName && holds('givenName')) name.givenName = record.givenName;
	if (record.familyName && holds('familyName')) name.familyName = record.familyName;
	if (Object.keys(name).length > 0) body.name = name;
	if (record.email && holds('email')) body.emails = workValue(record.email);
	if (record.phone && holds('phone')) body.phoneNumbers = workValue(record.phone);
	if (record.memberType && holds('memberType')) {
		const { path, word } = memberTypeTarget(profile);
		setAt(body, parsePath(path), word(record.memberType));
	}
	if (record.employeeNumber && profile.enterprise) body[ENTERPRISE_USER] = { employeeNumber: record.employeeNumber };
	if (record.buildings?.length && holdsBuildings(profile))
		setAt(body, { schema: profile.userExt!, segments: ['buildings'] }, uniqueSorted(record.buildings));
	for (const [field, value] of Object.entries(record.custom ?? {})) {
		const path = customPath(profile, field);
		if (path && value !== '') setAt(body, parsePath(path), typed(profile, path, CORE_USER, value));
	}
	declareSchemas(body);
	return body;
}

/** Lists in `schemas` every extension the body carries (servers reject undeclared ones). */
function declareSchemas(body: Record<string, unknown>): void {
	const schemas = body.schemas as string[];
	for (const key of Object.keys(body))
		if (key.toLowerCase().startsWith('urn:') && !schemas.includes(key)) schemas.push(key);
}

export interface PatchOperation {
	op: 'add' | 'replace' | 'remove';
	path: string;
	value?: unknown;
}

const set = (path: string, value: FieldValue, toValue: (v: string) => unknown = (v) => v): PatchOperation =>
	value === null ? { op: 'remove', path } : { op: 'replace', path, value: toValue(value) };

/**
 * PATCH operations (RFC 7644 §3.5.2) for changed person fields, keyed as the core keys them
 * (`displayName`, `buildings`, `custom:<name>`...). A field this server cannot store throws.
 */
export function personPatch(values: FieldValues, profile: ScimProfile): PatchOperation[] {
	const ops: PatchOperation[] = [];
	for (const [key, value] of Object.entries(values)) {
		if (key.startsWith('custom:')) {
			const name = key.slice(7);
			const path = customPath(profile, name);
			if (!path)
				throw new MappingError(key, `no SCIM attribute for custom field "${name}" (add it to the field map)`, true);
			ops.push(set(path, value, (v) => typed(profile, path, CORE_USER, v)));
			continue;
		}
		const attribute = coreAttributeOf(key);
		if (attribute && !holdsField(profile, key))
			throw new MappingError(key, `this server's User schema has no ${attribute} attribute`, true);
		switch (key) {
			case 'displayName':
			case 'externalId':
				ops.push(set(key, value));
				break;
			case 'givenName':
			case 'familyName':
				ops.push(set(`name.${key}`, value));
				break;
			case 'email':
				ops.push(set('emails', value, workValue));
				break;
			case 'phone':
				ops.push(set('phoneNumbers', value, workValue));
				break;
			case 'memberType': {
				const { path, word } = memberTypeTarget(profile);
				ops.push(set(path, value, word));
				break;
			}
			case 'active':
				ops.push({ op: 'replace', path: 'active', value: value !== 'false' });
				break;
			case 'employeeNumber':
				if (!profile.enterprise) throw new MappingError(key, 'this server has no enterprise User extension', true);
				ops.push(set(`${ENTERPRISE_USER}:employeeNumber`, value));
				break;
			case 'buildings':
				if (profile.peopleMap?.building)
					throw new MappingError(
						key,
						`buildings are read from ${profile.peopleMap.building} (the people map), which links do not write`,
						true
					);
				if (!profile.userExt || !profile.userExtAttributes.includes('buildings'))
					throw new MappingError(key, 'this server has no Rostersync User extension with buildings', true);
				ops.push(set(`${profile.userExt}:buildings`, value, (v) => uniqueSorted(v.split('\n').filter(Boolean))));
				break;
			default:
				throw new MappingError(key, `unknown person field "${key}"`, false);
		}
	}
	return ops;
}

/**
 * The placeholder that replaces a user name or email on anonymization: a valid address under a
 * reserved domain (RFC 2606), unique per record, lower-case because some servers (Better Auth)
 * lower-case email addresses.
 */
export const anonymousAddress = (id: string) => `anon-${digest(id)}@anonymized.invalid`;

/**
 * Anonymization: the core's replacement values, plus the identifiers the core does not model
 * (userName). A null email becomes the placeholder address: servers that require an email
 * (Better Auth) would refuse to remove it.
 */
export function anonymizePatch(id: string, values: FieldValues, profile: ScimProfile): PatchOperation[] {
	const placeholder = anonymousAddress(id);
	// What the server does not hold has nothing personal in it to replace.
	const held: FieldValues = Object.fromEntries(
		Object.entries(values).filter(([key]) => key.startsWith('custom:') || holdsCore(profile, key))
	);
	if (holdsCore(profile, 'email')) held.email = values.email ?? placeholder;
	return [{ op: 'replace', path: 'userName', value: placeholder }, ...personPatch(held, profile)];
}

/** The POST body for a new group. The kind is kept only where the server has the extension. */
export function groupToScim(record: Omit<Group, 'id'>, profile: ScimProfile): Record<string, unknown> {
	const body: Record<string, unknown> = { schemas: [CORE_GROUP], displayName: record.name };
	if (record.externalId) body.externalId = record.externalId;
	if (profile.groupExt) body[profile.groupExt] = { kind: record.kind };
	declareSchemas(body);
	return body;
}

/** PATCH operations for changed group fields (`name`, `externalId`, `kind`). */
export function groupPatch(values: FieldValues, profile: ScimProfile): PatchOperation[] {
	return Object.entries(values).map(([key, value]) => {
		if (key === 'name') {
			if (value === null) throw new MappingError('displayName', 'a group needs a name', false);
			return set('displayName', value);
		}
		if (key === 'externalId') return set('externalId', value);
		if (key === 'kind') {
			if (!profile.groupExt) throw new MappingError(key, 'this server has no Rostersync Group extension', true);
			return set(`${profile.groupExt}:kind`, value);
		}
		throw new MappingError(key, `unknown group field "${key}"`, false);
	});
}

/**
 * Applies the client's own PATCH operations to a resource, for servers without PATCH: the result
 * is PUT back. The sandbox's PATCH implementation (worker/sandbox/scim-patch.ts) does it, so a
 * server without PATCH ends as one with it would; schemas the resource does not name yet (a field
 * map's extension) are taken from the paths.
 */
export function applyPatchLocally(
	resource: Record<string, unknown>,
	operations: PatchOperation[]
): Record<string, unknown> {
	const named = Array.isArray(resource.schemas) ? resource.schemas.map(String) : [];
	const extensions = [...named, ...Object.keys(resource)].filter(
		(s) => /^urn:/i.test(s) && s !== CORE_USER && s !== CORE_GROUP
	);
	const doc = applyPatch(resource, operations, {
		core: [CORE_USER, CORE_GROUP],
		extensions: [...new Set(extensions)],
		strict: false
	});
	delete doc.meta;
	if (!Array.isArray(doc.schemas)) doc.schemas = [];
	return doc;
}
