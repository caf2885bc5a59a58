/**
 * A typed client for the edge API (docs/api.md). Plain fetch, no Svelte: the page and the
 * reconcile Web Worker both use it. Every failure is an ApiError; a network failure (offline,
 * edge down) has status 0 so callers can tell "try later" from "the edge said no". An answer cut
 * off part-way (the connection dropped while its body came) is `answer-cut` with the answer's
 * status: the request reached the edge, so it is not "offline"; a GET is read once more first.
 */
import { setupRoutes } from './setup-client';
import { provisioningRoutes } from './provisioning-client';
import { confirmRoutes } from './confirm-client';
import { incidentRoutes } from './incidents-client';
import type {
	ApiErrorBody,
	ApiIssue,
	CsvColumns,
	CsvCounts,
	IssuedToken,
	LinkView,
	Me,
	NewLink,
	NewSystem,
	RunProgress,
	Reconciliation,
	Resolution,
	ResolutionsAnswer,
	RunDetails,
	RunSummary,
	Snapshot,
	Role,
	StagedDeletes,
	SystemCapabilities,
	SystemView,
	TokenView
} from './types';
import type { LinkConfig } from '$lib/core';
import { ruleRoutes } from './rules-client';

export class ApiError extends Error {
	constructor(
		/** HTTP status; 0 when the edge could not be reached at all. */
		readonly status: number,
		/** The edge's error code (`forbidden`, `requires-action`, …) or `network`. */
		readonly code: string,
		message: string,
		readonly issues: ApiIssue[] = [],
		readonly body?: ApiErrorBody
	) {
		super(message);
		this.name = 'ApiError';
	}

	/** True when nothing reached the edge: keep the work and retry later. */
	get offline(): boolean {
		return this.status === 0;
	}
}

/** Where the edge is and how to prove who we are. */
export interface Auth {
	/** Origin of the edge ('' for same origin). */
	base: string;
	/** A bearer token, or undefined behind Cloudflare Access (its cookie goes along by itself). */
	token?: string;
}

type Fetch = typeof fetch;

export interface ApiOptions {
	auth: () => Auth;
	fetch?: Fetch;
}

function headers(auth: Auth, json: boolean): Record<string, string> {
	const h: Record<string, string> = { accept: 'application/json' };
	if (json) h['content-type'] = 'application/json';
	if (auth.token) h.authorization = `Bearer ${auth.token}`;
	return h;
}

/** Sends one request and decodes the answer, or throws an ApiError naming what went wrong. */
export async function request<T>(
	opts: ApiOptions,
	method: string,
	path: string,
	body?: unknown,
	signal?: AbortSignal
): Promise<T> {
	return againIfCut(method, async () => decode<T>(await send(opts, method, path, body, signal)));
}

/**
 * A read of something this device keeps with its ETag (a plan, snapshots): undefined when the
 * edge answers 304 (what `etag` names is still current), else the answer and its new ETag.
 */
export async function requestIfChanged<T>(
	opts: ApiOptions,
	path: string,
	etag: string | undefined
): Promise<{ value: T; etag?: string } | undefined> {
	return againIfCut('GET', async () => {
		const res = await send(opts, 'GET', path, undefined, undefined, etag ? { 'if-none-match': etag } : {});
		if (res.status === 304) return undefined;
		const value = await decode<T>(res);
		return { value, ...(res.headers.get('etag') ? { etag: res.headers.get('etag')! } : {}) };
	});
}

/**
 * `read` once more when a GET's answer was cut off part-way: reading again is safe, and a
 * browser does not do it by itself once the headers have come (a large plan under load).
 */
async function againIfCut<T>(method: string, read: () => Promise<T>): Promise<T> {
	try {
		return await read();
	} catch (e) {
		if (method !== 'GET' || !(e instanceof ApiError) || e.code !== 'answer-cut') throw e;
		return read();
	}
}

async function send(
	opts: ApiOptions,
	method: string,
	path: string,
	body?: unknown,
	signal?: AbortSignal,
	extra: Record<string, string> = {}
): Promise<Response> {
	const auth = opts.auth();
	const doFetch = opts.fetch ?? fetch;
	try {
		// A form goes as it is: the browser writes its multipart boundary into the content type.
		const form = body instanceof FormData;
		return await doFetch(`${auth.base}/api${path}`, {
			method,
			headers: { ...headers(auth, body !== undefined && !form), ...extra },
			body: body === undefined ? undefined : form ? body : JSON.stringify(body),
			credentials: 'same-origin',
			cache: 'no-store',
			signal
		});
	} catch (e) {
		if ((e as Error)?.name === 'AbortError') throw e;
		throw new ApiError(0, 'network', 'The edge cannot be reached (offline?).');
	}
}

/** An answer's JSON, or the ApiError it carries. */
async function decode<T>(res: Response): Promise<T> {
	if (res.status === 204) return undefined as T;
	let text: string;
	try {
		text = await res.text();
	} catch (e) {
		if ((e as Error)?.name === 'AbortError') throw e;
		throw new ApiError(
			res.status,
			'answer-cut',
			`The edge's answer (${res.status}) was cut off before its end: the connection dropped. Try again.`
		);
	}
	let data: unknown;
	try {
		data = text ? JSON.parse(text) : undefined;
	} catch {
		data = undefined;
	}
	if (!res.ok) {
		const err = (data ?? {}) as ApiErrorBody;
		throw new ApiError(
			res.status,
			err.error ?? `http-${res.status}`,
			err.message ?? (res.statusText || `The edge answered ${res.status}.`),
			err.issues ?? [],
			err
		);
	}
	return data as T;
}

/**
 * Reads a `text/event-stream` through fetch (EventSource cannot send an Authorization header)
 * and calls `onEvent` for each event until the stream ends or `signal` aborts.
 */
export async function streamEvents(
	opts: ApiOptions,
	path: string,
	onEvent: (event: string, data: string) => void,
	signal?: AbortSignal
): Promise<void> {
	const auth = opts.auth();
	const doFetch = opts.fetch ?? fetch;
	const h = headers(auth, false);
	h.accept = 'text/event-stream';
	let res: Response;
	try {
		res = await doFetch(`${auth.base}/api${path}`, {
			headers: h,
			cache: 'no-store',
			credentials: 'same-origin',
			signal
		});
	} catch (e) {
		if ((e as Error)?.name === 'AbortError') return;
		throw new ApiError(0, 'network', 'The edge cannot be reached (offline?).');
	}
	if (!res.ok || !res.body)
		throw new ApiError(res.status, `http-${res.status}`, `The progress stream answered ${res.status}.`);
	const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
	const parser = sseParser(onEvent);
	try {
		for (;;) {
			const { value, done } = await reader.read();
			if (done) break;
			parser(value);
		}
		parser('\n\n');
	} catch (e) {
		if ((e as Error)?.name !== 'AbortError') throw e;
	}
}

/** An incremental text/event-stream parser: feed it chunks, it calls back once per event. */
export function sseParser(onEvent: (event: string, data: string) => void): (chunk: string) => void {
	let buffer = '';
	let event = 'message';
	let data: string[] = [];
	return (chunk) => {
		buffer += chunk;
		let nl: number;
		while ((nl = buffer.search(/\r\n|\r|\n/)) >= 0) {
			const line = buffer.slice(0, nl);
			buffer = buffer.slice(nl + (buffer.startsWith('\r\n', nl) ? 2 : 1));
			if (line === '') {
				if (data.length > 0) onEvent(event, data.join('\n'));
				event = 'message';
				data = [];
			} else if (!line.startsWith(':')) {
				const colon = line.indexOf(':');
				const field = colon < 0 ? line : line.slice(0, colon);
				const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
				if (field === 'event') event = value;
				else if (field === 'data') data.push(value);
			}
		}
	};
}

const q = encodeURIComponent;

/** Every route of docs/api.md, typed. */
export function createApi(opts: ApiOptions) {
	const call = <T>(method: string, path: string, body?: unknown) => request<T>(opts, method, path, body);
	return {
		// Sign-in links, CSV column maps, link change previews (./setup-client.ts).
		...setupRoutes(call),
		// Removed people, restores, invitations and notices (./provisioning-client.ts).
		...provisioningRoutes(call),
		// What a run or an undo would do, for the confirmation sheet (./confirm-client.ts).
		...confirmRoutes(call),
		// Incident pushes, and the demo sandboxes' incidents and records (./incidents-client.ts).
		...incidentRoutes(call),
		health: () => call<{ ok: boolean; service: string; version: string }>('GET', '/health'),
		me: () => call<Me>('GET', '/me'),
		tokens: () => call<TokenView[]>('GET', '/tokens'),
		issueToken: (token: { name: string; role: Role }) => call<IssuedToken>('POST', '/tokens', token),
		revokeToken: (id: string) => call<void>('DELETE', `/tokens/${q(id)}`),

		systems: () => call<SystemView[]>('GET', '/systems'),
		createSystem: (system: NewSystem) => call<SystemView>('POST', '/systems', system),
		updateSystem: (id: string, patch: Partial<NewSystem>) => call<SystemView>('PATCH', `/systems/${q(id)}`, patch),
		deleteSystem: (id: string) => call<void>('DELETE', `/systems/${q(id)}`),
		systemSnapshot: (id: string) => call<Snapshot>('GET', `/systems/${q(id)}/snapshot`),
		/** What the system can hold and do, asked of it now (SCIM discovery; a CSV's column map). */
		systemCapabilities: (id: string) => call<SystemCapabilities>('GET', `/systems/${q(id)}/capabilities`),
		/**
		 * A csv system's file, whole: refused naming its bad rows and columns (400), or its counts.
		 * The file's own bytes travel, so the edge sees (and names) any that are not UTF-8.
		 */
		uploadCsv: (id: string, upload: { file: Blob; columns: CsvColumns }) => {
			const form = new FormData();
			form.set('columns', JSON.stringify(upload.columns));
			form.set('file', upload.file);
			return call<CsvCounts>('PUT', `/systems/${q(id)}/csv`, form);
		},

		links: () => call<LinkView[]>('GET', '/links'),
		link: (id: string) => call<LinkView>('GET', `/links/${q(id)}`),
		createLink: (link: NewLink) => call<LinkView>('POST', '/links', link),
		updateLink: (id: string, patch: Partial<LinkConfig>) => call<LinkView>('PATCH', `/links/${q(id)}`, patch),
		deleteLink: (id: string) => call<void>('DELETE', `/links/${q(id)}`),
		snapshots: (id: string) => call<{ a: Snapshot; b: Snapshot }>('GET', `/links/${q(id)}/snapshots`),
		reconcile: (id: string) => call<Reconciliation>('POST', `/links/${q(id)}/reconcile`),
		plan: (id: string) => call<Reconciliation>('GET', `/links/${q(id)}/plan`),
		/** The plan unless the one `etag` names is still current (then undefined: keep yours). */
		planIfChanged: (id: string, etag: string | undefined) =>
			requestIfChanged<Reconciliation>(opts, `/links/${q(id)}/plan`, etag),
		resolutions: (id: string) => call<Resolution[]>('GET', `/links/${q(id)}/resolutions`),
		sendResolutions: (id: string, resolutions: Resolution[]) =>
			call<ResolutionsAnswer>('POST', `/links/${q(id)}/resolutions`, { resolutions }),
		enable: (id: string) => call<LinkView>('POST', `/links/${q(id)}/enable`),
		disable: (id: string) => call<LinkView>('POST', `/links/${q(id)}/disable`),

		startRun: (id: string, dryRun: boolean) => call<RunSummary>('POST', `/links/${q(id)}/runs`, { dryRun }),
		runs: (id: string, limit = 30) => call<RunSummary[]>('GET', `/links/${q(id)}/runs?limit=${limit}`),
		run: (id: string, runId: string, offset = 0, limit = 200) =>
			call<RunDetails>('GET', `/links/${q(id)}/runs/${q(runId)}?offset=${offset}&limit=${limit}`),
		undoRun: (id: string, runId: string) => call<RunSummary>('POST', `/links/${q(id)}/runs/${q(runId)}/undo`),
		stopRun: (id: string, runId: string) => call<RunSummary>('POST', `/links/${q(id)}/runs/${q(runId)}/stop`),
		staged: (id: string) => call<StagedDeletes[]>('GET', `/links/${q(id)}/staged`),
		/** Accepts the counts the pre-flight guard refused (see LinkStatus.shrunk). */
		confirmCounts: (id: string) => call<LinkView>('POST', `/links/${q(id)}/confirm-counts`),
		approveStaged: (id: string, conflictId: string) =>
			call<LinkView>('POST', `/links/${q(id)}/staged/${q(conflictId)}/approve`),
		rejectStaged: (id: string, conflictId: string) =>
			call<LinkView>('POST', `/links/${q(id)}/staged/${q(conflictId)}/reject`),

		/** Follows a run's progress until it is no longer running (or `signal` aborts). */
		runEvents: (id: string, runId: string, onProgress: (p: RunProgress) => void, signal?: AbortSignal) =>
			streamEvents(
				opts,
				`/links/${q(id)}/runs/${q(runId)}/events`,
				(event, data) => {
					if (event !== 'progress') return;
					try {
						onProgress(JSON.parse(data) as RunProgress);
					} catch {
						// a malformed event is skipped; the next one carries the whole tally again
					}
				},
				signal
			),

		...ruleRoutes(call, (path, onEvent, signal) => streamEvents(opts, path, onEvent, signal))
	};
}

export type Api = ReturnType<typeof createApi>;
