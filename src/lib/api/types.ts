/**
 * The edge API's shapes (docs/api.md). The core's own types are reused wherever the contract
 * names them, so the browser and the edge cannot drift apart silently.
 */
import type {
	ConnectorKind,
	LinkConfig,
	Op,
	OpOutcome,
	OpType,
	OpsPreview,
	PersonField,
	PlanCounts,
	RecordKind,
	Reconciliation,
	Resolution,
	RunStatus,
	RunTally,
	Shrinkage,
	Side,
	Snapshot,
	StaleResolution
} from '$lib/core';

export type { LinkConfig, Reconciliation, Resolution, Snapshot, StaleResolution };

/** Roles in order of power: each may do everything the ones before it may. */
export const ROLES = ['viewer', 'reviewer', 'owner'] as const;
export type Role = (typeof ROLES)[number];

export interface Me {
	subject: string;
	role: Role;
	via: 'token' | 'access';
}

export interface SnapshotSummary {
	takenAt: string;
	version: string;
	people: number;
	groups: number;
	memberships: number;
}

/**
 * Where a system keeps each person's buildings and member type, which rules read (absent: SCIM
 * `userType` and the Rostersync extension's `buildings`; a CSV's mapped columns).
 */
export interface PeopleMap {
	/** A SCIM attribute path (core, enterprise or extension URN) or a CSV column. */
	building?: string;
	/** A SCIM attribute path or a CSV column. */
	memberType?: string;
	/** Values that mean staff (any case; default "staff"). */
	staff?: string[];
	/** Values that mean student (any case; default "student"). */
	student?: string[];
}

export interface SystemView {
	id: string;
	name: string;
	connector: ConnectorKind;
	baseUrl: string;
	region: string;
	createdAt: string;
	hasCredentials: boolean;
	lastSnapshot?: SnapshotSummary;
	/** Where its people's buildings and member type are read from (set by an owner). */
	peopleMap?: PeopleMap;
}

/**
 * What a system can hold and do, discovered from it (GET /api/systems/:id/capabilities): SCIM
 * servers from /Schemas and /ResourceTypes, a CSV export from its column map.
 */
export interface SystemCapabilities {
	/** Standard person fields it stores (a CSV: the mapped columns, and the name). */
	personFields: PersonField[];
	/** Custom person fields it stores, by its own names. */
	customFields: string[];
	/** Groups and memberships exist on it. */
	groups: boolean;
	/** Memberships can carry the manager role. */
	roles: boolean;
	/** It can be written (false for a CSV export: a source only). */
	write: boolean;
	/** A person can be deactivated and restored, not only deleted. */
	softRemove: boolean;
	/**
	 * How it keeps a person's access, for access grants: its own flag (a sandbox), a SCIM
	 * entitlement or role, or the account being active. Absent: access cannot be granted on it.
	 */
	access?: 'extension' | 'entitlements' | 'roles' | 'active';
}

export interface NewSystem {
	name: string;
	connector: ConnectorKind;
	baseUrl: string;
	region: string;
	credentials?: { token: string };
}

/** Who or what started a run. */
export const STARTERS = ['person', 'schedule', 'undo'] as const;
export type StartedBy = { kind: (typeof STARTERS)[number]; subject?: string };

// How a run ends is the core's decision (finalStatus): the statuses are defined with it.
export { RUN_STATUSES, type RunStatus } from '$lib/core';

import type { RecordNames } from './run-names';
export type { RecordNames } from './run-names';

/** Why a run failed, in words an admin can act on. */
export interface RunError {
	/**
	 * `source-failed`: a system could not be read or was empty; `shrunk`: a side's count fell by
	 * more than the link's limit since the last run (an owner confirms the new counts). Either way
	 * nothing was written.
	 */
	code: 'source-failed' | 'shrunk' | 'invalid' | 'internal';
	message: string;
	/** The system that failed, when one did. */
	system?: string;
	/** `shrunk`: every kind that fell, with its counts. */
	shrunk?: Shrinkage[];
}

export interface RunSummary {
	id: string;
	linkId: string;
	dryRun: boolean;
	startedBy: StartedBy;
	status: RunStatus;
	/** ISO instants. */
	startedAt: string;
	finishedAt?: string;
	durationMs?: number;
	counts: PlanCounts;
	tally: RunTally;
	error?: RunError;
	undoOf?: string;
	undoneBy?: string;
	/** Undo runs: operations of the undone run that cannot be reversed, with why. */
	irreversible?: { key: string; reason: string }[];
	/** An owner asked the run to stop (POST …/stop): who, and when (ISO). */
	stopRequested?: { by: string; at: string };
}

export interface RunDetails extends RunSummary {
	ops: { op: Op; outcome?: OpOutcome }[];
	/** The names of the records this page of operations refers to (src/lib/api/run-names.ts). */
	names: RecordNames;
	/** Paging over `ops` (in run order). */
	offset: number;
	limit: number;
}

/** A run's progress, as the events stream sends it. */
export interface RunProgress {
	status: RunStatus;
	tally: RunTally;
}

export interface LinkStatus {
	enabled: boolean;
	running?: string;
	lastRun?: RunSummary;
	/** ISO instant of the next nightly run, when one is scheduled. */
	nextRunAt?: string;
	/** Conflicts of the current plan still needing a person (0 before the first reconcile). */
	requiresAction: number;
	/** Removals and creations of the current plan held back by the safety limits (operations). */
	staged: number;
	/** Counts that fell by more than the link's limit: no run writes until an owner confirms them. */
	shrunk?: Shrinkage[];
	/**
	 * The latest reconciliation could not read a system (`at`, ISO): the plan and snapshots are
	 * still the last good ones, and say so.
	 */
	readFailure?: RunError & { at: string };
}

export interface LinkView {
	config: LinkConfig;
	status: LinkStatus;
}

export type NewLink = Partial<LinkConfig> & Pick<LinkConfig, 'name' | 'mode' | 'systems'>;

export interface ResolutionsAnswer {
	accepted: string[];
	stale: StaleResolution[];
}

/** A threshold conflict of the current plan with the removals (or creations) it holds back. */
export interface StagedDeletes {
	conflictId: string;
	/** Removals above the link's limits, or creations above its creation limits. */
	action: 'remove' | 'create';
	kind: RecordKind | 'membership';
	side: Side;
	count: number;
	total: number;
	limit: { count: number; percent: number };
	/** The owner's decision so far, if any. */
	decision?: 'approved' | 'rejected';
	ops: Op[];
	/** Creations: the plan's operations that need them (memberships, invitations), by type: they wait too. */
	waiting?: Partial<Record<OpType, number>>;
	/** Names of the records the first operations concern (src/lib/api/run-names.ts). */
	names?: RecordNames;
}

/**
 * What a confirmation shows before anything is written (the core's OpsPreview: counts per type,
 * the first operations that will run, what cannot be reversed), with the names of the records
 * the listed operations concern.
 */
export interface ChangePreview extends Omit<OpsPreview, 'digest'> {
	names: RecordNames;
}

/**
 * What undoing a run will do (GET /api/links/:id/runs/:runId/undo). `irreversible` lists the
 * undone run's operations an undo cannot reverse; `digest` names exactly these operations: the
 * undo, asked with it, refuses to apply any other set.
 */
export interface UndoPreview extends ChangePreview {
	runId: string;
	digest: string;
}

/** A threshold conflict of a plan, in short (the full list: GET /api/links/:id/staged). */
export type StagedSummary = Pick<StagedDeletes, 'conflictId' | 'action' | 'kind' | 'side' | 'count' | 'decision'>;

/**
 * What a run started now would do (POST /api/links/:id/runs/preview): both systems read again and
 * reconciled, which becomes the link's current plan. Staged operations are counted, not run.
 */
export interface RunPreview extends ChangePreview {
	versions: { a: string; b: string };
	/** ISO instant of the reconciliation. */
	computedAt: string;
	/** Conflicts still needing a person: their records are left as they are. */
	requiresAction: number;
	staged: StagedSummary[];
}

/**
 * A person sync removed (GET /api/links/:id/removed), with the dates of the core's `retention`:
 * restorable until the end of retention, anonymized by the first nightly run from then.
 */
export interface RemovedPerson {
	/** The person's id on the side it was removed from (provisioning: the target). */
	id: string;
	side: Side;
	/** The system's id. */
	system: string;
	name: string;
	email?: string;
	state: 'removed' | 'anonymized';
	removedAt?: string;
	restorableUntil?: string;
	/** Absent when no nightly run is scheduled. */
	anonymizedOn?: string;
	restorable: boolean;
}

/** What becomes of an invitation or a transfer notice. */
export const NOTICE_STATES = ['planned', 'staged', 'queued', 'sent'] as const;
export type NoticeState = (typeof NOTICE_STATES)[number];

/** An invitation or transfer notice (GET /api/links/:id/notices). */
export interface NoticeView {
	key: string;
	/** The run that recorded it (absent while only planned). */
	runId?: string;
	type: 'invite' | 'notify-transfer';
	/** The system the person is on (its id), and the person's id there (absent for a person still to be created). */
	system: string;
	person?: string;
	name: string;
	email?: string;
	/** Transfers: the communities left and joined (source names). */
	from?: string[];
	to?: string[];
	/**
	 * `planned`: the current plan sends it with the next run; `staged`: it waits for changes an
	 * owner must approve; `queued`: recorded by a run, waiting for delivery; `sent`: delivered.
	 */
	state: NoticeState;
	/** ISO instant it was recorded (queued) or delivered (sent). */
	at?: string;
}

export type { CsvColumns } from './csv-columns';

/** What an accepted upload holds (PUT /api/systems/:id/csv). */
export interface CsvCounts {
	people: number;
	groups: number;
	memberships: number;
	/** The file's columns the last upload lacked, and the saved map's columns it lacks. */
	columns?: import('./csv-columns').ColumnChanges;
}

/** A bearer token as listed (GET /api/tokens): never the token itself. */
export interface TokenView {
	id: string;
	name: string;
	role: Role;
	createdAt: string;
	lastUsedAt?: string;
	revokedAt?: string;
}

/** A token just issued: the plaintext `token` is returned this once and never stored. */
export interface IssuedToken {
	id: string;
	name: string;
	role: Role;
	createdAt: string;
	token: string;
}

/** One problem the edge names in a 400 answer (validation or a CSV row). */
export interface ApiIssue {
	record?: string;
	field?: string;
	row?: number;
	column?: string;
	message: string;
}

export interface ApiErrorBody {
	error: string;
	message?: string;
	issues?: ApiIssue[];
	/** How many problems there were in all, when `issues` lists only the first (a refused CSV file). */
	issueCount?: number;
	requiresAction?: number;
}
