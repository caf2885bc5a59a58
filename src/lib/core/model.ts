/**
 * The records and configuration Rostersync reasons about. Plain data only: every value here
 * survives structured clone (Web Worker, Durable Object RPC) and JSON (the API, IndexedDB).
 */

/** The two ends of a link. In provisioning, `a` is always the source and `b` the target. */
export const SIDES = ['a', 'b'] as const;
export type Side = (typeof SIDES)[number];
export const otherSide = (side: Side): Side => (side === 'a' ? 'b' : 'a');

export const GROUP_KINDS = ['group', 'community', 'function', 'message-group'] as const;
export type GroupKind = (typeof GROUP_KINDS)[number];

export const ROLES = ['member', 'manager'] as const;
export type Role = (typeof ROLES)[number];

export const MEMBER_TYPES = ['staff', 'student'] as const;
export type MemberType = (typeof MEMBER_TYPES)[number];

/** What a link can synchronize. Memberships always follow the groups and people they join. */
export const RECORD_KINDS = ['group', 'person'] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

export const CONNECTOR_KINDS = ['scim', 'csv', 'sandbox'] as const;
export type ConnectorKind = (typeof CONNECTOR_KINDS)[number];

export const LINK_MODES = ['two-way', 'provision'] as const;
export type LinkMode = (typeof LINK_MODES)[number];

/** Person fields that every connector understands; anything else lives in `custom`. */
export const PERSON_FIELDS = [
	'displayName',
	'givenName',
	'familyName',
	'email',
	'phone',
	'employeeNumber',
	'memberType',
	'buildings',
	'active'
] as const;
export type PersonField = (typeof PERSON_FIELDS)[number];

export interface Person {
	/** The system's own id (a SCIM `id`, a CSV row key). */
	id: string;
	/** The identifier shared across systems (SCIM `externalId`, an HR employee key). */
	externalId?: string;
	displayName: string;
	givenName?: string;
	familyName?: string;
	email?: string;
	phone?: string;
	employeeNumber?: string;
	memberType?: MemberType;
	/** Identifiers of the buildings the person is assigned to. */
	buildings?: string[];
	active: boolean;
	/** Custom profile fields by the system's own field name. */
	custom?: Record<string, string>;
	/**
	 * Has access to the system (can sign in and be alerted), on systems that record it per person
	 * (see access.ts): absent reads as no access.
	 */
	access?: boolean;
}

export interface Group {
	id: string;
	externalId?: string;
	name: string;
	kind: GroupKind;
}

export interface Membership {
	groupId: string;
	personId: string;
	role: Role;
}

/** Every record of one system at one moment, validated and normalized. */
export interface Snapshot {
	/** Id of the System it was read from. */
	system: string;
	/** ISO instant the read finished. */
	takenAt: string;
	/** Opaque version: changes whenever any record changes (a digest of the content). */
	version: string;
	people: Person[];
	groups: Group[];
	memberships: Membership[];
	/**
	 * The person fields this system holds, as its connector discovered them: standard names
	 * (PERSON_FIELDS) and `custom:<its own name>`. Absent: every field. A field a system does not
	 * hold is never written to it, and a field a source does not provide is left alone, not cleared.
	 */
	fields?: string[];
}

/** A connected system, as the browser may see it: never its credentials. */
export interface SystemInfo {
	id: string;
	name: string;
	connector: ConnectorKind;
	baseUrl: string;
	region: string;
}

/**
 * Which field matches people across the two systems. `externalId`, a standard field, or a custom
 * field as `custom:<name>` (named as on side A; the field map translates it for side B).
 */
export type MatchField = 'externalId' | 'email' | 'employeeNumber' | 'displayName' | `custom:${string}`;

/** A custom profile field synchronized between the two systems under their own names. */
export interface FieldMapping {
	a: string;
	b: string;
}

/** Deletions of one kind above either number are staged and wait for an owner. */
export interface DeletionLimit {
	count: number;
	percent: number;
}

/** What happens to a group that is gone from the source (provisioning). */
export const GROUP_REMOVAL = ['delete', 'strip'] as const;
export type GroupRemoval = (typeof GROUP_REMOVAL)[number];

/** How a removal reaches the target: deactivate (SCIM `active=false`) or delete. */
export const REMOVE_MODES = ['deactivate', 'delete'] as const;
export type RemoveMode = (typeof REMOVE_MODES)[number];

export interface LinkConfig {
	id: string;
	name: string;
	mode: LinkMode;
	systems: { a: string; b: string };
	kinds: RecordKind[];
	match: { person: MatchField; group: 'externalId' | 'name' };
	/**
	 * How match keys are normalized, per match field (`email`, `custom:badge`…); fields not named
	 * use the built-in rules (see normalize.ts).
	 */
	normalization: Record<string, { caseFold: boolean; collapseSpace: boolean; digitsOnly?: boolean }>;
	/** Standard person fields kept in sync (defaults to all of PERSON_FIELDS but `active`). */
	personFields: PersonField[];
	fieldMap: FieldMapping[];
	/** On the first reconciliation, which side's value wins per field (default side A). */
	authority: { default: Side; fields: Record<string, Side> };
	schedule: { timeZone: string; hour: number; enabled: boolean };
	limits: Record<'person' | 'group' | 'membership', DeletionLimit>;
	/**
	 * Creations of one kind on one side above either number are staged like removals (an export
	 * suddenly 40 times larger is a wrong file far more often than 40 times the staff). The percent
	 * is of what the link already owns of that kind; a link's first sync of a kind is not limited:
	 * the owner reviewed and confirmed it when setting the link up.
	 */
	creationLimits: Record<'person' | 'group', DeletionLimit>;
	/** Days a removed person stays restorable before anonymization. */
	retentionDays: number;
	removeMode: RemoveMode;
	groupRemoval: Record<GroupKind, GroupRemoval>;
	enabled: boolean;
	/** Access granted to synced people on one side (absent: nobody, as before access existed). */
	access?: AccessConfig;
	/** Incidents closed on one side, pushed to the other (see incidents.ts; absent: from A, as a report). */
	incidents?: IncidentConfig;
}

/** How a link writes a closed incident to the other system: an incident report, or an event with attendance. */
export const INCIDENT_TARGETS = ['report', 'event'] as const;
export type IncidentTarget = (typeof INCIDENT_TARGETS)[number];

/** A link's incident settings: the system incidents close in, and what the other one gets. */
export interface IncidentConfig {
	from: Side;
	as: IncidentTarget;
}

/** Who of the synced people a link grants access to. */
export const ACCESS_GRANTS = ['nobody', 'everyone', 'groups'] as const;
export type AccessGrant = (typeof ACCESS_GRANTS)[number];

export interface AccessConfig {
	/** The system access is granted on. */
	side: Side;
	grant: AccessGrant;
	/** `groups`: ids of groups on `side`; a person in one (or in its pair on the other side) qualifies. */
	groups: string[];
	/**
	 * Per-person answers from the review, over the link's rule: `a:<id>` or `b:<id>` (either record
	 * of a pair) to true (grant) or false (never grant).
	 */
	people: Record<string, boolean>;
}

/** Where a baseline pair came from: sync created it, adopted an existing record, or matched two. */
export const ORIGINS = ['created', 'adopted', 'matched'] as const;
export type Origin = (typeof ORIGINS)[number];

export const LIFECYCLE_STATES = ['active', 'removed', 'anonymized'] as const;
export type LifecycleState = (typeof LIFECYCLE_STATES)[number];

export interface Lifecycle {
	state: LifecycleState;
	/** The side whose record was removed (provisioning: always the target, `b`). */
	on?: Side;
	/** ISO instant of the soft removal. */
	removedAt?: string;
	/** ISO instant after which the person is anonymized. */
	purgeAfter?: string;
}

/** A field's value as compared and written: strings, or null for "no value". */
export type FieldValue = string | null;
export type FieldValues = Record<string, FieldValue>;

/** One membership of a group pair as sync last wrote it: person ids on each side and role. */
export type BaselineMember = [aPersonId: string, bPersonId: string, role: Role];

/** Per matched pair, the values last written by sync: the base of the three-way diff. */
export interface BaselineEntry {
	kind: RecordKind;
	a: string;
	b: string;
	origin: Origin;
	fields: FieldValues;
	/** Groups only: the memberships sync last wrote (provisioning: the only ones it owns). */
	members?: BaselineMember[];
	/** People in provisioning: soft removal state. */
	lifecycle?: Lifecycle;
	/** People: sync granted this person access on the link's access side (it revokes only that). */
	access?: true;
	/** People in provisioning: created, but the invitation has not gone out yet (the next run sends it). */
	invite?: 'pending';
	/**
	 * People in provisioning: the communities the person was last told of, when a run moved them
	 * without telling them (it stopped, or gave up, before the notice). The next notice tells of the
	 * move from these, since the baseline's memberships already show the move as done.
	 */
	told?: string[];
}

export interface Baseline {
	linkId: string;
	entries: BaselineEntry[];
}

export const SITUATIONS = ['in-sync', 'update', 'create', 'remove', 'conflict'] as const;
export type Situation = (typeof SITUATIONS)[number];

export const CONFLICT_REASONS = [
	'ambiguous-match',
	'both-changed',
	'changed-vs-removed',
	'name-collision',
	'threshold'
] as const;
export type ConflictReason = (typeof CONFLICT_REASONS)[number];

/** A record as a conflict names it: which side, which id, and the digest it had then. */
export interface RecordRef {
	side: Side;
	kind: RecordKind;
	id: string;
	version: string;
}

export interface Conflict {
	/** Stable across reconciliations while the same records conflict for the same reason. */
	id: string;
	kind: RecordKind;
	reason: ConflictReason;
	/** Every record involved (for ambiguous-match: every candidate on both sides). */
	records: RecordRef[];
	/** both-changed: the fields both sides changed, with base, A and B values. */
	fields?: { field: string; base: FieldValue; a: FieldValue; b: FieldValue }[];
	/** changed-vs-removed: the side on which the record was removed. */
	removedSide?: Side;
	/** threshold of creations (not removals): the side the records would be created on. */
	createdSide?: Side;
	/** threshold: how many removals (or creations) are staged, and the limit that staged them. */
	staged?: { count: number; total: number; limit: DeletionLimit };
	/** name-collision of a person: a create was refused because this record holds a unique value. */
	collision?: Collision;
}

/**
 * A create refused by a system because another record there holds a unique value (a SCIM 409 on
 * `userName`), which no match found: retrying would fail every night. Reconciliation shows it as a
 * conflict a person resolves instead: adopt that record (link), try again (create new), or skip.
 */
export interface Collision {
	/** The side the create was refused on. */
	side: Side;
	/** The person's id on the other side, the one the create was made from. */
	source: string;
	/** The record holding the value, when the system could name it. */
	existingId?: string;
	field?: string;
}

export const RESOLUTION_CHOICES = [
	'take-a',
	'take-b',
	'per-field',
	'link',
	'create-new',
	'ignore',
	'approve-deletes',
	'approve-creates'
] as const;
export type ResolutionChoice = (typeof RESOLUTION_CHOICES)[number];

/** A person's answer to a conflict, with the record versions it was made against. */
export interface Resolution {
	conflictId: string;
	choice: ResolutionChoice;
	/** per-field: which side wins each field. */
	fields?: Record<string, Side>;
	/** link: the two records to pair. */
	link?: { a: string; b: string };
	/** The records as the person saw them; any of them changed since makes the resolution stale. */
	against: RecordRef[];
	/** Who made it, when (ISO). */
	by?: string;
	at?: string;
}
