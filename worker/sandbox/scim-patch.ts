/**
 * SCIM PATCH (RFC 7644 §3.5.2): one implementation for the sandbox (a server taking PATCH from any
 * client) and the connector (which applies its own operations locally for servers without PATCH).
 *
 * Two halves:
 * - `normalizePatch` reads operations as real clients send them into one strict form, or throws a
 *   PatchError naming the operation, its path and the scimType. It is where the clients' dialects
 *   are understood: op names in any case ("Replace"), path-less values whose keys are paths
 *   (`{ "name.givenName": "Ada" }`) or whole extensions, `"True"`/`"False"` for booleans, members
 *   removed by value (`{ op: remove, path: members, value: [{ value: id }] }`) as Entra ID sends.
 * - `applyPatch` applies normalized operations with scim-patch, which does the add / replace /
 *   remove mechanics. Value filters are evaluated here (scim-filter.ts: the same rules as list
 *   filters) and the elements they select are marked for the package, so a filter means the same
 *   thing wherever it appears; a replace whose filter selects nothing creates the element the
 *   filter pins (`emails[type eq "work"].value`), as Entra ID expects.
 *
 * Removing what is not there changes nothing, so a retried removal succeeds.
 */
import { scimPatch, ScimError as PackageError, type ScimPatchOperation, type ScimResource } from 'scim-patch';
import { lenientBoolean } from '../connectors/scim-schema';
import { ScimSyntaxError, equalitySeed, matches, parseFilter, type Filter } from './scim-filter';

type Json = Record<string, unknown>;

export const PATCH_SCIM_TYPES = ['invalidPath', 'invalidValue', 'noTarget', 'mutability', 'invalidSyntax'] as const;
export type PatchScimType = (typeof PATCH_SCIM_TYPES)[number];

/** A PATCH request the resource cannot take: a 400 with this scimType. */
export class PatchError extends Error {
	constructor(
		readonly scimType: PatchScimType,
		message: string
	) {
		super(message);
		this.name = 'PatchError';
	}
}

export const PATCH_OPS = ['add', 'replace', 'remove'] as const;
export type PatchVerb = (typeof PATCH_OPS)[number];

/** The schemas of the resource a PATCH applies to. */
export interface PatchSchemas {
	/** The resource's own schema ids: their attributes sit at the top level. */
	core: readonly string[];
	/** The extensions it may carry. */
	extensions: readonly string[];
	/**
	 * A path naming another schema is refused (`invalidPath`) when true, as a server does; the
	 * connector applying its own field map passes false.
	 */
	strict?: boolean;
}

/** A parsed path: `[schema:]attr[.sub]`, `[schema:]attr[filter][.sub]`, or a whole extension. */
export interface PatchPath {
	/** The path as the client wrote it, for messages. */
	text: string;
	/** An extension id; undefined for core attributes. */
	schema?: string;
	/** Empty when the path is a whole extension. */
	attr: string;
	filter?: Filter;
	sub?: string;
}

/** One operation, normalized. `index` is its place in the request's Operations. */
export interface NormalizedOp {
	op: PatchVerb;
	index: number;
	path?: PatchPath;
	value?: unknown;
}

/** Longest path accepted (the package's path regexes are quadratic in it). */
export const MAX_PATH_LENGTH = 1024;
/** Most operations one PATCH request may carry (after path-less values are expanded). */
export const MAX_OPERATIONS = 10_000;

const READ_ONLY = new Set(['id', 'meta', 'schemas']);
const BOOLEAN_ATTRIBUTES = new Set(['active', 'primary']);
/** Names that would reach an object's prototype through the package's path walk. */
const FORBIDDEN_NAMES = new Set(['__proto__', 'constructor', 'prototype']);
const NAME = /^[A-Za-z$][\w$-]*$/;

/** The canonical spelling of the attributes Rostersync reads, for paths written in another case. */
const KNOWN_NAMES = new Map(
	[
		'externalId',
		'userName',
		'name',
		'formatted',
		'familyName',
		'givenName',
		'middleName',
		'displayName',
		'nickName',
		'title',
		'userType',
		'preferredLanguage',
		'locale',
		'timezone',
		'active',
		'emails',
		'phoneNumbers',
		'addresses',
		'value',
		'display',
		'type',
		'primary',
		'members',
		'employeeNumber',
		'department',
		'manager',
		'buildings',
		'kind',
		'managers'
	].map((n) => [n.toLowerCase(), n])
);

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const clip = (text: string, max = 120) => (text.length > max ? `${text.slice(0, max)}…` : text);
const label = (index: number, path?: string) =>
	`Operations[${index}]${path === undefined ? '' : ` (path "${clip(path)}")`}`;

/** The key of `obj` equal to `name` ignoring case (own keys only). */
function keyOf(obj: Json, name: string): string | undefined {
	if (Object.hasOwn(obj, name)) return name;
	const lower = name.toLowerCase();
	return Object.keys(obj).find((k) => k.toLowerCase() === lower);
}

const sameSchema = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** Parses a PATCH path against the resource's schemas. */
export function parsePatchPath(text: string, schemas: PatchSchemas, index = 0): PatchPath {
	const fail = (why: string): never => {
		throw new PatchError('invalidPath', `${label(index, text)}: ${why}`);
	};
	if (text.length > MAX_PATH_LENGTH) fail(`is longer than ${MAX_PATH_LENGTH} characters`);
	const trimmed = text.trim();
	let schema: string | undefined;
	let rest = trimmed;
	if (/^urn:/i.test(trimmed)) {
		const all = [...schemas.core, ...schemas.extensions].sort((a, b) => b.length - a.length);
		const whole = schemas.extensions.find((s) => sameSchema(s, trimmed));
		if (whole) return { text, schema: whole, attr: '' };
		if (schemas.core.some((s) => sameSchema(s, trimmed))) fail('names the core schema, not an attribute');
		const known = all.find((s) => trimmed.toLowerCase().startsWith(`${s.toLowerCase()}:`));
		if (known) {
			schema = schemas.core.includes(known) ? undefined : known;
			rest = trimmed.slice(known.length + 1);
		} else if (schemas.strict ?? true) {
			fail('names a schema this resource does not have');
		} else {
			const head = trimmed.split('[')[0];
			schema = trimmed.slice(0, head.lastIndexOf(':'));
			rest = trimmed.slice(schema.length + 1);
		}
	}
	let attr: string;
	let sub: string | undefined;
	let filter: Filter | undefined;
	const open = rest.indexOf('[');
	if (open < 0) {
		const parts = rest.split('.');
		if (parts.length > 2) fail('has more than one sub-attribute');
		[attr, sub] = parts;
	} else {
		attr = rest.slice(0, open);
		const close = rest.lastIndexOf(']');
		if (close < open) fail('has a "[" without its "]"');
		const after = rest.slice(close + 1);
		if (after !== '') {
			if (!after.startsWith('.')) fail(`has "${clip(after)}" after its filter`);
			sub = after.slice(1);
		}
		try {
			filter = parseFilter(rest.slice(open + 1, close));
		} catch (e) {
			if (e instanceof ScimSyntaxError) fail(`its filter ${e.message}`);
			throw e;
		}
	}
	for (const name of sub === undefined ? [attr] : [attr, sub]) {
		if (!NAME.test(name) || FORBIDDEN_NAMES.has(name.toLowerCase())) fail(`"${clip(name)}" is not an attribute name`);
	}
	return { text, ...(schema ? { schema } : {}), attr, ...(filter ? { filter } : {}), ...(sub ? { sub } : {}) };
}

/** Booleans sent as strings ("True", Entra ID) read as booleans, at any depth of a value. */
function coerceBooleans(name: string | undefined, value: unknown): unknown {
	if (Array.isArray(value)) return value.map((v) => coerceBooleans(name, v));
	if (isObject(value)) {
		const out: Json = {};
		for (const [k, v] of Object.entries(value)) out[k] = coerceBooleans(k, v);
		return out;
	}
	return name !== undefined && BOOLEAN_ATTRIBUTES.has(name.toLowerCase()) ? lenientBoolean(value) : value;
}

/** Refuses keys that would reach a prototype when the package walks them as paths. */
function checkKeys(value: unknown, where: string): void {
	const stack: unknown[] = [value];
	while (stack.length > 0) {
		const v = stack.pop();
		if (Array.isArray(v)) stack.push(...v);
		else if (isObject(v))
			for (const [k, x] of Object.entries(v)) {
				if (k.split(/[.:]/).some((part) => FORBIDDEN_NAMES.has(part.toLowerCase())))
					throw new PatchError('invalidValue', `${where}: "${clip(k)}" is not an attribute name`);
				stack.push(x);
			}
	}
}

/**
 * Reads a request's `Operations` into normalized operations, or throws a PatchError. A path-less
 * add or replace becomes one operation per attribute of its value (the same meaning, RFC 7644
 * §3.5.2.1 and .3), so every operation below has a path.
 */
export function normalizePatch(operations: unknown, schemas: PatchSchemas): NormalizedOp[] {
	if (!Array.isArray(operations) || operations.length === 0)
		throw new PatchError('invalidSyntax', 'Operations must be a non-empty list');
	const out: NormalizedOp[] = [];
	const push = (op: NormalizedOp) => {
		if (out.length >= MAX_OPERATIONS)
			throw new PatchError('invalidValue', `a PATCH may carry at most ${MAX_OPERATIONS} operations`);
		out.push(op);
	};
	operations.forEach((raw, index) => {
		if (!isObject(raw)) throw new PatchError('invalidSyntax', `${label(index)} must be an object`);
		const verb = typeof raw.op === 'string' ? raw.op.toLowerCase() : undefined;
		if (!PATCH_OPS.includes(verb as PatchVerb))
			throw new PatchError(
				'invalidSyntax',
				`${label(index)}: "${clip(String(raw.op))}" is not a PATCH operation (add, replace, remove)`
			);
		const op = verb as PatchVerb;
		const rawPath = raw.path;
		if (rawPath !== undefined && rawPath !== null && typeof rawPath !== 'string')
			throw new PatchError('invalidPath', `${label(index)}: the path must be a string`);
		const hasValue = Object.hasOwn(raw, 'value');
		checkKeys(raw.value, label(index, rawPath ?? undefined));

		if (rawPath === undefined || rawPath === null || rawPath.trim() === '') {
			if (op === 'remove') throw new PatchError('noTarget', `${label(index)}: "remove" needs a path`);
			for (const each of expand(op, raw.value, index, schemas)) push(each);
			return;
		}
		const path = parsePatchPath(rawPath, schemas, index);
		if (path.attr === '') {
			// A whole extension: its attributes one by one, or all of it removed.
			if (op === 'remove') return push({ op, index, path });
			for (const each of expand(op, { [path.schema!]: raw.value }, index, schemas)) push(each);
			return;
		}
		if (!path.schema && !path.filter && READ_ONLY.has(path.attr.toLowerCase()))
			throw new PatchError('mutability', `${label(index, rawPath)}: "${path.attr}" cannot be changed`);
		if (op === 'remove') {
			// Entra ID removes members by value: the value lists the elements to remove.
			if (hasValue && raw.value !== null && raw.value !== undefined)
				push({ op, index, path, value: Array.isArray(raw.value) ? raw.value : [raw.value] });
			else push({ op, index, path });
			return;
		}
		if (!hasValue || raw.value === undefined)
			throw new PatchError('invalidValue', `${label(index, rawPath)}: "${op}" needs a value`);
		push({ op, index, path, value: coerceBooleans(path.sub ?? path.attr, raw.value) });
	});
	return out;
}

/** A path-less add/replace as one operation per attribute (extensions and the core schema unfolded). */
function expand(op: 'add' | 'replace', value: unknown, index: number, schemas: PatchSchemas): NormalizedOp[] {
	if (!isObject(value))
		throw new PatchError('invalidValue', `${label(index)}: "${op}" without a path needs an object value`);
	const out: NormalizedOp[] = [];
	for (const [key, v] of Object.entries(value)) {
		if (READ_ONLY.has(key.toLowerCase())) continue;
		const core = schemas.core.find((s) => sameSchema(s, key));
		const extension = schemas.extensions.find((s) => sameSchema(s, key));
		if (core || extension) {
			if (!isObject(v)) throw new PatchError('invalidValue', `${label(index)}: "${clip(key)}" must be an object`);
			if (core) out.push(...expand(op, v, index, schemas));
			else
				for (const [sub, sv] of Object.entries(v)) {
					const path = parsePatchPath(`${extension}:${sub}`, schemas, index);
					out.push({ op, index, path, value: coerceBooleans(path.attr, sv) });
				}
			continue;
		}
		const path = parsePatchPath(key, schemas, index);
		if (path.attr === '') {
			out.push(...expand(op, { [path.schema!]: v }, index, schemas));
			continue;
		}
		if (v === undefined) continue;
		out.push({ op, index, path, value: coerceBooleans(path.sub ?? path.attr, v) });
	}
	return out;
}

/** Same element of a multi-valued attribute: the same `value` when both have one, else equal JSON. */
function sameElement(a: unknown, b: unknown): boolean {
	if (isObject(a) && isObject(b)) {
		const ka = keyOf(a, 'value');
		const kb = keyOf(b, 'value');
		if (ka !== undefined && kb !== undefined) return a[ka] === b[kb];
	}
	return JSON.stringify(a) === JSON.stringify(b);
}

/** The key an attribute has in `container`, else its canonical spelling, else as written. */
const spelled = (container: Json | undefined, name: string) =>
	(container && keyOf(container, name)) ?? KNOWN_NAMES.get(name.toLowerCase()) ?? name;

/** Marks the elements a value filter selected, for the package's own filter to find. */
const MARK = 'rostersyncPatchTarget';

function applyOne(doc: Json, o: NormalizedOp): void {
	const path = o.path!;
	const schemaKey = path.schema ? (keyOf(doc, path.schema) ?? path.schema) : undefined;
	const container = schemaKey ? (isObject(doc[schemaKey]) ? (doc[schemaKey] as Json) : undefined) : doc;
	if (path.attr === '') {
		if (schemaKey) delete doc[schemaKey];
		return;
	}
	const attr = spelled(container, path.attr);
	const current = container?.[attr];
	const firstElement = Array.isArray(current) ? current.find(isObject) : isObject(current) ? current : undefined;
	const sub = path.sub === undefined ? undefined : spelled(firstElement, path.sub);
	const prefix = schemaKey ? `${schemaKey}:` : '';
	const run = (operation: ScimPatchOperation) =>
		scimPatch(doc as unknown as ScimResource, [operation], { mutateDocument: true, treatMissingAsAdd: true });

	if (path.filter) {
		const elements = Array.isArray(current) ? current : [];
		const selected = elements.filter((el): el is Json => isObject(el) && matches(el, path.filter!, [attr]));
		if (selected.length === 0) {
			if (o.op === 'remove') return;
			const seed = equalitySeed(path.filter);
			if (!seed) throw new PatchError('noTarget', `no value of "${path.attr}" matches the filter`);
			const element =
				sub !== undefined ? { ...seed, [sub]: o.value } : isObject(o.value) ? { ...seed, ...o.value } : undefined;
			if (!element)
				throw new PatchError('invalidValue', 'a filtered path without a sub-attribute needs an object value');
			run({ op: 'add', path: `${prefix}${attr}`, value: [element] });
			return;
		}
		for (const el of selected) el[MARK] = true;
		try {
			const target = `${prefix}${attr}[${MARK} eq true]${sub !== undefined ? `.${sub}` : ''}`;
			run(o.op === 'remove' ? { op: 'remove', path: target } : { op: o.op, path: target, value: o.value });
		} finally {
			const after = container?.[attr];
			if (Array.isArray(after)) for (const el of after) if (isObject(el)) delete el[MARK];
		}
		return;
	}

	const target = `${prefix}${attr}${sub !== undefined ? `.${sub}` : ''}`;
	if (o.op === 'remove') {
		if (o.value !== undefined && sub === undefined && Array.isArray(current)) {
			// The elements named by value, as they are (the package removes what is deep-equal).
			const drop = current.filter((el) => (o.value as unknown[]).some((v) => sameElement(el, v)));
			if (drop.length > 0) run({ op: 'remove', path: target, value: drop });
			return;
		}
		run({ op: 'remove', path: target });
		return;
	}
	if (o.op === 'add' && sub === undefined && Array.isArray(current)) {
		// Adding what is there already (the same member, by value) changes nothing.
		const added = (Array.isArray(o.value) ? o.value : [o.value]).filter(
			(v) => !current.some((el) => sameElement(el, v))
		);
		if (added.length > 0) run({ op: 'add', path: target, value: added });
		return;
	}
	run({ op: o.op, path: target, value: o.value });
}

/**
 * Applies PATCH operations to a copy of `resource`, or throws a PatchError naming the operation.
 * Every extension the result carries is listed in its `schemas`. The caller validates the result
 * as it would a PUT body.
 */
export function applyPatch(resource: Json, operations: unknown, schemas: PatchSchemas): Json {
	return applyOperations(resource, normalizePatch(operations, schemas));
}

/** `applyPatch` for operations `normalizePatch` has read already. */
export function applyOperations(resource: Json, ops: readonly NormalizedOp[]): Json {
	const doc = structuredClone(resource);
	for (const o of ops) {
		try {
			applyOne(doc, o);
		} catch (e) {
			const where = label(o.index, o.path?.text);
			if (e instanceof PatchError) throw new PatchError(e.scimType, `${where}: ${e.message}`);
			if (e instanceof PackageError) {
				const scimType = PATCH_SCIM_TYPES.find((t) => t === e.scimCode) ?? 'invalidValue';
				throw new PatchError(scimType, `${where}: ${e.message}`);
			}
			// The package walks into the current value: a string where an object was expected.
			if (e instanceof TypeError)
				throw new PatchError('invalidValue', `${where}: does not fit the attribute's current value`);
			throw e;
		}
	}
	const declared = Array.isArray(doc.schemas) ? (doc.schemas as unknown[]).map(String) : [];
	for (const key of Object.keys(doc))
		if (/^urn:/i.test(key) && !declared.some((s) => sameSchema(s, key))) declared.push(key);
	if (declared.length > 0 || Array.isArray(doc.schemas)) doc.schemas = declared;
	return doc;
}
