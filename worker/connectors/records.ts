/**
 * Writes an incident's record (an incident report, or an exercise/event with attendance) to a
 * system, through the connectors' wire: a time limit on the whole write, redirects only within the
 * system's origin, a bounded answer, every string the system sends back scrubbed of its token. The
 * write carries an idempotency key (header and body), so a system that saw it before answers with
 * the record it made then instead of a second one.
 */
import type { IncidentRecord } from '$lib/core/incidents';
import { ConnectorError } from './types';
import { DEFAULT_LIMITS, deadline, duration, fetchWithinOrigin, readBody, WireError, type FetchLike } from './wire';
import { Scrubber } from './scrub';

/** Where each kind of record goes, under the system's base URL. */
export const RECORD_PATHS = { report: '/IncidentReports', event: '/Events' } as const;

export interface RecordWriterOptions {
	systemId: string;
	baseUrl: string;
	token: string;
	fetch?: FetchLike;
	timeoutMs?: number;
}

/** What the system answered: the record's id, and whether it had it already. */
export interface WrittenRecord {
	id: string;
	duplicate: boolean;
}

export class RecordWriter {
	readonly #scrub: Scrubber;
	constructor(private readonly opts: RecordWriterOptions) {
		this.#scrub = new Scrubber({ token: opts.token });
	}

	async write(record: IncidentRecord, idempotencyKey: string): Promise<WrittenRecord> {
		const { systemId } = this.opts;
		const timeoutMs = this.opts.timeoutMs ?? DEFAULT_LIMITS.timeoutMs;
		const limit = deadline(timeoutMs);
		const url = `${this.opts.baseUrl.replace(/\/+$/, '')}${RECORD_PATHS[record.kind]}`;
		// Every error goes out through here, scrubbed whole: a redirect's origin, a status text and a
		// body can each carry the token back.
		const fail = (init: Omit<ConstructorParameters<typeof ConnectorError>[0], 'system' | 'recordKind'>) =>
			new ConnectorError({
				...init,
				detail: this.#scrub.text(init.detail),
				system: systemId,
				recordId: record.sourceId
			});
		try {
			let response: Response;
			try {
				response = await fetchWithinOrigin(
					this.opts.fetch ?? ((u, i) => fetch(u, i)),
					url,
					{
						method: 'POST',
						headers: {
							authorization: `Bearer ${this.opts.token}`,
							'content-type': 'application/json',
							accept: 'application/json',
							'idempotency-key': idempotencyKey
						},
						body: JSON.stringify({ ...record, idempotencyKey }),
						signal: limit.signal
					},
					DEFAULT_LIMITS.maxRedirects
				);
			} catch (e) {
				if (e instanceof WireError) throw fail({ code: 'invalid', detail: e.message });
				if (limit.expired())
					throw fail({ code: 'unreachable', retryable: true, detail: `no answer within ${duration(timeoutMs)}` });
				throw fail({ code: 'unreachable', retryable: true, detail: String(e) });
			}
			const body = await readBody(response, {
				maxBytes: DEFAULT_LIMITS.maxErrorBytes,
				over: 'cut',
				signal: limit.signal
			});
			const text = this.#scrub.text(body.text);
			if (!response.ok) {
				const status = response.status;
				throw fail({
					code:
						status === 401 || status === 403
							? 'auth'
							: status === 404
								? 'not-found'
								: status === 400
									? 'invalid'
									: 'http',
					status,
					retryable: status === 429 || status >= 500,
					// Printable, then scrubbed, then cut: a control character inside a token would hide it
					// from the scrubber, and a cut copy is harder to find than a whole one.
					detail: `writing the ${record.kind === 'report' ? 'incident report' : 'event'} was refused: ${text.slice(0, 300) || this.#scrub.text(response.statusText.replace(/[^\x20-\x7e]/g, '')).slice(0, 80)}`
				});
			}
			let parsed: unknown;
			try {
				parsed = JSON.parse(text);
			} catch {
				parsed = undefined;
			}
			const id = (parsed as { id?: unknown } | undefined)?.id;
			if (typeof id !== 'string' || !id)
				throw fail({ code: 'invalid', status: response.status, detail: 'the answer names no id for the record' });
			return { id, duplicate: response.status === 200 };
		} finally {
			limit.clear();
		}
	}
}
