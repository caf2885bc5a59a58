/**
 * SCIM PATCH (RFC 7644 §3.5.2) on a resource's JSON: add, replace and remove, with or without a
 * path, including value filters (`members[value eq "x"]`, `emails[type eq "work"].value`). The
 * result is validated by the caller like a PUT body, so every rule that holds for PUT holds here.
 *
 * Choices where the RFC leaves room or real clients differ:
 * - op names are case-insensitive ("Replace" from Entra ID is "replace");
 * - removing an element that is not there (a member already gone) changes nothing, so a retried
 *   removal succeeds;
 * - `replace` on `attr[sub eq "v"].x` with no matching element adds `{ sub: "v", x: value }` (how
 *   Entra ID sets a work email).
 */
import { containerOf, keyOf, matches, parsePatchPath, ScimSyntaxError, type Filter } from './scim-filter';

type Json = Record<string, unknown>;

export interface PatchOp {
	op: string;
	path?: string;
	value?: unknown;
}

/** A PATCH request the resource cannot take: a 400 with this scimType. */
export class PatchError extends Error {
	constructor(
		readonly scimType: 'invalidPath' | 'invalidValue' | 'noTarget' | 'mutability' | 'invalidSyntax',
		message: string
	) {
		super(message);
		this.name = 'PatchError';
	}
}

const READ_ONLY = new Set(['id', 'meta', 'schemas']);
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Same element, for de-duplicating multi-valued adds: same `value` if it has one, else same JSON. */
function sameElement(a: unknown, b: unknown): boolean {
	if (isObject(a) && isObject(b)) {
		const ka = keyOf(a, 'value');
		const kb = keyOf(b, 'value');
		if (ka && kb) return a[ka] === b[kb];
	}
	return JSON.stringify(a) === JSON.stringify(b);
}

function addValues(container: Json, attr: string, value: unknown): void {
	const key = keyOf(container, attr) ?? attr;
	const current = container[key];
	if (Array.isArray(current) || Array.isArray(value)) {
		const list = Array.isArray(current) ? [...current] : current === undefined || current === null ? [] : [current];
		for (const v of Array.isArray(value) ? value : [value]) if (!list.some((x) => sameElement(x, v))) list.push(v);
		container[key] = list;
	} else if (isObject(current) && isObject(value)) {
		container[key] = { ...current, ...value };
	} else {
		container[key] = value;
	}
}

function setValue(container: Json, attr: string, value: unknown): void {
	const key = keyOf(container, attr) ?? attr;
	if (isObject(container[key]) && isObject(value)) container[key] = { ...(container[key] as Json), ...value };
	else container[key] = value;
}

function removeKey(container: Json, attr: string): void {
	const key = keyOf(container, attr);
	if (key !== undefined) delete container[key];
}

/** The object an attribute path writes into, created for extensions when missing. */
function writable(doc: Json, schema: string | undefined, coreSchemas: readonly string[]): Json {
	const found = containerOf(doc, { schema, attr: '' }, coreSchemas);
	if (found) return found;
	const ext: Json = {};
	doc[schema!] = ext;
	const schemas = Array.isArray(doc.schemas) ? (doc.schemas as string[]) : [];
	if (!schemas.some((s) => s.toLowerCase() === schema!.toLowerCase())) doc.schemas = [...schemas, schema!];
	return ext;
}

/** Applies a path-less add/replace: every member of `value` is an attribute (extensions nested). */
function applyWhole(
	doc: Json,
	op: 'add' | 'replace',
	value: unknown,
	coreSchemas: readonly string[],
	extensionSchemas: readonly string[]
): void {
	if (!isObject(value)) throw new PatchError('invalidValue', `"${op}" without a path needs an object value`);
	for (const [attr, v] of Object.entries(value)) {
		if (READ_ONLY.has(attr.toLowerCase())) continue;
		const schema = [...coreSchemas, ...extensionSchemas].find((s) => s.toLowerCase() === attr.toLowerCase());
		if (schema && coreSchemas.includes(schema)) {
			applyWhole(doc, op, v, coreSchemas, extensionSchemas);
		} else if (schema) {
			if (!isObject(v)) throw new PatchError('invalidValue', `"${attr}" must be an object`);
			const ext = writable(doc, schema, coreSchemas);
			for (const [sub, sv] of Object.entries(v)) (op === 'add' ? addValues : setValue)(ext, sub, sv);
		} else if (attr.includes(':') || attr.includes('.') || attr.includes('[')) {
			// Entra ID sends paths as keys: { "name.givenName": "Ada" }.
			applyOne(doc, { op, path: attr, value: v }, coreSchemas, extensionSchemas);
		} else {
			(op === 'add' ? addValues : setValue)(doc, attr, v);
		}
	}
}

function selected(list: unknown, filter: Filter): Json[] {
	return Array.isArray(list) ? list.filter((el): el is Json => isObject(el) && matches(el, filter, [])) : [];
}

/** The attribute and value of a `sub eq "v"` filter, to create the element a replace targets. */
function seedOf(filter: Filter): Json | undefined {
	if (filter.op === 'eq' && !filter.path.sub && !filter.path.schema) return { [filter.path.attr]: filter.value };
	if (filter.op === 'and') {
		const l = seedOf(filter.left);
		const r = seedOf(filter.right);
		return l && r ? { ...l, ...r } : undefined;
	}
	return undefined;
}

function applyOne(
	doc: Json,
	operation: PatchOp,
	coreSchemas: readonly string[],
	extensionSchemas: readonly string[]
): void {
	const op = String(operation.op ?? '').toLowerCase();
	if (op !== 'add' && op !== 'replace' && op !== 'remove')
		throw new PatchError('invalidSyntax', `"${operation.op}" is not a PATCH operation (add, replace, remove)`);
	if (operation.path === undefined || operation.path === '') {
		if (op === 'remove') throw new PatchError('noTarget', '"remove" needs a path');
		return applyWhole(doc, op, operation.value, coreSchemas, extensionSchemas);
	}
	if (typeof operation.path !== 'string') throw new PatchError('invalidPath', 'the path must be a string');

	// A whole extension as the path: `urn:...:User` with an object value.
	const wholeSchema = extensionSchemas.find((s) => s.toLowerCase() === operation.path!.toLowerCase());
	if (wholeSchema) {
		if (op === 'remove') return removeKey(doc, wholeSchema);
		return applyWhole(doc, op, { [wholeSchema]: operation.value }, coreSchemas, extensionSchemas);
	}

	let parsed;
	try {
		parsed = parsePatchPath(operation.path);
	} catch (e) {
		throw new PatchError(
			'invalidPath',
			e instanceof ScimSyntaxError ? `path "${operation.path}": ${e.message}` : `path "${operation.path}" is not valid`
		);
	}
	const { path, filter, subAfterFilter } = parsed;
	if (!path.schema && READ_ONLY.has(path.attr.toLowerCase()))
		throw new PatchError('mutability', `"${path.attr}" cannot be changed`);
	if (
		path.schema &&
		![...coreSchemas, ...extensionSchemas].some((s) => s.toLowerCase() === path.schema!.toLowerCase())
	) {
		throw new PatchError('invalidPath', `path "${operation.path}" names a schema this resource does not have`);
	}
	const container = op === 'remove' ? containerOf(doc, path, coreSchemas) : writable(doc, path.schema, coreSchemas);
	if (!container) return; // removing from an extension the resource does not carry: nothing to do

	if (filter) {
		const key = keyOf(container, path.attr);
		const matched = selected(key ? container[key] : undefined, filter);
		if (op === 'remove') {
			if (!key || !Array.isArray(container[key])) return;
			if (subAfterFilter) for (const el of matched) removeKey(el, subAfterFilter);
			else container[key] = (container[key] as unknown[]).filter((el) => !matched.includes(el as Json));
			return;
		}
		if (matched.length === 0) {
			const seed = seedOf(filter);
			if (!seed)
				throw new PatchError('noTarget', `no value of "${path.attr}" matches the filter in "${operation.path}"`);
			const element = subAfterFilter
				? { ...seed, [subAfterFilter]: operation.value }
				: isObject(operation.value)
					? { ...seed, ...operation.value }
					: undefined;
			if (!element) throw new PatchError('invalidValue', `"${operation.path}" needs an object value`);
			addValues(container, path.attr, [element]);
			return;
		}
		for (const el of matched) {
			if (subAfterFilter) setValue(el, subAfterFilter, operation.value);
			else if (isObject(operation.value)) Object.assign(el, operation.value);
			else throw new PatchError('invalidValue', `"${operation.path}" needs an object value`);
		}
		return;
	}

	if (path.sub) {
		const key = keyOf(container, path.attr) ?? path.attr;
		const current = container[key];
		if (Array.isArray(current)) {
			// `emails.value` on a multi-valued attribute: every element (RFC 7644 §3.5.2.3).
			for (const el of current)
				if (isObject(el)) {
					if (op === 'remove') removeKey(el, path.sub);
					else setValue(el, path.sub, operation.value);
				}
			return;
		}
		if (op === 'remove') {
			if (isObject(current)) removeKey(current, path.sub);
			return;
		}
		const obj = isObject(current) ? current : {};
		setValue(obj, path.sub, operation.value);
		container[key] = obj;
		return;
	}

	if (op === 'remove') {
		const key = keyOf(container, path.attr);
		if (key === undefined) return;
		// Entra ID removes members by value: { op: remove, path: members, value: [{ value: id }] }.
		if (Array.isArray(container[key]) && Array.isArray(operation.value)) {
			const drop = operation.value as unknown[];
			container[key] = (container[key] as unknown[]).filter((el) => !drop.some((d) => sameElement(el, d)));
			return;
		}
		delete container[key];
		return;
	}
	if (op === 'add') addValues(container, path.attr, operation.value);
	else setValue(container, path.attr, operation.value);
}

/**
 * Applies PATCH operations to a copy of `resource`. `coreSchemas` are the resource's own schema
 * ids (attributes at the top level), `extensionSchemas` the extensions it may carry.
 */
export function applyPatch(
	resource: Json,
	operations: unknown,
	coreSchemas: readonly string[],
	extensionSchemas: readonly string[]
): Json {
	if (!Array.isArray(operations) || operations.length === 0)
		throw new PatchError('invalidSyntax', 'Operations must be a non-empty list');
	const doc = structuredClone(resource);
	for (const operation of operations) {
		if (!isObject(operation)) throw new PatchError('invalidSyntax', 'each operation must be an object');
		applyOne(doc, operation as unknown as PatchOp, coreSchemas, extensionSchemas);
	}
	return doc;
}
