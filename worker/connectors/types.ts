/**
 * What the edge needs from a connected system: read a whole snapshot, write one operation.
 * Connectors are plain TypeScript (no `cloudflare:*` imports) so they run in Node tests and in
 * workerd alike; only the edge uses them, because only the edge holds credentials.
 */
import type { ConnectorKind, Group, Membership, Person, PersonField, RecordKind, Snapshot } from '$lib/core/model';
import type { Op, OpType, TargetRef } from '$lib/core/ops';
import type { AccessCarrier } from './scim-access';
import type { BatchPolicy } from '$lib/core/batch';

/** What a system supports, as discovered; the core plans only what the target can take. */
export interface Capabilities {
	/** Operations can be applied (false for read-only sources such as a CSV export). */
	write: boolean;
	/** Groups and memberships exist on this system. */
	groups: boolean;
	/** Memberships can carry the `manager` role (SCIM: the Rostersync Group extension). */
	roles: boolean;
	/** A group's kind (community, function...) is stored; elsewhere every group reads as one kind. */
	groupKinds: boolean;
	/** Server-side filtering (`userName eq "x"`) for look-ups. */
	filter: boolean;
	/** A person can be deactivated and restored (`active`), not only deleted. */
	softRemove: boolean;
	/** Standard person fields the system stores. */
	personFields: PersonField[];
	/** Custom person fields the system stores, by its own field name. */
	customFields: string[];
	/** How the system keeps a person's access, for access grants (absent: it keeps none). */
	access?: AccessCarrier;
}

/** Why an operation or a read failed. The edge shows it, the run journals it. */
export const CONNECTOR_ERROR_CODES = [
	/** No answer: network error, DNS, refused connection, or retries exhausted on a network error. */
	'unreachable',
	/** 401/403: the credentials are wrong or lack a permission. */
	'auth',
	/** The data is bad: a payload failed validation, or the system answered 400. */
	'invalid',
	/** 409: a uniqueness rule on the system (e.g. userName taken). `existingId` when found. */
	'conflict',
	/** 404: the record is gone from the system. */
	'not-found',
	/** The system cannot do this (a read-only source, roles without the extension...). */
	'unsupported',
	/** Any other HTTP failure, including 429/503 after the retries ran out (`retryable`). */
	'http'
] as const;
export type ConnectorErrorCode = (typeof CONNECTOR_ERROR_CODES)[number];

/** One problem in an input, located as precisely as the input allows. */
export interface Issue {
	/** The record: a SCIM id, a CSV identifier. */
	record?: string;
	/** CSV: the 1-based row number, the header being row 1. */
	row?: number;
	/** CSV: the column as named in the header. */
	column?: string;
	/** The field, in the system's own naming (a SCIM attribute path, a CSV column). */
	field?: string;
	message: string;
}

export interface ConnectorErrorInit {
	code: ConnectorErrorCode;
	/** Id of the System the error came from. */
	system: string;
	detail: string;
	recordKind?: RecordKind;
	recordId?: string;
	field?: string;
	/** HTTP status and SCIM `scimType`, when the system answered. */
	status?: number;
	scimType?: string;
	/** Another run may succeed (rate limited, unavailable). */
	retryable?: boolean;
	/** conflict: the record that already holds the unique value, when the connector found it. */
	existingId?: string;
	/** Every problem found, when there were several (a CSV file, a snapshot with bad records). */
	issues?: Issue[];
	/** How many problems there were in all, when `issues` lists only the first of them. */
	issueCount?: number;
}

/** The one error type connectors throw; its message names the system, the record and the field. */
export class ConnectorError extends Error {
	readonly code: ConnectorErrorCode;
	readonly system: string;
	readonly detail: string;
	readonly recordKind?: RecordKind;
	readonly recordId?: string;
	readonly field?: string;
	readonly status?: number;
	readonly scimType?: string;
	readonly retryable: boolean;
	readonly existingId?: string;
	readonly issues: Issue[];
	readonly issueCount: number;

	constructor(init: ConnectorErrorInit) {
		super(describe(init));
		this.name = 'ConnectorError';
		this.code = init.code;
		this.system = init.system;
		this.detail = init.detail;
		this.recordKind = init.recordKind;
		this.recordId = init.recordId;
		this.field = init.field;
		this.status = init.status;
		this.scimType = init.scimType;
		this.retryable = init.retryable ?? false;
		this.existingId = init.existingId;
		this.issues = init.issues ?? [];
		this.issueCount = init.issueCount ?? this.issues.length;
	}

	/** Plain data for the journal and the API (errors do not survive JSON or structured clone). */
	toJSON(): ConnectorErrorInit {
		const { code, system, detail, recordKind, recordId, field, status, scimType, retryable, existingId } = this;
		return {
			code,
			system,
			detail,
			recordKind,
			recordId,
			field,
			status,
			scimType,
			retryable,
			existingId,
			issues: this.issues,
			// Only when `issues` lists a part: every other error would carry a redundant count.
			...(this.issueCount !== this.issues.length && { issueCount: this.issueCount })
		};
	}
}

function describe(e: ConnectorErrorInit): string {
	const where = [
		`system ${e.system}`,
		e.recordId !== undefined ? `${e.recordKind ?? 'record'} ${e.recordId}` : undefined,
		e.field !== undefined ? `field ${e.field}` : undefined
	].filter(Boolean);
	const status = e.status !== undefined ? ` (${e.status}${e.scimType ? ` ${e.scimType}` : ''})` : '';
	return `${where.join(', ')}: ${e.detail}${status}`;
}

/** What applying one operation produced: the new record's id for creates and adoptions. */
export interface ApplyResult {
	id?: string;
}

/**
 * Notices are not system operations: the edge sends invitations and transfer notices itself
 * (mail), so connectors accept these operations and do nothing with them.
 */
export const EDGE_DELIVERED: readonly OpType[] = ['invite', 'notify-transfer'];
export const isEdgeDelivered = (op: Op): boolean => EDGE_DELIVERED.includes(op.type);

/** Where a scan writes the records it reads (see Connector.scan). */
export interface SnapshotSink {
	/** Forget everything written so far: the read starts over. */
	restart(): void;
	people(list: Person[]): void;
	/**
	 * Groups with their memberships (every membership names a person already written, and a group
	 * written now or before: the members of a group a list left them out of come after the list).
	 */
	groups(list: Group[], memberships: Membership[]): void;
}

export interface Connector {
	readonly kind: ConnectorKind;
	/**
	 * Asks the system what it supports (once; later calls reuse the answer). `read` and `apply`
	 * call it themselves; call it first when capabilities are needed before either.
	 */
	discover(signal?: AbortSignal): Promise<Capabilities>;
	/** The capabilities discovered so far (conservative defaults before `discover`). */
	capabilities(): Capabilities;
	/** Every record, validated. Throws ConnectorError; never returns a partial snapshot. */
	read(signal?: AbortSignal): Promise<Snapshot>;
	/**
	 * Every record, validated, handed to `sink` page by page as it is read, so a large directory
	 * never has to be in memory at once. When the read has to start over (the directory changed
	 * while it was read), `sink.restart()` is called first. A read that throws may have written
	 * part of the directory: the caller discards it. Connectors without it are read whole.
	 */
	scan?(sink: SnapshotSink, signal?: AbortSignal): Promise<{ takenAt: string }>;
	/**
	 * Applies one operation. `resolve` turns a TargetRef into this system's id (records created
	 * earlier in the same plan). A failure throws a ConnectorError for this operation only; the
	 * caller records it and goes on with the others.
	 */
	apply(op: Op, resolve: (ref: TargetRef) => string): Promise<ApplyResult>;
	/**
	 * How many operations this system takes together now (after `discover`; see the core's
	 * planBatches). Connectors without it are written one operation at a time.
	 */
	batching?(): BatchPolicy;
	/**
	 * Applies a batch in as few requests as the system allows. `resolve` throws for a record the
	 * same batch creates. The answer has an outcome per operation it settled, a ConnectorError
	 * naming that operation's record for each one that failed; operations left out are applied
	 * alone by the caller.
	 */
	applyBatch?(ops: Op[], resolve: (ref: TargetRef) => string): Promise<Map<string, ApplyResult | ConnectorError>>;
}
