/**
 * SCIM Bulk (RFC 7644 §3.7) for a sandbox directory: POST /Bulk applies its operations in order,
 * each as the same request alone would be (the same directory calls, the same errors), and
 * answers each operation's outcome. A POST's `bulkId` names the record it creates: any later
 * string value (or path segment) `bulkId:<that id>` is the new record's id. A reference to an
 * operation that failed, or to none, fails that operation alone (409). `failOnErrors` stops the
 * request after that many failures; more operations than MAX_BULK_OPERATIONS are refused whole.
 */
import { ERROR_SCHEMA } from './scim-resources';
import { PatchError } from './scim-patch';
import { ScimError, type ResourceKind, type ScimDirectory } from './scim-http';

type Json = Record<string, unknown>;

export const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
export const BULK_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';
/** Operations one request may carry (announced in /ServiceProviderConfig). */
export const MAX_BULK_OPERATIONS = 1000;

const METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** The BulkResponse for a BulkRequest body (already read within the body limit). */
export function applyBulk(dir: ScimDirectory, body: Json, base: string): Json {
	if (!(Array.isArray(body.schemas) && body.schemas.includes(BULK_REQUEST)))
		throw new ScimError(400, `schemas must include "${BULK_REQUEST}"`, 'invalidSyntax');
	const operations = body.Operations;
	if (!Array.isArray(operations)) throw new ScimError(400, 'Operations must be a list', 'invalidSyntax');
	if (operations.length > MAX_BULK_OPERATIONS)
		throw new ScimError(
			413,
			`${operations.length} operations are more than the ${MAX_BULK_OPERATIONS} one request may carry`,
			'tooMany'
		);
	const failOnErrors = body.failOnErrors;
	if (failOnErrors !== undefined && !(Number.isSafeInteger(failOnErrors) && (failOnErrors as number) > 0))
		throw new ScimError(400, 'failOnErrors must be a positive integer', 'invalidValue');

	/** bulkId -> the id its POST created (absent: it failed or has not run). */
	const created = new Map<string, string>();
	const results: Json[] = [];
	let errors = 0;
	for (const [index, raw] of operations.entries()) {
		if (failOnErrors !== undefined && errors >= (failOnErrors as number)) break;
		const op = (raw && typeof raw === 'object' && !Array.isArray(raw) ? raw : {}) as Json;
		const method = typeof op.method === 'string' ? op.method.toUpperCase() : '';
		const bulkId = typeof op.bulkId === 'string' ? op.bulkId : undefined;
		const result: Json = { method: op.method ?? null, ...(bulkId !== undefined ? { bulkId } : {}) };
		try {
			const outcome = one(dir, op, method, bulkId, created, base, index + 1);
			Object.assign(result, outcome);
		} catch (e) {
			const error =
				e instanceof ScimError
					? e
					: e instanceof PatchError
						? new ScimError(400, e.message, e.scimType)
						: new ScimError(500, 'the sandbox failed to apply this operation');
			if (!(e instanceof ScimError || e instanceof PatchError))
				console.error(JSON.stringify({ event: 'sandbox-bulk-error', name: e instanceof Error ? e.name : typeof e }));
			errors++;
			result.status = String(error.status);
			result.response = {
				schemas: [ERROR_SCHEMA],
				status: String(error.status),
				detail: error.message,
				...(error.scimType ? { scimType: error.scimType } : {})
			};
		}
		results.push(result);
	}
	return { schemas: [BULK_RESPONSE], Operations: results };
}

function one(
	dir: ScimDirectory,
	op: Json,
	method: string,
	bulkId: string | undefined,
	created: Map<string, string>,
	base: string,
	n: number
): Json {
	const where = `operation ${n}`;
	if (!(METHODS as readonly string[]).includes(method))
		throw new ScimError(400, `${where}: method must be one of ${METHODS.join(', ')}`, 'invalidValue');
	if (typeof op.path !== 'string') throw new ScimError(400, `${where}: path must be a string`, 'invalidSyntax');
	const [collection, rawId, extra] = op.path.split('/').filter(Boolean);
	const kind: ResourceKind | undefined =
		collection === 'Users' ? 'user' : collection === 'Groups' ? 'group' : undefined;
	if (!kind || extra !== undefined)
		throw new ScimError(
			400,
			`${where}: path "${op.path.slice(0, 100)}" names no resource of the sandbox`,
			'invalidPath'
		);
	const id = rawId === undefined ? undefined : resolveRef(decode(rawId, where), created, where);
	if (method === 'POST') {
		if (id !== undefined)
			throw new ScimError(400, `${where}: a POST names a collection, not a resource`, 'invalidPath');
		if (bulkId === undefined) throw new ScimError(400, `${where}: a POST needs a bulkId`, 'invalidSyntax');
		if (created.has(bulkId)) throw new ScimError(400, `${where}: bulkId "${bulkId}" is used twice`, 'uniqueness');
	} else if (id === undefined) throw new ScimError(400, `${where}: a ${method} names one resource`, 'invalidPath');
	const data = method === 'DELETE' ? undefined : resolveData(op.data, created, where);
	if (method !== 'DELETE' && (!data || typeof data !== 'object' || Array.isArray(data)))
		throw new ScimError(400, `${where}: data must be an object`, 'invalidSyntax');
	switch (method) {
		case 'POST': {
			const resource = dir.create(kind, data as Json, base);
			created.set(bulkId!, String(resource.id));
			return {
				status: '201',
				location: String((resource.meta as Json | undefined)?.location ?? ''),
				response: resource
			};
		}
		case 'PUT': {
			const resource = dir.replace(kind, id!, data as Json, base);
			return {
				status: '200',
				location: String((resource.meta as Json | undefined)?.location ?? ''),
				response: resource
			};
		}
		case 'PATCH': {
			const resource = dir.patch(kind, id!, data as Json, base);
			return {
				status: resource === undefined ? '204' : '200',
				location: `${base}/${collection}/${encodeURIComponent(id!)}`
			};
		}
		default:
			dir.remove(kind, id!);
			return { status: '204', location: `${base}/${collection}/${encodeURIComponent(id!)}` };
	}
}

function decode(segment: string, where: string): string {
	try {
		return decodeURIComponent(segment);
	} catch {
		throw new ScimError(400, `${where}: the path is not valid percent-encoding`, 'invalidSyntax');
	}
}

function resolveRef(value: string, created: Map<string, string>, where: string): string {
	if (!value.startsWith('bulkId:')) return value;
	const id = created.get(value.slice(7));
	if (id === undefined)
		throw new ScimError(409, `${where}: ${value.slice(0, 100)} names no operation of this request that succeeded`);
	return id;
}

/** The operation's data with every `bulkId:<id>` string value replaced by the id it created. */
function resolveData(value: unknown, created: Map<string, string>, where: string): unknown {
	if (typeof value === 'string') return resolveRef(value, created, where);
	if (Array.isArray(value)) return value.map((v) => resolveData(v, created, where));
	if (value && typeof value === 'object') {
		const out: Json = {};
		for (const [k, v] of Object.entries(value))
			Object.defineProperty(out, k, {
				value: resolveData(v, created, where),
				enumerable: true,
				writable: true,
				configurable: true
			});
		return out;
	}
	return value;
}
