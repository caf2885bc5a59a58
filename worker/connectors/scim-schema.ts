/**
 * The SCIM 2.0 payloads the client reads (RFC 7643 resources, RFC 7644 messages), as valibot
 * schemas. Everything a server sends is checked before it is mapped; objects are loose (servers
 * add attributes of their own) but every attribute the client uses must have the right shape.
 */
import * as v from 'valibot';
import { GROUP_KINDS } from '$lib/core/model';

export const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE_USER = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/**
 * Rostersync's own extensions: buildings (and any custom attribute the server declares) on
 * Users; kind and managers on Groups. Each has two accepted ids: ours, and the same under the
 * IETF prefix for servers that only accept `urn:ietf:params:scim:schemas:` (SCIMMY refuses
 * any other schema id). Discovery uses whichever the server lists.
 */
export const ROSTERSYNC_USER = [
	'urn:rostersync:params:scim:schemas:extension:2.0:User',
	'urn:ietf:params:scim:schemas:extension:rostersync:2.0:User'
] as const;
export const ROSTERSYNC_GROUP = [
	'urn:rostersync:params:scim:schemas:extension:2.0:Group',
	'urn:ietf:params:scim:schemas:extension:rostersync:2.0:Group'
] as const;

const text = v.nullish(v.string());
const id = v.pipe(v.string(), v.minLength(1, 'must be a non-empty string'));

/**
 * `"True"` / `"False"` (any case, spaces around) as the booleans they mean: Entra ID sends
 * `active` (and other booleans) as strings. Anything else is left as it came, for the schema
 * behind it to refuse.
 */
export function lenientBoolean(input: unknown): unknown {
	if (typeof input !== 'string') return input;
	const word = input.trim().toLowerCase();
	return word === 'true' ? true : word === 'false' ? false : input;
}

/** A boolean attribute, read leniently (see lenientBoolean); absent or null stays absent. */
const flag = v.nullish(v.pipe(v.unknown(), v.transform(lenientBoolean), v.boolean()));

/**
 * One value of a multi-valued attribute (emails, phoneNumbers). An entry without a value (some
 * servers send `{ "type": "work" }` or `"value": null` for a cleared number) is kept here and
 * skipped when the value is picked, rather than refusing the whole record.
 */
const multiValue = v.looseObject({
	value: text,
	type: text,
	primary: flag
});

export const ScimUser = v.looseObject({
	id,
	externalId: text,
	userName: id,
	displayName: text,
	name: v.nullish(v.looseObject({ formatted: text, givenName: text, familyName: text })),
	emails: v.nullish(v.array(multiValue)),
	phoneNumbers: v.nullish(v.array(multiValue)),
	userType: text,
	active: flag,
	[ENTERPRISE_USER]: v.nullish(v.looseObject({ employeeNumber: text }))
});
export type ScimUser = v.InferOutput<typeof ScimUser>;

/** The Rostersync User extension's object: buildings, and scalar custom attributes. */
export const RostersyncUserExt = v.record(
	v.string(),
	v.nullish(v.union([v.string(), v.number(), v.boolean(), v.array(v.string())]))
);

export const ScimGroup = v.looseObject({
	id,
	externalId: text,
	displayName: id,
	members: v.nullish(
		v.array(
			v.looseObject({
				value: id,
				type: text
			})
		)
	)
});
export type ScimGroup = v.InferOutput<typeof ScimGroup>;

export const RostersyncGroupExt = v.looseObject({
	kind: v.nullish(v.picklist(GROUP_KINDS, `must be one of ${GROUP_KINDS.join(', ')}`)),
	managers: v.nullish(v.array(id))
});

/** RFC 7644 §3.4.2 ListResponse. Resources are checked one by one so errors name the record. */
export const ListResponse = v.looseObject({
	totalResults: v.pipe(v.number(), v.integer(), v.minValue(0)),
	startIndex: v.nullish(v.number()),
	itemsPerPage: v.nullish(v.number()),
	Resources: v.nullish(v.array(v.unknown()))
});

/** RFC 7644 §3.12 error response (status is a string in the RFC; some servers send a number). */
export const ScimErrorBody = v.looseObject({
	status: v.nullish(v.union([v.string(), v.number()])),
	scimType: text,
	detail: text
});

const feature = v.nullish(v.looseObject({ supported: flag }));

/** RFC 7643 §5: only the features the client acts on. */
export const ServiceProviderConfig = v.looseObject({
	patch: feature,
	bulk: v.nullish(
		v.looseObject({ supported: flag, maxOperations: v.nullish(v.number()), maxPayloadSize: v.nullish(v.number()) })
	),
	sort: feature,
	etag: feature,
	filter: v.nullish(v.looseObject({ supported: flag, maxResults: v.nullish(v.number()) }))
});

/** RFC 7643 §6. */
export const ResourceType = v.looseObject({
	name: v.string(),
	endpoint: v.string(),
	schema: v.string(),
	schemaExtensions: v.nullish(v.array(v.looseObject({ schema: v.string(), required: flag })))
});

/** RFC 7643 §7: a schema's attribute names and types (sub-attributes are not needed here). */
export const SchemaResource = v.looseObject({
	id: v.string(),
	attributes: v.nullish(v.array(v.looseObject({ name: v.string(), type: text, multiValued: flag })))
});

export type Checked<T> = { ok: true; value: T } | { ok: false; issues: { field: string; message: string }[] };

/** Validates `input`; failures come back as field paths (dotted) and messages. */
export function check<S extends v.GenericSchema>(schema: S, input: unknown): Checked<v.InferOutput<S>> {
	const result = v.safeParse(schema, input);
	if (result.success) return { ok: true, value: result.output };
	return {
		ok: false,
		issues: result.issues.map((issue) => ({
			field: v.getDotPath(issue) ?? '(record)',
			message: issue.message
		}))
	};
}
