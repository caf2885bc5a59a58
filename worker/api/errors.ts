/**
 * API errors: one class the routes throw, one function that turns anything thrown into the JSON
 * error body of docs/api.md (`{ error, message, issues? }`). Unknown errors become a 500 whose
 * message says nothing about the cause: messages can carry values, and values can be secrets.
 */
import * as v from 'valibot';
import { ValidationError } from '$lib/core/schema';
import { ReconcileError } from '$lib/core/safety';
import { ConnectorError } from '../connectors/types';
import { readBody, WireError } from '../connectors/wire';
import { DomainError } from '../errors';
import { json } from '../http';
import { CredentialsKeyError } from '../crypto';
import type { ApiIssue } from '$lib/api/types';
import type { Result } from '../link/types';

export const ERROR_CODES = {
	invalid: 400,
	unauthorized: 401,
	forbidden: 403,
	'not-found': 404,
	'method-not-allowed': 405,
	conflict: 409,
	'requires-action': 409,
	'region-mismatch': 422,
	'rate-limited': 429,
	internal: 500,
	'source-failed': 502,
	'not-configured': 503
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

/** One problem with a request: a body field, a CSV cell, a record (the API's own shape). */
export type { ApiIssue };

export class ApiError extends Error {
	readonly status: number;
	constructor(
		readonly code: ErrorCode,
		message: string,
		readonly issues?: ApiIssue[],
		/** Extra members of the JSON body (e.g. `requiresAction`). */
		readonly extra?: Record<string, unknown>,
		status?: number
	) {
		super(message);
		this.name = 'ApiError';
		this.status = status ?? ERROR_CODES[code];
	}
}

/**
 * The JSON error response for `error`. Nothing is scrubbed here: what a system said reaches an
 * error only through its connector, which takes the credentials out (worker/connectors/scrub.ts).
 */
export function errorResponse(error: unknown): Response {
	const e = toApiError(error);
	const body: Record<string, unknown> = { error: e.code, message: e.message, ...e.extra };
	if (e.issues && e.issues.length > 0) body.issues = e.issues;
	const response = json(body, e.status);
	if (e.status === 401) response.headers.set('www-authenticate', 'Bearer realm="rostersync"');
	if (e.status === 405 && e.extra?.allow) response.headers.set('allow', String(e.extra.allow));
	if (e.status === 429 && e.extra?.retryAfter) response.headers.set('retry-after', String(e.extra.retryAfter));
	return response;
}

/** The value of a Durable Object's answer, or the API error it refused with. */
export function unwrap<T>(result: Result<T>): T {
	if (result.ok) return result.value;
	const { code, message, extra } = result.refusal;
	const { issues, ...rest } = (extra ?? {}) as { issues?: ApiError['issues'] } & Record<string, unknown>;
	throw new ApiError(code, message, issues, Object.keys(rest).length > 0 ? rest : undefined);
}

/** Maps the errors the edge knows to API errors; anything else is an internal error. */
export function toApiError(error: unknown): ApiError {
	if (error instanceof ApiError) return error;
	if (error instanceof DomainError) return new ApiError(error.code, error.message, error.issues, error.extra);
	if (error instanceof ValidationError) {
		return new ApiError(
			'invalid',
			error.message,
			error.issues.map((i) => ({ record: i.record, field: i.field, message: i.message }))
		);
	}
	if (error instanceof ReconcileError) return new ApiError('source-failed', error.message);
	if (error instanceof ConnectorError) {
		const issues = error.issues.map((i) => ({
			record: i.record,
			field: i.field,
			row: i.row,
			column: i.column,
			message: i.message
		}));
		return new ApiError('source-failed', error.message, issues, { system: error.system, code: error.code });
	}
	if (error instanceof CredentialsKeyError) return new ApiError('not-configured', error.message);
	// Logged by name only: an unknown error's message may hold anything.
	console.error(JSON.stringify({ event: 'api-error', name: error instanceof Error ? error.name : typeof error }));
	return new ApiError('internal', 'Something went wrong on the edge; nothing more is said here on purpose.');
}

/** valibot issues as API issues, each naming its field by dotted path. */
export function issuesOf(issues: readonly v.BaseIssue<unknown>[]): ApiIssue[] {
	return issues.map((issue) => ({ field: v.getDotPath(issue) ?? '(body)', message: issue.message }));
}

/** Parses `input` with `schema`, or throws a 400 naming every bad field. */
export function parseBody<S extends v.GenericSchema>(
	schema: S,
	input: unknown,
	what = 'request body'
): v.InferOutput<S> {
	const result = v.safeParse(schema, input);
	if (result.success) return result.output;
	const issues = issuesOf(result.issues);
	const shown = issues
		.slice(0, 3)
		.map((i) => `${i.field}: ${i.message}`)
		.join('; ');
	throw new ApiError('invalid', `Invalid ${what}: ${shown}${issues.length > 3 ? '; …' : ''}`, issues);
}

/** Largest JSON body accepted (CSV uploads travel as JSON). */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** Largest body a public route (no credential) reads: a sign-in code is a few dozen bytes. */
export const MAX_PUBLIC_BODY_BYTES = 16 * 1024;

/**
 * The request's body as text, read only as far as `limit` bytes (the connectors' reader: checked on
 * Content-Length first, then counted as it streams in), so a chunked body that never ends costs at
 * most the limit.
 */
export async function readText(request: Request, limit = MAX_BODY_BYTES): Promise<string> {
	try {
		return (await readBody(request, { maxBytes: limit, over: 'refuse' })).text;
	} catch (e) {
		if (e instanceof WireError && e.kind === 'too-large')
			throw new ApiError('invalid', `The body is larger than ${limit} bytes.`);
		throw e;
	}
}

/** The request's JSON body (at most `limit` bytes), or a 400 saying why not. */
export async function readJson(request: Request, limit = MAX_BODY_BYTES): Promise<unknown> {
	const text = await readText(request, limit);
	if (text.trim() === '') return undefined;
	try {
		return JSON.parse(text);
	} catch {
		throw new ApiError('invalid', 'The body is not valid JSON.');
	}
}
