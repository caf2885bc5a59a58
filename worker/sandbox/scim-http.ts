/**
 * SCIM 2.0 over HTTP for a sandbox directory: one plain function, `handleScim`, from a Request to
 * a Response, whoever calls it (the SandboxDO's fetch today, an RPC method as well).
 *
 * What every request goes through, in this order:
 * 1. the token (401 before anything else, and before a byte of the body is read);
 * 2. the path, decoded segment by segment (a malformed percent-encoding is a 400);
 * 3. for a body: its Content-Type (415 unless JSON), its size (413 on Content-Length, and again
 *    while it streams in), UTF-8, JSON, an object, bounded nesting (each a 400 invalidSyntax);
 * 4. the directory's answer (POST /Bulk: each operation's, see scim-bulk.ts). Anything thrown
 *    becomes an RFC 7644 §3.12 error body; a 500 only for a fault of the sandbox itself, never
 *    for what a client sent.
 */
import {
	DEFAULT_COUNT,
	ERROR_SCHEMA,
	listResponse,
	project,
	resourceTypes,
	schemas,
	serviceProviderConfig,
	SEARCH_REQUEST
} from './scim-resources';
import { ScimSyntaxError, parseFilter, type Filter } from './scim-filter';
import { PatchError } from './scim-patch';
import { applyBulk } from './scim-bulk';

/** Header the public route sets so `meta.location` shows the URL external clients use. */
export const PUBLIC_BASE_HEADER = 'x-rostersync-scim-base';

/** Largest request body accepted (a PUT of a group of about 20k members). */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;
/** Deepest nesting of arrays and objects accepted in a body (SCIM resources need four or five). */
export const MAX_BODY_DEPTH = 32;

export const SCIM_TYPES = [
	'invalidFilter',
	'invalidPath',
	'invalidSyntax',
	'invalidValue',
	'invalidVers',
	'mutability',
	'noTarget',
	'sensitive',
	'tooMany',
	'uniqueness'
] as const;
export type ScimType = (typeof SCIM_TYPES)[number];

/** A SCIM error response (RFC 7644 §3.12). */
export class ScimError extends Error {
	constructor(
		readonly status: number,
		message: string,
		readonly scimType?: ScimType,
		readonly headers: Record<string, string> = {}
	) {
		super(message);
		this.name = 'ScimError';
	}
}

export const RESOURCE_KINDS = ['user', 'group'] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

type Json = Record<string, unknown>;

/** A list request, checked. */
export interface ListQuery {
	filter?: Filter;
	/** The filter as sent (the key of a read view). */
	filterText?: string;
	startIndex: number;
	count: number;
	attributes?: string[];
	excluded?: string[];
	/** The read view the client asks for (If-Match: the ETag of an earlier page). */
	pin?: string;
}

/** What a sandbox directory answers; it throws ScimError (404, 409, 412 …) and PatchError. */
export interface ScimDirectory {
	/** Whether `token` is one of the sandbox's tokens. */
	authorize(token: string): Promise<boolean>;
	customAttributes(): readonly string[];
	/** One page and the version of the directory it shows (every page of one read shows the same). */
	list(kind: ResourceKind, base: string, query: ListQuery): { body: Json; version: string };
	get(kind: ResourceKind, id: string, base: string): Json;
	create(kind: ResourceKind, body: Json, base: string): Json;
	replace(kind: ResourceKind, id: string, body: Json, base: string): Json;
	/** The patched resource, or undefined when the answer is a 204 (a group's member changes). */
	patch(kind: ResourceKind, id: string, body: Json, base: string): Json | undefined;
	remove(kind: ResourceKind, id: string): void;
}

const SCIM_HEADERS = { 'content-type': 'application/scim+json; charset=utf-8', 'cache-control': 'no-store' };

export function scimJson(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
	return new Response(JSON.stringify(body), { status, headers: { ...SCIM_HEADERS, ...headers } });
}

export function scimErrorResponse(e: ScimError): Response {
	const body: Json = { schemas: [ERROR_SCHEMA], status: String(e.status), detail: e.message };
	if (e.scimType) body.scimType = e.scimType;
	const headers: Record<string, string> = { ...e.headers };
	if (e.status === 401) headers['www-authenticate'] = 'Bearer realm="rostersync-sandbox"';
	return scimJson(body, e.status, headers);
}

/** Client text cut for an error message. */
const clip = (text: string, max = 120) => (text.length > max ? `${text.slice(0, max)}…` : text);

/** Answers one SCIM request. Never throws. */
export async function handleScim(request: Request, dir: ScimDirectory): Promise<Response> {
	const response = await answer(request, dir);
	// A HEAD is answered as its GET would be, without the body.
	return request.method.toUpperCase() === 'HEAD' ? new Response(null, response) : response;
}

async function answer(request: Request, dir: ScimDirectory): Promise<Response> {
	try {
		await authorize(request, dir);
		return await route(request, dir);
	} catch (e) {
		if (e instanceof ScimError) return scimErrorResponse(e);
		if (e instanceof PatchError) return scimErrorResponse(new ScimError(400, e.message, e.scimType));
		console.error(JSON.stringify({ event: 'sandbox-error', name: e instanceof Error ? e.name : typeof e }));
		return scimErrorResponse(new ScimError(500, 'the sandbox failed to answer'));
	}
}

async function authorize(request: Request, dir: ScimDirectory): Promise<void> {
	const header = request.headers.get('authorization') ?? '';
	const match = /^Bearer\s+(\S{1,512})\s*$/i.exec(header);
	if (!match) throw new ScimError(401, 'send "Authorization: Bearer <sandbox token>"');
	if (!(await dir.authorize(match[1]))) throw new ScimError(401, 'the sandbox token is not valid');
}

/** A path segment decoded, or a 400 naming it when it is not valid percent-encoding. */
export function decodeSegment(segment: string): string {
	try {
		return decodeURIComponent(segment);
	} catch {
		throw new ScimError(400, `the path segment "${clip(segment)}" is not valid percent-encoding`, 'invalidSyntax');
	}
}

async function route(request: Request, dir: ScimDirectory): Promise<Response> {
	const url = new URL(request.url);
	const base =
		request.headers.get(PUBLIC_BASE_HEADER) ?? `${url.origin}${url.pathname.replace(/(\/scim\/v2).*$/, '$1')}`;
	const path = url.pathname.replace(/^.*?\/scim\/v2/, '').replace(/\/+$/, '') || '/';
	const segments = path.split('/').filter(Boolean).map(decodeSegment);
	const method = request.method.toUpperCase() === 'HEAD' ? 'GET' : request.method.toUpperCase();
	const [collection, id, extra] = segments;
	const params = url.searchParams;
	const notFound = () => new ScimError(404, `no endpoint "${clip(path)}"`);

	if (collection === 'ServiceProviderConfig' || collection === 'ResourceTypes' || collection === 'Schemas') {
		if (method !== 'GET') throw notAllowed(method, `/${collection}`, 'GET');
		if (collection === 'ServiceProviderConfig') {
			if (segments.length > 1) throw notFound();
			return scimJson(serviceProviderConfig(base));
		}
		if (extra !== undefined) throw notFound();
		const all = collection === 'ResourceTypes' ? resourceTypes(base) : schemas(base, dir.customAttributes());
		if (id === undefined) return scimJson(listResponse(all, all.length, 1));
		const one = all.find((t) => t.id === id);
		if (!one) throw new ScimError(404, `no ${collection === 'Schemas' ? 'schema' : 'resource type'} "${clip(id)}"`);
		return scimJson(one);
	}
	if (collection === 'Bulk' && segments.length === 1) {
		if (method !== 'POST') throw notAllowed(method, '/Bulk', 'POST');
		return scimJson(applyBulk(dir, await readJson(request), base));
	}
	if (collection === 'Bulk' || collection === 'Me')
		throw new ScimError(501, `/${collection} is not supported by the sandbox`);
	if (collection !== 'Users' && collection !== 'Groups') throw notFound();
	const kind: ResourceKind = collection === 'Users' ? 'user' : 'group';
	const noun = kind === 'user' ? 'User' : 'Group';
	const pin = pinOf(request);

	if (id === '.search' && extra === undefined) {
		if (method !== 'POST') throw notAllowed(method, `/${collection}/.search`, 'POST');
		const body = await readJson(request);
		if (body.schemas !== undefined && !(Array.isArray(body.schemas) && body.schemas.includes(SEARCH_REQUEST)))
			throw new ScimError(400, `schemas must include "${SEARCH_REQUEST}"`, 'invalidSyntax');
		const strings = (v: unknown, name: string) => {
			if (v === undefined) return undefined;
			if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
				throw new ScimError(400, `${name} must be a list of attribute names`, 'invalidValue');
			return v as string[];
		};
		if (body.filter !== undefined && typeof body.filter !== 'string')
			throw new ScimError(400, 'filter must be a string', 'invalidFilter');
		return listed(
			dir,
			kind,
			base,
			listQuery(
				{
					filter: body.filter as string | undefined,
					startIndex: body.startIndex,
					count: body.count,
					attributes: strings(body.attributes, 'attributes'),
					excluded: strings(body.excludedAttributes, 'excludedAttributes')
				},
				pin
			)
		);
	}
	if (extra !== undefined) throw notFound();
	if (id === undefined) {
		if (method === 'GET')
			return listed(
				dir,
				kind,
				base,
				listQuery(
					{
						filter: params.get('filter') ?? undefined,
						startIndex: params.get('startIndex') ?? undefined,
						count: params.get('count') ?? undefined,
						attributes: splitParam(params.get('attributes')),
						excluded: splitParam(params.get('excludedAttributes'))
					},
					pin
				)
			);
		if (method === 'POST') {
			const resource = dir.create(kind, await readJson(request), base);
			return scimJson(resource, 201, { location: String((resource.meta as Json).location) });
		}
		throw notAllowed(method, `/${collection}`, 'GET, POST');
	}
	switch (method) {
		case 'GET':
			return scimJson(
				project(
					dir.get(kind, id, base),
					splitParam(params.get('attributes')),
					splitParam(params.get('excludedAttributes'))
				)
			);
		case 'PUT':
			return scimJson(dir.replace(kind, id, await readJson(request), base));
		case 'PATCH': {
			const patched = dir.patch(kind, id, await readJson(request), base);
			return patched === undefined ? new Response(null, { status: 204 }) : scimJson(patched);
		}
		case 'DELETE':
			dir.remove(kind, id);
			return new Response(null, { status: 204 });
		default:
			throw notAllowed(method, `a ${noun}`, 'GET, PUT, PATCH, DELETE');
	}
}

function notAllowed(method: string, what: string, allow: string): ScimError {
	return new ScimError(405, `${clip(method, 20)} is not allowed on ${what}`, undefined, { allow });
}

async function listed(dir: ScimDirectory, kind: ResourceKind, base: string, query: ListQuery): Promise<Response> {
	const { body, version } = dir.list(kind, base, query);
	// Every page of one read carries the version it shows; If-Match with it keeps a read on it.
	return scimJson(body, 200, { etag: `W/"${version}"` });
}

/** The version an If-Match header asks for (`W/"x"` or `"x"`); `*` asks for none. */
function pinOf(request: Request): string | undefined {
	const header = request.headers.get('if-match');
	if (header === null || header.trim() === '*') return undefined;
	const tag = /^\s*(?:W\/)?"([^"]{1,100})"/.exec(header);
	if (!tag) throw new ScimError(400, `If-Match "${clip(header)}" is not an entity tag`, 'invalidSyntax');
	return tag[1];
}

function listQuery(
	raw: {
		filter?: string;
		startIndex?: unknown;
		count?: unknown;
		attributes?: string[];
		excluded?: string[];
	},
	pin: string | undefined
): ListQuery {
	const number = (v: unknown, fallback: number, name: string) => {
		if (v === undefined || v === null || v === '') return fallback;
		const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : NaN;
		if (!Number.isSafeInteger(n)) throw new ScimError(400, `${name} must be an integer`, 'invalidValue');
		return n;
	};
	const query: ListQuery = {
		startIndex: Math.max(1, number(raw.startIndex, 1, 'startIndex')),
		count: Math.max(0, number(raw.count, DEFAULT_COUNT, 'count')),
		...(raw.attributes ? { attributes: raw.attributes } : {}),
		...(raw.excluded ? { excluded: raw.excluded } : {}),
		...(pin !== undefined ? { pin } : {})
	};
	if (raw.filter !== undefined && raw.filter.trim() !== '') {
		try {
			query.filter = parseFilter(raw.filter);
			query.filterText = raw.filter;
		} catch (e) {
			if (e instanceof ScimSyntaxError)
				throw new ScimError(400, `filter "${clip(raw.filter)}" ${e.message}`, 'invalidFilter');
			throw e;
		}
	}
	return query;
}

function splitParam(value: string | null): string[] | undefined {
	if (!value) return undefined;
	return value
		.split(',')
		.map((s) => s.trim())
		.filter(Boolean);
}

/**
 * The request's body as a JSON object, read only as far as the limit: checked on Content-Length
 * first, then counted while it streams in, so a 20 MB body costs at most the limit.
 */
export async function readJson(request: Request, limit = MAX_BODY_BYTES): Promise<Json> {
	const type = request.headers.get('content-type');
	if (type !== null) {
		const media = type.split(';')[0].trim().toLowerCase();
		if (media !== 'application/scim+json' && media !== 'application/json')
			throw new ScimError(415, `Content-Type "${clip(type, 60)}" is not JSON: send application/scim+json`);
	}
	const tooLarge = () => new ScimError(413, `the body is larger than the sandbox's limit of ${limit} bytes`);
	const declared = request.headers.get('content-length');
	if (declared !== null && Number(declared) > limit) throw tooLarge();
	if (request.body === null) throw new ScimError(400, 'the request has no body', 'invalidSyntax');
	const reader = request.body.getReader();
	const chunks: Uint8Array[] = [];
	let size = 0;
	for (;;) {
		let next: ReadableStreamReadResult<Uint8Array>;
		try {
			next = await reader.read();
		} catch {
			// The client went away, or sent a body its own Content-Length contradicts.
			throw new ScimError(400, 'the body could not be read to its end', 'invalidSyntax');
		}
		const { done, value } = next;
		if (done) break;
		size += value.byteLength;
		if (size > limit) {
			await reader.cancel().catch(() => undefined);
			throw tooLarge();
		}
		chunks.push(value);
	}
	const bytes = new Uint8Array(size);
	let at = 0;
	for (const chunk of chunks) {
		bytes.set(chunk, at);
		at += chunk.byteLength;
	}
	let text: string;
	try {
		text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
	} catch {
		throw new ScimError(400, 'the body is not UTF-8', 'invalidSyntax');
	}
	let body: unknown;
	try {
		body = JSON.parse(text);
	} catch {
		throw new ScimError(400, text.trim() === '' ? 'the body is empty' : 'the body is not JSON', 'invalidSyntax');
	}
	if (!body || typeof body !== 'object' || Array.isArray(body))
		throw new ScimError(400, 'the body must be a JSON object', 'invalidSyntax');
	if (depthOver(body, MAX_BODY_DEPTH))
		throw new ScimError(400, `the body is nested deeper than ${MAX_BODY_DEPTH} levels`, 'invalidSyntax');
	return body as Json;
}

/** Whether `value` nests arrays and objects deeper than `max` (without recursion: the input is hostile). */
function depthOver(value: unknown, max: number): boolean {
	const stack: [unknown, number][] = [[value, 1]];
	while (stack.length > 0) {
		const [v, depth] = stack.pop()!;
		if (v === null || typeof v !== 'object') continue;
		if (depth > max) return true;
		for (const x of Array.isArray(v) ? v : Object.values(v))
			if (x !== null && typeof x === 'object') stack.push([x, depth + 1]);
	}
	return false;
}
