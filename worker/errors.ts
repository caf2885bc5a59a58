/**
 * Domain errors: what the edge's storage, connectors and Durable Objects throw or return when a
 * request cannot be done. They name what went wrong in the product's terms; only the HTTP layer
 * (worker/api/errors.ts) turns a code into a status.
 */

export const DOMAIN_CODES = [
	'invalid',
	'not-found',
	'conflict',
	'requires-action',
	'region-mismatch',
	'source-failed',
	'not-configured'
] as const;
export type DomainCode = (typeof DOMAIN_CODES)[number];

/** One problem with a request or a record, named by where it is. */
export interface DomainIssue {
	record?: string;
	field?: string;
	row?: number;
	column?: string;
	message: string;
}

export class DomainError extends Error {
	constructor(
		readonly code: DomainCode,
		message: string,
		readonly issues?: DomainIssue[],
		/** Extra members of the answer (e.g. `requiresAction`). */
		readonly extra?: Record<string, unknown>
	) {
		super(message);
		this.name = 'DomainError';
	}
}
