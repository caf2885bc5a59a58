/**
 * The sandbox's SCIM resources: a Person as a SCIM User, a Group (with its members and managers)
 * as a SCIM Group, and the discovery documents (/ServiceProviderConfig, /ResourceTypes,
 * /Schemas). Incoming resources are read with the connector's own mapping (scim-map.ts), so the
 * sandbox stores exactly what the connector can express, and validates it the same way.
 *
 * What the sandbox keeps of a User: the Person model plus its userName. Several emails or phone
 * numbers reduce to the primary one; a userType other than staff/student is dropped.
 */
import type { Group, Person, Role } from '$lib/core/model';
import { CORE_GROUP, CORE_USER, ENTERPRISE_USER, ROSTERSYNC_GROUP, ROSTERSYNC_USER } from '../connectors/scim-schema';
import { scimToGroup, userToPerson, type ScimProfile } from '../connectors/scim-map';
import { ACCESS_ATTRIBUTE } from '../connectors/scim-access';
import { MAX_BULK_OPERATIONS } from './scim-bulk';
import { MAX_BODY_BYTES } from './scim-http';

/** The extension ids the sandbox uses (Rostersync's own). */
export const USER_EXT = ROSTERSYNC_USER[0];
export const GROUP_EXT = ROSTERSYNC_GROUP[0];
export const LIST_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const SEARCH_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';

/** Most resources one page returns (announced as filter.maxResults). */
export const MAX_RESULTS = 1000;
export const DEFAULT_COUNT = 100;

export const USER_SCHEMAS = { core: [CORE_USER], extensions: [ENTERPRISE_USER, USER_EXT] } as const;
export const GROUP_SCHEMAS = { core: [CORE_GROUP], extensions: [GROUP_EXT] } as const;

/** How the sandbox reads resources: every extension on, custom attributes as configured. */
export function sandboxProfile(customAttributes: readonly string[]): ScimProfile {
	return {
		enterprise: true,
		userExt: USER_EXT,
		userExtAttributes: ['buildings', ACCESS_ATTRIBUTE, ...customAttributes],
		groupExt: GROUP_EXT,
		fieldMap: {},
		attributeTypes: {},
		defaultGroupKind: 'group'
	};
}

export interface ResourceMeta {
	created: string;
	lastModified: string;
}

type Json = Record<string, unknown>;

const workValue = (value: string) => [{ value, type: 'work', primary: true }];

/** A Person as a SCIM User resource. */
export function renderUser(p: Person, userName: string, meta: ResourceMeta, base: string): Json {
	const schemas: string[] = [CORE_USER];
	const user: Json = { schemas, id: p.id };
	if (p.externalId) user.externalId = p.externalId;
	user.userName = userName;
	user.displayName = p.displayName;
	const name: Json = {};
	if (p.givenName) name.givenName = p.givenName;
	if (p.familyName) name.familyName = p.familyName;
	if (Object.keys(name).length > 0) user.name = name;
	if (p.email) user.emails = workValue(p.email);
	if (p.phone) user.phoneNumbers = workValue(p.phone);
	if (p.memberType) user.userType = p.memberType;
	user.active = p.active;
	if (p.employeeNumber) {
		schemas.push(ENTERPRISE_USER);
		user[ENTERPRISE_USER] = { employeeNumber: p.employeeNumber };
	}
	const ext: Json = {};
	if (p.buildings?.length) ext.buildings = [...p.buildings];
	if (p.access !== undefined) ext[ACCESS_ATTRIBUTE] = p.access;
	for (const [k, v] of Object.entries(p.custom ?? {})) ext[k] = v;
	if (Object.keys(ext).length > 0) {
		schemas.push(USER_EXT);
		user[USER_EXT] = ext;
	}
	user.meta = {
		resourceType: 'User',
		created: meta.created,
		lastModified: meta.lastModified,
		location: `${base}/Users/${encodeURIComponent(p.id)}`
	};
	return user;
}

/** A Group and its members (person id -> role) as a SCIM Group resource. */
export function renderGroup(
	g: Group,
	members: ReadonlyMap<string, Role> | undefined,
	displayOf: (personId: string) => string | undefined,
	meta: ResourceMeta,
	base: string
): Json {
	const ids = [...(members?.keys() ?? [])].sort();
	const group: Json = { schemas: [CORE_GROUP, GROUP_EXT], id: g.id };
	if (g.externalId) group.externalId = g.externalId;
	group.displayName = g.name;
	group.members = ids.map((id) => ({
		value: id,
		type: 'User',
		display: displayOf(id),
		$ref: `${base}/Users/${encodeURIComponent(id)}`
	}));
	group[GROUP_EXT] = { kind: g.kind, managers: ids.filter((id) => members!.get(id) === 'manager') };
	group.meta = {
		resourceType: 'Group',
		created: meta.created,
		lastModified: meta.lastModified,
		location: `${base}/Groups/${encodeURIComponent(g.id)}`
	};
	return group;
}

export interface ResourceIssue {
	field: string;
	message: string;
}

/** A User body as a Person and its userName, or every problem with it. */
export function readUser(
	body: Json,
	id: string,
	profile: ScimProfile
): { person: Person; userName: string } | { issues: ResourceIssue[] } {
	const raw: Json = { ...body, id };
	const userName = typeof raw.userName === 'string' ? raw.userName.trim() : '';
	if (!userName) return { issues: [{ field: 'userName', message: 'is required and must be a non-empty string' }] };
	const mapped = userToPerson(raw, profile);
	if ('issues' in mapped) return { issues: mapped.issues };
	return { person: mapped.person, userName };
}

/** A Group body as a Group and its members with roles (managers listed in the extension, among the members). */
export function readGroup(
	body: Json,
	id: string,
	profile: ScimProfile
): { group: Group; members: Map<string, Role> } | { issues: ResourceIssue[] } {
	const raw: Json = { ...body, id };
	const nested =
		Array.isArray(raw.members) &&
		raw.members.some(
			(m) => typeof (m as Json)?.type === 'string' && String((m as Json).type).toLowerCase() === 'group'
		);
	if (nested)
		return { issues: [{ field: 'members', message: 'nested groups are not supported: members must be Users' }] };
	const mapped = scimToGroup(raw, profile);
	if ('issues' in mapped) return { issues: mapped.issues };
	// `members` is the membership; a manager is a member also listed in `managers` (one who is not a
	// member any more is dropped from managers, so removing a member removes the manager too).
	const members = new Map<string, Role>();
	for (const personId of mapped.members) members.set(personId, 'member');
	for (const personId of mapped.managers) if (members.has(personId)) members.set(personId, 'manager');
	return { group: mapped.group, members };
}

/** RFC 7643 §5. */
export function serviceProviderConfig(base: string): Json {
	return {
		schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
		documentationUri: 'https://github.com/rostersync/rostersync/blob/main/docs/api.md',
		patch: { supported: true },
		bulk: { supported: true, maxOperations: MAX_BULK_OPERATIONS, maxPayloadSize: MAX_BODY_BYTES },
		filter: { supported: true, maxResults: MAX_RESULTS },
		changePassword: { supported: false },
		sort: { supported: false },
		etag: { supported: false },
		authenticationSchemes: [
			{
				type: 'oauthbearertoken',
				name: 'Bearer token',
				description: "The sandbox system's own token (POST /api/sandbox/:systemId/token)",
				primary: true
			}
		],
		meta: { resourceType: 'ServiceProviderConfig', location: `${base}/ServiceProviderConfig` }
	};
}

/** RFC 7643 §6. */
export function resourceTypes(base: string): Json[] {
	return [
		{
			schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
			id: 'User',
			name: 'User',
			endpoint: '/Users',
			schema: CORE_USER,
			schemaExtensions: [
				{ schema: ENTERPRISE_USER, required: false },
				{ schema: USER_EXT, required: false }
			],
			meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/User` }
		},
		{
			schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
			id: 'Group',
			name: 'Group',
			endpoint: '/Groups',
			schema: CORE_GROUP,
			schemaExtensions: [{ schema: GROUP_EXT, required: false }],
			meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/Group` }
		}
	];
}

const attr = (name: string, type = 'string', extra: Json = {}): Json => ({
	name,
	type,
	multiValued: false,
	required: false,
	caseExact: false,
	mutability: 'readWrite',
	returned: 'default',
	uniqueness: 'none',
	...extra
});

const multi = (name: string): Json =>
	attr(name, 'complex', {
		multiValued: true,
		subAttributes: [attr('value'), attr('type'), attr('primary', 'boolean')]
	});

/** RFC 7643 §7: the schemas the sandbox serves, custom attributes included. */
export function schemas(base: string, customAttributes: readonly string[]): Json[] {
	const schema = (id: string, name: string, attributes: Json[]): Json => ({
		schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
		id,
		name,
		attributes,
		meta: { resourceType: 'Schema', location: `${base}/Schemas/${id}` }
	});
	return [
		schema(CORE_USER, 'User', [
			attr('id', 'string', { mutability: 'readOnly', caseExact: true, uniqueness: 'server', returned: 'always' }),
			attr('externalId', 'string', { caseExact: true }),
			attr('userName', 'string', { required: true, uniqueness: 'server' }),
			attr('displayName'),
			attr('name', 'complex', { subAttributes: [attr('givenName'), attr('familyName'), attr('formatted')] }),
			multi('emails'),
			multi('phoneNumbers'),
			attr('userType'),
			attr('active', 'boolean')
		]),
		schema(ENTERPRISE_USER, 'EnterpriseUser', [attr('employeeNumber')]),
		schema(USER_EXT, 'RostersyncUser', [
			attr('buildings', 'string', { multiValued: true }),
			attr(ACCESS_ATTRIBUTE, 'boolean'),
			...customAttributes.map((name) => attr(name))
		]),
		schema(CORE_GROUP, 'Group', [
			attr('id', 'string', { mutability: 'readOnly', caseExact: true, uniqueness: 'server', returned: 'always' }),
			attr('externalId', 'string', { caseExact: true }),
			attr('displayName', 'string', { required: true }),
			attr('members', 'complex', {
				multiValued: true,
				subAttributes: [
					attr('value', 'string', { caseExact: true }),
					attr('type'),
					attr('display', 'string', { mutability: 'readOnly' })
				]
			})
		]),
		schema(GROUP_EXT, 'RostersyncGroup', [
			attr('kind', 'string', { canonicalValues: ['group', 'community', 'function', 'message-group'] }),
			attr('managers', 'string', { multiValued: true, caseExact: true })
		])
	];
}

/** A ListResponse (RFC 7644 §3.4.2). */
export function listResponse(resources: Json[], total: number, startIndex: number): Json {
	return {
		schemas: [LIST_RESPONSE],
		totalResults: total,
		startIndex,
		itemsPerPage: resources.length,
		Resources: resources
	};
}

/** Keeps the requested attributes (id and schemas always), or drops the excluded ones. */
export function project(resource: Json, attributes: string[] | undefined, excluded: string[] | undefined): Json {
	if (attributes && attributes.length > 0) {
		const out: Json = { schemas: resource.schemas, id: resource.id };
		for (const a of attributes) {
			if (a.toLowerCase().startsWith('urn:')) {
				const at = a.lastIndexOf(':');
				const schema = Object.keys(resource).find((k) => k.toLowerCase() === a.slice(0, at).toLowerCase());
				const name = a.slice(at + 1).split('.')[0];
				if (schema && resource[schema] && typeof resource[schema] === 'object') {
					const source = resource[schema] as Json;
					const key = Object.keys(source).find((k) => k.toLowerCase() === name.toLowerCase());
					if (key !== undefined) out[schema] = { ...((out[schema] as Json) ?? {}), [key]: source[key] };
				} else if (schema === undefined) {
					// The whole extension asked for by its id.
					const whole = Object.keys(resource).find((k) => k.toLowerCase() === a.toLowerCase());
					if (whole) out[whole] = resource[whole];
				}
				continue;
			}
			const name = a.split('.')[0];
			const key = Object.keys(resource).find((k) => k.toLowerCase() === name.toLowerCase());
			if (key !== undefined) out[key] = resource[key];
		}
		return out;
	}
	if (excluded && excluded.length > 0) {
		const out = { ...resource };
		for (const a of excluded) {
			const key = Object.keys(out).find((k) => k.toLowerCase() === a.split('.')[0].toLowerCase());
			if (key && key !== 'id' && key !== 'schemas') delete out[key];
		}
		return out;
	}
	return resource;
}
