/**
 * A SCIM 2.0 client (RFC 7643 resources, RFC 7644 protocol) for Users and Groups.
 *
 * - Discovery: /ServiceProviderConfig, /ResourceTypes and /Schemas say what the server supports;
 *   each may be missing (404), and the client then assumes the least (no filter, no extensions).
 * - Reads page with startIndex/count, pages in parallel under the request semaphore, and re-read
 *   when the directory changed while it was read (totalResults moved, records shifted pages).
 *   Each page is mapped and handed on as it arrives (`scan`), so a large directory is never held
 *   as raw SCIM. Every resource is validated; a read with bad records throws one error listing all of them.
 * - Writes: POST, PATCH (Operations), DELETE. Removal deactivates (`active=false`) or deletes.
 *   Group managers live in the Rostersync Group extension and are read-modified-written under a
 *   per-group lock; members are added and removed with PATCH (`members[value eq "id"]`).
 * - 429/503 are retried (Retry-After, else backoff with full jitter; see retry.ts); every
 *   failure becomes a ConnectorError naming the system, the record and the field.
 * - The server is not trusted (wire.ts): each request has a time limit, each answer and each
 *   resource a size limit, and redirects stay within its origin. Every string it sends is
 *   scrubbed of the token (scrub.ts) as it is read, before it is cut, parsed into an error or
 *   handed on, so a ConnectorError is clean by construction. An answer that is not SCIM is
 *   called that, and its content is never quoted.
 */
import type { GenericSchema, InferOutput } from 'valibot';
import type { Group, GroupKind, Membership, Person, RemoveMode, Snapshot } from '$lib/core/model';
import type { Op, TargetRef } from '$lib/core/ops';
import { isBulkable, isPlainMembership, type BatchPolicy } from '$lib/core/batch';
import { DEFAULT_MEMBER_BATCH, applyMemberBatch, memberBatchSize, type ScimWrites } from './scim-batch';
import { applyBulk, bulkSize } from './scim-bulk';
import type { Capabilities, ApplyResult, Connector, ConnectorErrorInit, Issue, SnapshotSink } from './types';
import { ConnectorError, isEdgeDelivered } from './types';
import { Semaphore } from './semaphore';
import { DEFAULT_RETRY, NetworkError, realClock, sendWithRetry, type Clock, type RetryPolicy } from './retry';
import { Scrubber } from './scrub';
import type { PeopleMap } from './people-map';
import { PatchError } from '../sandbox/scim-patch';
import {
	DEFAULT_LIMITS,
	WireError,
	deadline,
	duration,
	fetchWithinOrigin,
	readBody,
	size,
	type Body,
	type Deadline,
	type FetchLike,
	type WireLimits
} from './wire';
import { snapshotVersion } from './digest';
import {
	CORE_GROUP,
	CORE_USER,
	ENTERPRISE_USER,
	ListResponse,
	PATCH_OP,
	ROSTERSYNC_GROUP,
	ROSTERSYNC_USER,
	ResourceType,
	SchemaResource,
	ScimErrorBody,
	ServiceProviderConfig,
	check
} from './scim-schema';
import {
	MappingError,
	anonymizePatch,
	applyPatchLocally,
	customFieldNames,
	groupPatch,
	groupToScim,
	personFieldsOf,
	personPatch,
	personToUser,
	scimToGroup,
	type MappedGroup,
	userToPerson,
	type PatchOperation,
	type ScimProfile
} from './scim-map';
import { accessCarrier, accessPatch } from './scim-access';

/** A fetch: the global one, or a Durable Object stub's for the built-in sandbox (no network hop). */
export type { FetchLike };

export interface ScimOptions {
	/** Id of the System: every error names it. */
	systemId: string;
	/** The SCIM base URL, e.g. https://idp.example/scim/v2 */
	baseUrl: string;
	/** Bearer token. */
	token: string;
	fetch?: FetchLike;
	/** Custom field name -> SCIM attribute path, e.g. `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`. */
	fieldMap?: Record<string, string>;
	/** Where buildings and member type are kept, when not where Rostersync keeps them (people-map.ts). */
	peopleMap?: PeopleMap;
	/** Requests in flight at once (default 4). */
	concurrency?: number;
	/** Resources asked for per page (default 100; servers may send fewer). */
	pageSize?: number;
	/**
	 * Groups asked for per page (default pageSize). A group's entry carries its members: a page of
	 * 500 communities can hold 30k memberships, half a second to render and as long to read in one
	 * piece, with everything else on a shared isolate waiting behind it.
	 */
	groupPageSize?: number;
	/** How a soft removal reaches this system (default deactivate). */
	removeMode?: RemoveMode;
	/** The kind groups read as when the server stores none (default `group`). */
	defaultGroupKind?: GroupKind;
	clock?: Clock;
	retry?: Partial<RetryPolicy>;
	/** Time and size limits (see wire.ts; tests lower them). */
	limits?: Partial<WireLimits>;
	/** Memberships of one group per PATCH (default scim-batch.ts's; 1: one PATCH per membership). */
	memberBatch?: number;
	/** Creates and updates through /Bulk where the server offers it (default true). */
	bulk?: boolean;
}

/** What /ServiceProviderConfig said (undefined: the server did not say). */
export interface ScimFeatures {
	patch?: boolean;
	bulk?: boolean;
	/** Bulk's announced limits (operations per request, request bytes). */
	bulkMaxOperations?: number;
	bulkMaxPayloadSize?: number;
	sort?: boolean;
	etag?: boolean;
	filter?: boolean;
	filterMaxResults?: number;
}

interface Discovery {
	profile: ScimProfile;
	caps: Capabilities;
	features: ScimFeatures;
	usersPath: string;
	groupsPath: string;
	/** Nothing declared whether users have the enterprise extension: it was assumed (see #discover). */
	enterpriseAssumed: boolean;
}

/** Quotes a value for a SCIM filter (RFC 7644 §3.4.2.2: a JSON string). */
export const eq = (attribute: string, value: string): string => `${attribute} eq ${JSON.stringify(value)}`;

/** Reads are retried this many times in all when the directory changes while it is read. */
const READ_ATTEMPTS = 3;
/**
 * Waited before the second attempt, doubled before each later one: a directory that changes
 * while it is read is usually being written in a burst (a run, an import), and reading again at
 * once would meet the same burst.
 */
const SETTLE_MS = 2000;
/** Records named when a read does not settle (and how many more). */
const MOVED_NAMED = 10;

const CONSERVATIVE: Capabilities = {
	write: true,
	groups: false,
	roles: false,
	groupKinds: false,
	filter: false,
	softRemove: true,
	personFields: ['displayName', 'givenName', 'familyName', 'email', 'phone', 'memberType', 'active'],
	customFields: []
};

interface RequestContext {
	recordKind?: 'person' | 'group';
	recordId?: string;
	/** Attribute paths the request carries: a server error naming one of them names the field. */
	fields?: string[];
	/** The field when the server names none (a uniqueness conflict on create: userName). */
	defaultField?: string;
	/** The operation's deadline, when the request is part of one. */
	signal?: AbortSignal;
}

interface RequestInitScim {
	query?: Record<string, string | number>;
	body?: unknown;
	signal?: AbortSignal;
	context?: RequestContext;
}

type ListedPage = { total: number; resources: unknown[] };

/** The record found holding a unique value: which field matched, the value sent and the value it holds. */
interface Holder {
	id: string;
	externalId?: string;
	field: string;
	value: string;
	held: string;
}

/** A validation problem found during a scan; records without an id are labelled once the read ends. */
interface PendingIssue {
	kind: 'person' | 'group';
	id?: string;
	/** Where the record was listed (1-based), to report issues in listing order whatever order pages came in. */
	position: number;
	field: string;
	message: string;
}

export class ScimConnector implements Connector {
	readonly kind = 'scim' as const;
	readonly #opts: Required<
		Pick<ScimOptions, 'systemId' | 'token' | 'pageSize' | 'groupPageSize' | 'removeMode' | 'defaultGroupKind'>
	> & {
		baseUrl: string;
		fieldMap: Record<string, string>;
	};
	readonly #fetch: FetchLike;
	readonly #peopleMap?: PeopleMap;
	readonly #clock: Clock;
	readonly #retry: RetryPolicy;
	readonly #limits: WireLimits;
	/** Takes the token out of everything this system sends. */
	readonly #scrub: Scrubber;
	/** Bounds the requests in flight to this system, whoever sends them. */
	readonly #requests: Semaphore;
	#discovery?: Promise<Discovery>;
	#caps: Capabilities = CONSERVATIVE;
	#features: ScimFeatures = {};
	readonly #locks = new Map<string, Promise<unknown>>();
	readonly #memberBatch: number;
	readonly #bulk: boolean;

	constructor(options: ScimOptions) {
		this.#opts = {
			systemId: options.systemId,
			baseUrl: options.baseUrl.replace(/\/+$/, ''),
			token: options.token,
			fieldMap: options.fieldMap ?? {},
			pageSize: options.pageSize ?? 100,
			groupPageSize: options.groupPageSize ?? options.pageSize ?? 100,
			removeMode: options.removeMode ?? 'deactivate',
			defaultGroupKind: options.defaultGroupKind ?? 'group'
		};
		this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
		this.#peopleMap = options.peopleMap;
		this.#clock = options.clock ?? realClock;
		this.#retry = { ...DEFAULT_RETRY, ...options.retry };
		this.#limits = { ...DEFAULT_LIMITS, ...options.limits };
		this.#scrub = new Scrubber({ token: options.token });
		this.#requests = new Semaphore(options.concurrency ?? 4);
		this.#memberBatch = Math.max(1, options.memberBatch ?? DEFAULT_MEMBER_BATCH);
		this.#bulk = options.bulk ?? true;
	}

	capabilities(): Capabilities {
		return this.#caps;
	}

	/** The protocol features the server announced (after discover). */
	get features(): ScimFeatures {
		return this.#features;
	}

	discover(signal?: AbortSignal): Promise<Capabilities> {
		this.#discovery ??= this.#discover(signal).catch((e) => {
			this.#discovery = undefined; // a failed discovery is tried again next time
			throw e;
		});
		return this.#discovery.then((d) => d.caps);
	}

	async read(signal?: AbortSignal): Promise<Snapshot> {
		const people: Person[] = [];
		const groups: Group[] = [];
		const memberships: Membership[] = [];
		const { takenAt } = await this.scan(
			{
				restart() {
					people.length = 0;
					groups.length = 0;
					memberships.length = 0;
				},
				// A loop, not push(...list): a server may send pages too large to spread as arguments.
				people(list) {
					for (const p of list) people.push(p);
				},
				groups(list, ms) {
					for (const g of list) groups.push(g);
					for (const m of ms) memberships.push(m);
				}
			},
			signal
		);
		const records = {
			people: people.sort((a, b) => cmp(a.id, b.id)),
			groups: groups.sort((a, b) => cmp(a.id, b.id)),
			// Pages arrive in any order: sorted, the same directory reads as the same snapshot.
			memberships: memberships.sort((a, b) => cmp(a.groupId, b.groupId) || cmp(a.personId, b.personId))
		};
		return { system: this.#opts.systemId, takenAt, version: snapshotVersion(records), ...records };
	}

	async scan(sink: SnapshotSink, signal?: AbortSignal): Promise<{ takenAt: string }> {
		const limit = deadline(this.#limits.scanTimeoutMs, signal);
		try {
			return await this.#scan(sink, limit.signal);
		} catch (e) {
			if (!limit.expired() || e instanceof ConnectorError) throw e;
			throw this.#error({
				code: 'unreachable',
				retryable: true,
				detail: `could not be read within ${duration(this.#limits.scanTimeoutMs)}`
			});
		} finally {
			limit.clear();
		}
	}

	async #scan(sink: SnapshotSink, signal: AbortSignal): Promise<{ takenAt: string }> {
		const d = await this.#discovered(signal);
		// What each attempt saw, so that a read that does not settle names the records that moved.
		const seen: Record<'person' | 'group', Set<string>[]> = { person: [], group: [] };
		for (let attempt = 1; ; attempt++) {
			if (attempt > 1) {
				await this.#clock.sleep(SETTLE_MS * 2 ** (attempt - 2), signal);
				sink.restart();
			}
			const sequential = attempt > 1;
			const issues: PendingIssue[] = [];
			const noteIssues = (
				kind: 'person' | 'group',
				raw: unknown,
				position: number,
				found: { field: string; message: string }[]
			) => {
				const id = resourceId(raw);
				for (const x of found) issues.push({ kind, id, position, field: x.field, message: x.message });
			};
			// Once a record is bad the read throws or starts over: nothing more is worth writing, and
			// a membership may then name a person that was not written.
			const writing = () => issues.length === 0;

			// Users first: a group page's memberships are checked against every person read.
			let enterpriseSeen = false;
			const users = await this.#eachPage(
				d.usersPath,
				'person',
				sequential,
				(resources, start) => {
					const people: Person[] = [];
					resources.forEach((raw, i) => {
						if ((raw as Record<string, unknown> | null)?.[ENTERPRISE_USER] != null) enterpriseSeen = true;
						const mapped = userToPerson(raw, d.profile);
						if ('person' in mapped) people.push(mapped.person);
						else noteIssues('person', raw, start + i, mapped.issues);
					});
					if (writing() && people.length > 0) sink.people(people);
				},
				signal
			);
			seen.person.push(users.ids);
			if (!users.stable) {
				if (attempt < READ_ATTEMPTS) continue;
				throw this.#unsettled('person', seen.person);
			}

			let dangling = false;
			const membershipsOf = ({ group, members, managers }: MappedGroup): Membership[] => {
				const out: Membership[] = [];
				const managerSet = new Set(managers);
				for (const personId of new Set([...members, ...managers])) {
					// A member created or deleted between the Users and the Groups pages.
					if (!users.ids.has(personId)) {
						dangling = true;
						continue;
					}
					out.push({ groupId: group.id, personId, role: managerSet.has(personId) ? 'manager' : 'member' });
				}
				return out;
			};
			/** Groups whose list entry left `members` out: asked for one by one once the list is in. */
			const unlisted: string[] = [];
			const groups = d.caps.groups
				? await this.#eachPage(
						d.groupsPath,
						'group',
						sequential,
						(resources, start) => {
							const list: Group[] = [];
							const memberships: Membership[] = [];
							resources.forEach((raw, i) => {
								const mapped = scimToGroup(raw, d.profile);
								if (!('group' in mapped)) return noteIssues('group', raw, start + i, mapped.issues);
								list.push(mapped.group);
								if (!mapped.listed) unlisted.push(mapped.group.id);
								else for (const m of membershipsOf(mapped)) memberships.push(m);
							});
							if (writing() && list.length > 0) sink.groups(list, memberships);
						},
						signal
					)
				: { stable: true, ids: new Set<string>() };
			if (d.caps.groups) seen.group.push(groups.ids);
			if (!groups.stable) {
				if (attempt < READ_ATTEMPTS) continue;
				throw this.#unsettled('group', seen.group);
			}
			for (const id of unlisted) {
				if (!writing()) break;
				const mapped = await this.#groupWithMembers(d, id, signal);
				if (!('group' in mapped)) noteIssues('group', { id }, 0, mapped.issues);
				else if (mapped.members.length + mapped.managers.length > 0) sink.groups([], membershipsOf(mapped));
			}

			if (issues.length > 0) throw this.#invalidRead(issues, { person: users.ids.size, group: groups.ids.size });
			// An assumed extension that no user of a directory with users carries is not one this system
			// provides: read as a source, its missing values would clear the target's (absent is not
			// empty). An empty directory keeps the assumption, so a new target still gets them written.
			const unprovided = d.enterpriseAssumed && users.ids.size > 0 && !enterpriseSeen;
			this.#caps = unprovided
				? { ...d.caps, personFields: d.caps.personFields.filter((f) => f !== 'employeeNumber') }
				: d.caps;
			// The last attempt keeps the read and leaves the dangling memberships out (never written).
			if (dangling && attempt < READ_ATTEMPTS) continue;
			return { takenAt: new Date(this.#clock.now()).toISOString() };
		}
	}

	/**
	 * A group whose list entry left its members out, read by itself; when that leaves them out too,
	 * they are asked for by name (`attributes=members`, for `returned: "request"`). A group that
	 * shows no members even then has none: servers leave out an empty attribute as well.
	 */
	async #groupWithMembers(d: Discovery, id: string, signal: AbortSignal): Promise<ReturnType<typeof scimToGroup>> {
		const path = `${d.groupsPath}/${encodeURIComponent(id)}`;
		const context: RequestContext = { recordKind: 'group', recordId: id, signal };
		const raw = await this.#resource('GET', path, context);
		const mapped = scimToGroup(raw, d.profile);
		if (!('group' in mapped) || mapped.listed) return mapped;
		let asked: unknown;
		try {
			asked = await this.#resource('GET', path, context, { attributes: 'members' });
		} catch (e) {
			// A server that does not take `attributes` on a resource answers it in full, or refuses it as
			// a bad request; anything else (a limit, a lost group, an outage) fails the read as ever.
			if (e instanceof ConnectorError && (e.status === 400 || e.status === 501)) return mapped;
			throw e;
		}
		const members = (asked as { members?: unknown } | null)?.members;
		return members == null ? mapped : scimToGroup({ ...(raw as object), members }, d.profile);
	}

	/**
	 * The read did not settle: names the records of `kind` that appeared or disappeared between
	 * the last two reads of them (the ones a plan made now could get wrong).
	 */
	#unsettled(kind: 'person' | 'group', reads: Set<string>[]): ConnectorError {
		const [before, after] = reads.slice(-2);
		const moved: string[] = [];
		if (before && after) {
			for (const id of before) if (!after.has(id)) moved.push(id);
			for (const id of after) if (!before.has(id)) moved.push(id);
		}
		const plural = kind === 'person' ? 'people' : 'groups';
		const named =
			moved.length === 0
				? `${plural} shifted between pages`
				: `${plural} that appeared or disappeared between reads: ${moved.slice(0, MOVED_NAMED).join(', ')}${
						moved.length > MOVED_NAMED ? ` and ${moved.length - MOVED_NAMED} more` : ''
					}`;
		return this.#error({
			code: 'http',
			retryable: true,
			recordKind: kind,
			detail: `the directory kept changing while it was read (${READ_ATTEMPTS} attempts over ${
				(SETTLE_MS * (2 ** (READ_ATTEMPTS - 1) - 1)) / 1000
			} s; ${named}); try again when it is not being written`
		});
	}

	/**
	 * One error for every bad record of a read, in listing order, Users first. A record without an
	 * id is named by its place after the records with one (`#n`), as when the read was collected whole.
	 */
	#invalidRead(pending: PendingIssue[], withId: Record<'person' | 'group', number>): ConnectorError {
		const rank = (x: PendingIssue) => (x.kind === 'person' ? 0 : 2) + (x.id === undefined ? 1 : 0);
		pending.sort((a, b) => rank(a) - rank(b) || a.position - b.position);
		const labels = new Map<string, string>();
		const idless = { person: 0, group: 0 };
		const issues: Issue[] = pending.map((x) => {
			let record = x.id;
			if (record === undefined) {
				const key = `${x.kind} ${x.position}`;
				record = labels.get(key) ?? `#${withId[x.kind] + ++idless[x.kind]}`;
				labels.set(key, record);
			}
			return { record, field: x.field, message: x.message };
		});
		const first = issues[0];
		return this.#error({
			code: 'invalid',
			recordId: first.record,
			field: first.field,
			detail: `invalid SCIM payload: ${issues.map((x) => `${x.record} ${x.field}: ${x.message}`).join('; ')}`,
			issues
		});
	}

	/** People matching a SCIM filter (the server's filter; see `eq`). */
	async findPeople(filter: string, signal?: AbortSignal): Promise<Person[]> {
		const d = await this.#discovered(signal);
		const resources = await this.#collect(d.usersPath, 'person', signal, filter);
		return resources.flatMap((raw, i) => {
			const mapped = userToPerson(raw, d.profile);
			if ('person' in mapped) return [mapped.person];
			throw this.#error({
				code: 'invalid',
				recordKind: 'person',
				recordId: recordLabel(raw, i),
				field: mapped.issues[0].field,
				detail: mapped.issues[0].message
			});
		});
	}

	/** Groups matching a SCIM filter. */
	async findGroups(filter: string, signal?: AbortSignal): Promise<Group[]> {
		const d = await this.#discovered(signal);
		const resources = await this.#collect(d.groupsPath, 'group', signal, filter);
		return resources.flatMap((raw, i) => {
			const mapped = scimToGroup(raw, d.profile);
			if ('group' in mapped) return [mapped.group];
			throw this.#error({
				code: 'invalid',
				recordKind: 'group',
				recordId: recordLabel(raw, i),
				field: mapped.issues[0].field,
				detail: mapped.issues[0].message
			});
		});
	}

	async apply(op: Op, resolve: (ref: TargetRef) => string): Promise<ApplyResult> {
		if (isEdgeDelivered(op)) return {};
		// Bounds the operation whole (look-ups after a 409, read-modify-write), so a run's slice ends.
		const limit = deadline(this.#limits.operationTimeoutMs);
		const recordKind = op.type.endsWith('group') ? 'group' : 'person';
		try {
			const d = await this.#discovered(limit.signal);
			return await this.#apply(op, resolve, d, limit.signal);
		} catch (e) {
			if (e instanceof MappingError) {
				throw this.#error({
					code: e.unsupported ? 'unsupported' : 'invalid',
					recordKind,
					recordId: opRecord(op, resolve),
					field: e.field,
					detail: e.message
				});
			}
			if (limit.expired() && !(e instanceof ConnectorError))
				throw this.#error({
					code: 'unreachable',
					retryable: true,
					recordKind,
					recordId: opRecord(op, resolve),
					detail: `${op.type} did not finish within ${duration(this.#limits.operationTimeoutMs)}`
				});
			throw e;
		} finally {
			limit.clear();
		}
	}

	/**
	 * How many operations this system takes together, as discovered and learned: memberships per
	 * PATCH (none without PATCH: those are read-modify-write), operations per /Bulk request.
	 */
	batching(): BatchPolicy {
		const f = this.#features;
		const members = f.patch === false ? 1 : memberBatchSize(this.#opts.systemId, this.#memberBatch);
		const bulk =
			this.#bulk && f.bulk === true && f.patch !== false
				? bulkSize(this.#opts.systemId, {
						maxOperations: f.bulkMaxOperations ?? 0,
						maxPayloadBytes: f.bulkMaxPayloadSize
					})
				: 0;
		return { members, ...(bulk > 1 ? { bulk } : {}) };
	}

	/**
	 * Applies a batch the core planned (scim-batch.ts, scim-bulk.ts): an outcome per operation it
	 * settled; the others are applied alone. Bounded as one operation is, by the operation limit.
	 */
	async applyBatch(ops: Op[], resolve: (ref: TargetRef) => string): Promise<Map<string, ApplyResult | ConnectorError>> {
		const limit = deadline(this.#limits.operationTimeoutMs);
		try {
			const d = await this.#discovered(limit.signal);
			const writes: ScimWrites = {
				systemId: this.#opts.systemId,
				groupsPath: d.groupsPath,
				// The only body limit a server announces is Bulk's; servers built on one body parser share it.
				maxPayloadBytes: d.features.bulkMaxPayloadSize,
				request: (method, path, init) => this.#request(method, path, init),
				error: (init) => this.#error(init)
			};
			if (ops.every(isPlainMembership))
				return await applyMemberBatch(writes, ops, resolve, this.#memberBatch, limit.signal);
			if (!ops.some(isBulkable)) return new Map();
			const f = d.features;
			const limits = { maxOperations: f.bulkMaxOperations ?? 0, maxPayloadBytes: f.bulkMaxPayloadSize };
			if (!this.#bulk || !f.bulk || bulkSize(this.#opts.systemId, limits) === 0) return new Map();
			return await applyBulk(
				{ ...writes, usersPath: d.usersPath, profile: d.profile, groups: d.caps.groups, bulk: limits },
				ops,
				resolve,
				limit.signal
			);
		} finally {
			limit.clear();
		}
	}

	async #apply(op: Op, resolve: (ref: TargetRef) => string, d: Discovery, signal: AbortSignal): Promise<ApplyResult> {
		const { profile } = d;
		switch (op.type) {
			case 'create-person': {
				const body = personToUser(op.record, profile);
				const context: RequestContext = {
					recordKind: 'person',
					recordId: op.record.externalId ?? (body.userName as string),
					fields: payloadFields(body),
					defaultField: 'userName'
				};
				try {
					const created = await this.#request('POST', d.usersPath, { body, context, signal });
					return { id: createdId(created) ?? this.#missingId(context) };
				} catch (e) {
					if (e instanceof ConnectorError && e.code === 'unreachable' && op.record.externalId) {
						// An answer too late may follow a create the server made: failed, the record would be
						// adopted next time as someone else's, and the newcomer never invited. Found by its
						// shared identifier, it is this create's record, as after a 409 below.
						const made = await this.#findExisting(d, 'person', [['externalId', op.record.externalId]], signal).catch(
							() => undefined
						);
						if (made?.externalId === op.record.externalId) return { id: made.id };
						throw e;
					}
					if (!(e instanceof ConnectorError) || e.code !== 'conflict') throw e;
					const existing = await this.#findExisting(
						d,
						'person',
						[
							['userName', body.userName as string],
							['externalId', op.record.externalId]
						],
						signal
					);
					// Our own earlier create whose answer was lost: the same person, by its shared identifier.
					if (existing && op.record.externalId && existing.externalId === op.record.externalId)
						return { id: existing.id };
					throw this.#conflict(e, 'person', existing);
				}
			}
			case 'create-group': {
				if (!d.caps.groups)
					throw this.#error({
						code: 'unsupported',
						recordKind: 'group',
						recordId: op.record.externalId ?? op.record.name,
						detail: 'this server has no Groups'
					});
				const body = groupToScim(op.record, profile);
				const context: RequestContext = {
					recordKind: 'group',
					recordId: op.record.externalId ?? op.record.name,
					fields: payloadFields(body),
					defaultField: 'displayName'
				};
				try {
					const created = await this.#request('POST', d.groupsPath, { body, context, signal });
					return { id: createdId(created) ?? this.#missingId(context) };
				} catch (e) {
					if (!(e instanceof ConnectorError) || e.code !== 'conflict') throw e;
					const existing = await this.#findExisting(
						d,
						'group',
						[
							['externalId', op.record.externalId],
							['displayName', op.record.name]
						],
						signal
					);
					if (existing && op.record.externalId && existing.externalId === op.record.externalId)
						return { id: existing.id };
					throw this.#conflict(e, 'group', existing);
				}
			}
			case 'update-person':
				await this.#patch(d.usersPath, resolve(op.target), 'person', personPatch(op.values, profile), signal);
				return {};
			case 'update-group':
				await this.#patch(d.groupsPath, resolve(op.target), 'group', groupPatch(op.values, profile), signal);
				return {};
			case 'adopt-person':
			case 'adopt-group': {
				// Sync takes the record over as it is; the edge records the provenance. It must exist.
				const kind = op.type === 'adopt-person' ? 'person' : 'group';
				const id = resolve(op.target);
				await this.#request('GET', `${kind === 'person' ? d.usersPath : d.groupsPath}/${encodeURIComponent(id)}`, {
					query: { attributes: 'id' },
					context: { recordKind: kind, recordId: id },
					signal
				});
				return { id };
			}
			case 'remove-person': {
				const id = resolve(op.target);
				if (op.soft && this.#opts.removeMode === 'deactivate') {
					if (!d.caps.softRemove)
						throw this.#error({
							code: 'unsupported',
							recordKind: 'person',
							recordId: id,
							field: 'active',
							detail: 'this server cannot deactivate users'
						});
					await this.#patch(d.usersPath, id, 'person', [{ op: 'replace', path: 'active', value: false }], signal);
				} else await this.#delete(d.usersPath, id, 'person', signal);
				return {};
			}
			case 'restore-person':
				await this.#patch(
					d.usersPath,
					resolve(op.target),
					'person',
					[{ op: 'replace', path: 'active', value: true }],
					signal
				);
				return {};
			case 'anonymize-person': {
				const id = resolve(op.target);
				await this.#patch(d.usersPath, id, 'person', anonymizePatch(id, op.values, profile), signal);
				return {};
			}
			case 'remove-group':
				await this.#delete(d.groupsPath, resolve(op.target), 'group', signal);
				return {};
			case 'grant-access':
			case 'revoke-access':
				await this.#access(d, op.type === 'grant-access', resolve(op.target), signal);
				return {};
			case 'add-membership':
			case 'set-role':
			case 'remove-membership':
				await this.#membership(d, op, resolve(op.group), resolve(op.person), signal);
				return {};
			default:
				return {};
		}
	}

	/** Grants or revokes a person's access in the form this server keeps it (see scim-access.ts). */
	async #access(d: Discovery, grant: boolean, id: string, signal: AbortSignal): Promise<void> {
		if (!d.caps.access)
			throw this.#error({
				code: 'unsupported',
				recordKind: 'person',
				recordId: id,
				field: 'access',
				detail: 'this server keeps no access a client can write (no entitlements, roles or active)'
			});
		await this.#patch(d.usersPath, id, 'person', accessPatch(grant, d.profile), signal);
	}

	async #membership(
		d: Discovery,
		op: Extract<Op, { type: 'add-membership' | 'set-role' | 'remove-membership' }>,
		groupId: string,
		personId: string,
		signal: AbortSignal
	): Promise<void> {
		const path = `${d.groupsPath}/${encodeURIComponent(groupId)}`;
		const context: RequestContext = { recordKind: 'group', recordId: groupId, fields: ['members'], signal };
		const wantsManager = op.type !== 'remove-membership' && op.role === 'manager';
		const touchesManagers =
			wantsManager || op.type === 'set-role' || (op.type === 'remove-membership' && op.before === 'manager');
		const memberOps: PatchOperation[] =
			op.type === 'add-membership'
				? [{ op: 'add', path: 'members', value: [{ value: personId }] }]
				: op.type === 'remove-membership'
					? [{ op: 'remove', path: `members[value eq ${JSON.stringify(personId)}]` }]
					: [];
		if (!touchesManagers) return void (await this.#patchAt(path, memberOps, context));
		const ext = d.profile.groupExt;
		if (!ext) {
			if (wantsManager)
				throw this.#error({
					code: 'unsupported',
					recordKind: 'group',
					recordId: groupId,
					field: 'role',
					detail: 'this server stores no manager role (no Rostersync Group extension)'
				});
			return void (await this.#patchAt(path, memberOps, context));
		}
		// Managers are a plain list: read, change, write back, one writer per group at a time.
		await this.#withLock(path, async () => {
			// Only the managers matter here: a group of 50k members is not read for each of them.
			const group = (await this.#resource('GET', path, context, { excludedAttributes: 'members' })) as Record<
				string,
				unknown
			>;
			const current = new Set(
				((group?.[ext] as { managers?: unknown } | undefined)?.managers as string[] | undefined) ?? []
			);
			if (wantsManager) current.add(personId);
			else current.delete(personId);
			const managers = [...current].sort();
			await this.#patchAt(
				path,
				[...memberOps, { op: 'replace', path: `${ext}:managers`, value: managers }],
				{ ...context, fields: ['members', `${ext}:managers`] },
				true
			);
		});
	}

	/** Runs read-modify-write tasks on one record one after the other (keyed by its path). */
	async #withLock<T>(key: string, task: () => Promise<T>): Promise<T> {
		const previous = this.#locks.get(key) ?? Promise.resolve();
		const run = previous.catch(() => {}).then(task);
		this.#locks.set(key, run);
		try {
			return await run;
		} finally {
			if (this.#locks.get(key) === run) this.#locks.delete(key);
		}
	}

	async #patch(
		collection: string,
		id: string,
		kind: 'person' | 'group',
		operations: PatchOperation[],
		signal: AbortSignal
	): Promise<void> {
		if (operations.length === 0) return;
		await this.#patchAt(`${collection}/${encodeURIComponent(id)}`, operations, {
			recordKind: kind,
			recordId: id,
			fields: operations.map((o) => o.path),
			signal
		});
	}

	/** `locked`: the caller already holds this record's lock. */
	async #patchAt(path: string, operations: PatchOperation[], context: RequestContext, locked = false): Promise<void> {
		if (operations.length === 0) return;
		if (this.#features.patch === false) {
			const replace = () => this.#replaceAt(path, operations, context);
			return locked ? replace() : this.#withLock(path, replace);
		}
		try {
			await this.#request('PATCH', path, { body: { schemas: [PATCH_OP], Operations: operations }, context });
		} catch (e) {
			// Removing what is already gone (a retried removal) is done, not failed.
			if (e instanceof ConnectorError && e.scimType === 'noTarget' && operations.every((o) => o.op === 'remove'))
				return;
			throw e;
		}
	}

	/** For servers without PATCH: read, change, PUT back (under the record's lock). */
	async #replaceAt(path: string, operations: PatchOperation[], context: RequestContext): Promise<void> {
		const current = await this.#resource('GET', path, context);
		if (current === null || typeof current !== 'object')
			throw this.#error({ ...contextOf(context), code: 'invalid', detail: `GET ${path}: no resource in the answer` });
		let body: Record<string, unknown>;
		try {
			body = applyPatchLocally(current as Record<string, unknown>, operations);
		} catch (e) {
			// The record as the server holds it cannot take the change: name it, like a server's 400.
			if (!(e instanceof PatchError)) throw e;
			throw this.#error({
				...contextOf(context),
				code: 'invalid',
				scimType: e.scimType,
				detail: `${path}: ${e.message}`
			});
		}
		await this.#request('PUT', path, { body, context });
	}

	async #delete(collection: string, id: string, kind: 'person' | 'group', signal: AbortSignal): Promise<void> {
		try {
			await this.#request('DELETE', `${collection}/${encodeURIComponent(id)}`, {
				context: { recordKind: kind, recordId: id, signal }
			});
		} catch (e) {
			// Already deleted (a retried removal): the intended state holds.
			if (e instanceof ConnectorError && e.code === 'not-found') return;
			throw e;
		}
	}

	/**
	 * The record holding one of these unique values (a create's 409), by filter when the server
	 * filters, else, or when no filter finds it, by a scan. `userName` and `displayName` compare
	 * without case (RFC 7643 makes userName caseExact false), yet servers differ: some filter
	 * case-sensitively and keep the case they were given (`ZOE@EXAMPLE.ORG` is then missed by both
	 * `eq "zoe@example.org"` and its lower-cased twin), so only the scan is sure to find it.
	 * `externalId` is caseExact and compares exactly. Undefined when nothing is found or the
	 * server cannot be asked: the conflict itself is then the error to report.
	 */
	async #findExisting(
		d: Discovery,
		kind: 'person' | 'group',
		keys: [attribute: string, value: string | undefined][],
		signal: AbortSignal
	): Promise<Holder | undefined> {
		const wanted = keys.filter((k): k is [string, string] => !!k[1]);
		if (wanted.length === 0) return undefined;
		const collection = kind === 'person' ? d.usersPath : d.groupsPath;
		const holderOf = (raw: unknown): Holder | undefined => {
			const r = raw as { id?: unknown; externalId?: unknown; userName?: unknown; displayName?: unknown };
			if (typeof r.id !== 'string' || r.id === '') return undefined;
			const externalId = typeof r.externalId === 'string' ? r.externalId : undefined;
			for (const [field, value] of wanted) {
				const held = field === 'externalId' ? externalId : field === 'userName' ? r.userName : r.displayName;
				if (typeof held !== 'string') continue;
				if (field === 'externalId' ? held === value : held.toLowerCase() === value.toLowerCase())
					return { id: r.id, externalId, field, value, held };
			}
			return undefined;
		};
		if (d.caps.filter) {
			keys: for (const [field, value] of wanted) {
				// Case-sensitive filters (SCIMMY) find the value as given or lower-cased; externalId only as given.
				for (const v of field === 'externalId' ? [value] : new Set([value, value.toLowerCase()])) {
					let found: unknown[];
					try {
						found = await this.#collect(collection, kind, signal, eq(field, v));
					} catch (e) {
						if (!(e instanceof ConnectorError)) throw e;
						// A filter on this attribute refused (400 invalidFilter, 501): the next one, then the scan.
						if (e.code === 'invalid' || e.code === 'unsupported') continue keys;
						return undefined;
					}
					for (const raw of found) {
						const holder = holderOf(raw);
						if (holder) return holder;
					}
				}
			}
		}
		try {
			return await this.#scanFor(collection, kind, holderOf, signal);
		} catch (e) {
			if (e instanceof ConnectorError) return undefined;
			throw e;
		}
	}

	/**
	 * Pages through a collection one page of the normal size at a time until `test` finds a record,
	 * and stops there. Bounded by the collection: it ends at totalResults, on an empty page, or on a
	 * page with nothing the previous one did not have (a server that ignores startIndex).
	 */
	async #scanFor<T>(
		collection: string,
		kind: 'person' | 'group',
		test: (raw: unknown) => T | undefined,
		signal: AbortSignal
	): Promise<T | undefined> {
		let previous = new Set<string>();
		for (let start = 1; ;) {
			const page = await this.#page(collection, kind, { startIndex: start, count: this.#pageSize(kind) }, signal);
			const ids = new Set<string>();
			let fresh = 0;
			for (const raw of page.resources) {
				const id = resourceId(raw);
				if (id !== undefined) ids.add(id);
				if (id !== undefined && previous.has(id)) continue;
				fresh++;
				const hit = test(raw);
				if (hit !== undefined) return hit;
			}
			start += page.resources.length;
			if (fresh === 0 || start > page.total) return undefined;
			previous = ids;
		}
	}

	/**
	 * A create's 409 with the record that holds the value, when one was found: the edge turns it
	 * into a conflict a person resolves (adopt that record, or skip). The detail names the field,
	 * the value sent and the value held (they may differ in case).
	 */
	#conflict(e: ConnectorError, kind: 'person' | 'group', holder: Holder | undefined): ConnectorError {
		if (!holder) return e;
		const as = holder.held === holder.value ? '' : ` as "${holder.held}"`;
		const owner = holder.externalId === undefined ? 'no externalId' : `externalId "${holder.externalId}"`;
		return this.#error({
			...e.toJSON(),
			field: holder.field,
			existingId: holder.id,
			detail: `${holder.field} "${holder.value}" is already held by ${kind} ${holder.id}${as} (${owner}); ${e.detail}`
		});
	}

	#pageSize(kind: 'person' | 'group'): number {
		return kind === 'group' ? this.#opts.groupPageSize : this.#opts.pageSize;
	}

	/**
	 * Every resource of a collection, handed to `onPage` page by page as each arrives (repeats of an
	 * id already handed over left out; `start` is the page's 1-based startIndex), so no page is
	 * kept once handled. `stable` is false when the directory changed during the read (totalResults
	 * moved, or records shifted so ids repeat or go missing): read again. `ids` holds every id seen.
	 * Pages after the first go out in parallel unless `sequential` (then each page starts where
	 * the previous one ended, whatever page size the server chose).
	 */
	async #eachPage(
		collection: string,
		kind: 'person' | 'group',
		sequential: boolean,
		onPage: (resources: unknown[], start: number) => void,
		signal?: AbortSignal,
		filter?: string
	): Promise<{ stable: boolean; ids: Set<string> }> {
		const count = this.#pageSize(kind);
		const page = (startIndex: number) =>
			this.#page(collection, kind, { startIndex, count, ...(filter ? { filter } : {}) }, signal);
		const ids = new Set<string>();
		let idless = 0;
		let stable = true;
		// A page that lands after another one failed is dropped: the caller has its error already.
		let failed = false;
		const first = await page(1);
		const total = first.total;
		const take = (p: ListedPage, start: number) => {
			if (failed) return;
			if (p.total !== total) stable = false;
			const fresh: unknown[] = [];
			for (const raw of p.resources) {
				const id = resourceId(raw);
				if (id === undefined) {
					idless++;
					fresh.push(raw); // kept so validation names it
				} else if (!ids.has(id)) {
					ids.add(id);
					fresh.push(raw);
				}
			}
			onPage(fresh, start);
		};
		take(first, 1);
		if (sequential) {
			let received = first.resources.length;
			while (received < total) {
				const next = await page(received + 1);
				take(next, received + 1);
				if (next.resources.length === 0) break;
				received += next.resources.length;
			}
		} else if (first.resources.length > 0) {
			const step = first.resources.length;
			const starts: number[] = [];
			for (let s = 1 + step; s <= total; s += step) starts.push(s);
			try {
				await Promise.all(starts.map(async (s) => take(await page(s), s)));
			} catch (e) {
				failed = true;
				throw e;
			}
		}
		if (ids.size + idless !== total) stable = false;
		return { stable, ids };
	}

	/** Every resource of a collection at once, for look-ups (a filter keeps them few): records with an id first. */
	async #collect(
		collection: string,
		kind: 'person' | 'group',
		signal?: AbortSignal,
		filter?: string
	): Promise<unknown[]> {
		const withId: unknown[] = [];
		const without: unknown[] = [];
		await this.#eachPage(
			collection,
			kind,
			true,
			(resources) => {
				for (const raw of resources) (resourceId(raw) === undefined ? without : withId).push(raw);
			},
			signal,
			filter
		);
		return [...withId, ...without];
	}

	async #page(
		collection: string,
		kind: 'person' | 'group',
		query: Record<string, string | number>,
		signal?: AbortSignal
	): Promise<ListedPage> {
		const { body, bytes } = await this.#exchange('GET', collection, {
			query,
			signal,
			context: { recordKind: kind, fields: query.filter ? [String(query.filter).split(' ')[0]] : [] }
		});
		const list = check(ListResponse, body);
		if (!list.ok) {
			if (!isListShaped(body)) {
				const what = body === undefined ? 'nothing' : 'JSON that is not a SCIM ListResponse';
				throw this.#notScim(`${requestName('GET', withQuery(collection, query))} answered ${what}`, {
					recordKind: kind
				});
			}
			throw this.#error({
				code: 'invalid',
				field: list.issues[0].field,
				detail: `invalid ListResponse from ${collection}: ${list.issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`
			});
		}
		const resources = list.value.Resources ?? [];
		// No resource can be larger than the page it came in.
		if (bytes > this.#limits.maxRecordBytes)
			resources.forEach((raw, i) =>
				this.#bounded(raw, { recordKind: kind, recordId: recordLabel(raw, Number(query.startIndex ?? 1) - 1 + i) })
			);
		return { total: list.value.totalResults, resources };
	}

	/** One resource read to be changed and written back, within the size a record may be. */
	async #resource(
		method: string,
		path: string,
		context: RequestContext,
		query?: Record<string, string>
	): Promise<unknown> {
		const { body, bytes } = await this.#exchange(method, path, { context, query });
		if (bytes > this.#limits.maxRecordBytes) this.#bounded(body, context);
		return body;
	}

	/**
	 * Throws when a resource is larger than a record may be (a 10 MB attribute would otherwise
	 * reach the link's SQLite and fail there), naming the record and its largest attribute.
	 */
	#bounded(raw: unknown, context: RequestContext): void {
		const max = this.#limits.maxRecordBytes;
		// A group's members are kept one row each, never as one value: a 5,000-member group is not too large.
		const json = JSON.stringify(withoutMembers(raw, context)) ?? '';
		// Characters are at most bytes, and bytes at most three times the characters (UTF-8).
		if (json.length * 3 <= max) return;
		const bytes = json.length > max ? json.length : utf8.encode(json).byteLength;
		if (bytes <= max) return;
		const field = largestAttribute(withoutMembers(raw, context));
		throw this.#error({
			...contextOf(context),
			recordId: resourceId(raw) ?? context.recordId,
			code: 'invalid',
			field,
			detail: `the record is ${size(bytes)}, over the ${size(max)} one record may be${field ? ` (most of it in ${field})` : ''}`
		});
	}

	async #discovered(signal?: AbortSignal): Promise<Discovery> {
		await this.discover(signal);
		return this.#discovery!;
	}

	async #discover(signal?: AbortSignal): Promise<Discovery> {
		// One after the other: discovery runs once, and a failure leaves no request behind.
		const notScim: ConnectorError[] = [];
		const spcRaw = await this.#optional('/ServiceProviderConfig', signal, undefined, notScim);
		const typesRaw = await this.#optional('/ResourceTypes', signal, undefined, notScim);
		const schemasRaw = await this.#optional('/Schemas', signal, undefined, notScim);
		// One page a server answers for every path (a web app's fallback) is not missing SCIM endpoints: a login
		// page, say. A server may lack some of them, but one that answers all three with something else is not SCIM.
		if (notScim.length === 3) throw notScim[0];
		const spc = spcRaw === undefined ? undefined : check(ServiceProviderConfig, spcRaw);
		const features: ScimFeatures = spc?.ok
			? {
					patch: spc.value.patch?.supported ?? undefined,
					bulk: spc.value.bulk?.supported ?? undefined,
					// Limits of a Bulk the server does not offer mean nothing (SCIMMY keeps its defaults there).
					bulkMaxOperations: (spc.value.bulk?.supported && spc.value.bulk.maxOperations) || undefined,
					bulkMaxPayloadSize: (spc.value.bulk?.supported && spc.value.bulk.maxPayloadSize) || undefined,
					sort: spc.value.sort?.supported ?? undefined,
					etag: spc.value.etag?.supported ?? undefined,
					filter: spc.value.filter?.supported ?? undefined,
					filterMaxResults: spc.value.filter?.maxResults ?? undefined
				}
			: {};

		const types = listOf(typesRaw, ResourceType);
		const schemas = listOf(schemasRaw, SchemaResource);
		const userType = types?.find((t) => t.schema === CORE_USER);
		const groupType = types?.find((t) => t.schema === CORE_GROUP);
		const extensionsOf = (t: typeof userType) => (t?.schemaExtensions ?? []).map((e) => e.schema);
		const schemaIds = new Set(schemas?.map((s) => s.id) ?? []);
		const listed = (id: string, type: typeof userType) => (types ? extensionsOf(type).includes(id) : schemaIds.has(id));

		const usersPath = userType?.endpoint ?? '/Users';
		let groups: boolean;
		let groupsPath = groupType?.endpoint ?? '/Groups';
		if (types) groups = groupType !== undefined;
		else {
			// No /ResourceTypes: ask the collection itself.
			groups = isListShaped(await this.#optional('/Groups', signal, { count: 1 }));
			groupsPath = '/Groups';
		}

		const userExt = ROSTERSYNC_USER.find((id) => listed(id, userType));
		const groupExt = groups ? ROSTERSYNC_GROUP.find((id) => listed(id, groupType)) : undefined;
		const attributeTypes: Record<string, string> = {};
		for (const s of schemas ?? [])
			for (const a of s.attributes ?? []) if (a.type) attributeTypes[`${s.id}:${a.name}`.toLowerCase()] = a.type;
		const userExtSchema = schemas?.find((s) => s.id === userExt);
		const coreUser = schemas?.find((s) => s.id === CORE_USER);
		// A core User schema that declares its attributes says which the server keeps; without one, all are assumed.
		const coreAttributes = coreUser?.attributes?.map((a) => a.name.toLowerCase());
		const profile: ScimProfile = {
			// Unknown (no discovery) is taken as present: servers ignore an extension they lack.
			enterprise: types || schemas ? listed(ENTERPRISE_USER, userType) : true,
			coreAttributes,
			userExt,
			userExtAttributes: userExt ? (userExtSchema?.attributes?.map((a) => a.name) ?? ['buildings']) : [],
			groupExt,
			fieldMap: this.#opts.fieldMap,
			peopleMap: this.#peopleMap,
			attributeTypes,
			defaultGroupKind: this.#opts.defaultGroupKind
		};
		const caps: Capabilities = {
			write: true,
			groups,
			roles: groupExt !== undefined,
			groupKinds: groupExt !== undefined,
			filter: features.filter ?? false,
			softRemove: coreAttributes ? coreAttributes.includes('active') : true,
			personFields: personFieldsOf(profile),
			customFields: customFieldNames(profile),
			...(accessCarrier(profile) ? { access: accessCarrier(profile) } : {})
		};
		this.#caps = caps;
		this.#features = features;
		return { profile, caps, features, usersPath, groupsPath, enterpriseAssumed: !types && !schemas };
	}

	/**
	 * A discovery GET: undefined when the server does not have it (an answer that is not SCIM also
	 * goes to `notScim`); auth and network errors throw.
	 */
	async #optional(
		path: string,
		signal?: AbortSignal,
		query?: Record<string, string | number>,
		notScim?: ConnectorError[]
	): Promise<unknown> {
		try {
			return await this.#request('GET', path, { signal, query });
		} catch (e) {
			if (e instanceof ConnectorError && notScimErrors.has(e)) notScim?.push(e);
			if (
				e instanceof ConnectorError &&
				(e.code === 'not-found' ||
					e.code === 'invalid' ||
					e.code === 'unsupported' ||
					(e.code === 'http' && !e.retryable))
			)
				return undefined;
			throw e;
		}
	}

	/** One request: its JSON body, scrubbed (undefined when empty). */
	async #request(method: string, path: string, init: RequestInitScim = {}): Promise<unknown> {
		return (await this.#exchange(method, path, init)).body;
	}

	/**
	 * One request with retries, under the request semaphore, within the time limit (sending,
	 * redirects within the origin, and reading the answer) and the size limit. Returns the JSON
	 * body, scrubbed (undefined when empty), and the answer's size in bytes.
	 */
	async #exchange(method: string, path: string, init: RequestInitScim): Promise<{ body: unknown; bytes: number }> {
		const { query, body, context = {} } = init;
		const signal = init.signal ?? context.signal;
		const target = withQuery(path, query);
		const url = `${this.#opts.baseUrl}${target}`;
		const what = requestName(method, target);
		const headers: Record<string, string> = {
			authorization: `Bearer ${this.#opts.token}`,
			accept: 'application/scim+json, application/json'
		};
		if (body !== undefined) headers['content-type'] = 'application/scim+json';
		const payload = body === undefined ? undefined : JSON.stringify(body);
		const limits = this.#limits;

		return this.#requests.run(async () => {
			// Each try has its own time limit, which goes on to cover reading the answer.
			let attempt: Deadline | undefined;
			const timedOut = () => attempt?.expired() === true;
			try {
				const response = await sendWithRetry(
					() => {
						attempt?.clear();
						attempt = deadline(limits.timeoutMs, signal);
						const init: RequestInit = { method, headers, body: payload, signal: attempt.signal };
						return fetchWithinOrigin(this.#fetch, url, init, limits.maxRedirects);
					},
					{
						clock: this.#clock,
						policy: this.#retry,
						signal,
						fatal: (e) => e instanceof WireError || timedOut()
					}
				);
				if (!response.ok) {
					const answer = await readBody(response, {
						maxBytes: limits.maxErrorBytes,
						over: 'cut',
						signal: attempt?.signal
					});
					throw this.#httpError(what, response, answer, context);
				}
				const answer = await readBody(response, {
					maxBytes: limits.maxBodyBytes,
					over: 'refuse',
					signal: attempt?.signal
				});
				return { body: this.#parse(what, response, answer, context), bytes: answer.bytes };
			} catch (e) {
				if (e instanceof ConnectorError) throw e;
				if (timedOut())
					throw this.#error({
						...contextOf(context),
						code: 'unreachable',
						retryable: true,
						detail: `did not answer within ${duration(limits.timeoutMs)} (${what})`
					});
				if (e instanceof WireError)
					throw this.#error({
						...contextOf(context),
						code: e.kind === 'too-large' ? 'invalid' : 'http',
						detail: `${what}: ${e.message}`
					});
				if (e instanceof NetworkError)
					throw this.#error({
						...contextOf(context),
						code: 'unreachable',
						retryable: true,
						detail: `${what}: ${e.message}`
					});
				throw e;
			} finally {
				attempt?.clear();
			}
		});
	}

	/** A successful answer's JSON, scrubbed; an answer that is not JSON is not from a SCIM server. */
	#parse(what: string, response: Response, answer: Body, context: RequestContext): unknown {
		if (answer.text.trim() === '') return undefined;
		try {
			return this.#scrub.json(answer.text);
		} catch {
			throw this.#notScim(`${what} answered ${contentKind(response, answer.text)}, not SCIM JSON`, context);
		}
	}

	#notScim(why: string, context: RequestContext): ConnectorError {
		const e = this.#error({ ...contextOf(context), code: 'invalid', detail: `not a SCIM server: ${why}` });
		notScimErrors.add(e);
		return e;
	}

	/**
	 * An error answer as a ConnectorError. A SCIM error's detail and scimType are quoted (scrubbed
	 * and cut short); anything else is named by its status and kind, never quoted.
	 */
	#httpError(what: string, response: Response, answer: Body, context: RequestContext): ConnectorError {
		let parsed: unknown;
		try {
			parsed = answer.cut ? undefined : this.#scrub.json(answer.text);
		} catch {
			parsed = undefined;
		}
		const scim = isScimError(parsed) ? check(ScimErrorBody, parsed) : undefined;
		const status = response.status;
		// Printable first: a control character inside a token would hide it from the scrubber.
		const statusText = clip(this.#scrub.text(response.statusText.replace(/[^\x20-\x7e]/g, '')), 80);
		const said = scim?.ok ? clip(scim.value.detail ?? '', 300) : '';
		const answered =
			answer.text.trim() === '' ? '' : `; the answer is not a SCIM error (${contentKind(response, answer.text)})`;
		const detail = said || `${status}${statusText ? ` ${statusText}` : ''}${scim ? '' : answered}`;
		const scimType = (scim?.ok && clip(scim.value.scimType ?? '', 60)) || undefined;
		const code =
			status === 401 || status === 403
				? 'auth'
				: status === 404
					? 'not-found'
					: status === 409
						? 'conflict'
						: status === 400
							? 'invalid'
							: status === 501
								? 'unsupported'
								: 'http';
		const field =
			status === 401 || status === 403
				? undefined
				: (namedField(detail, context.fields ?? []) ?? (status === 409 ? context.defaultField : undefined));
		return this.#error({
			...contextOf(context),
			code,
			field,
			status,
			scimType,
			retryable: status === 429 || status === 503 || status >= 500,
			detail: `${what}: ${detail}`
		});
	}

	#missingId(context: RequestContext): never {
		throw this.#error({
			...contextOf(context),
			code: 'invalid',
			field: 'id',
			detail: 'the server created the record but answered without its id'
		});
	}

	/** Every error this connector throws, scrubbed once more whatever went into it. */
	#error(init: Omit<ConnectorErrorInit, 'system'>): ConnectorError {
		const clean = <T extends string | undefined>(text: T): T =>
			(text === undefined ? text : this.#scrub.text(text)) as T;
		return new ConnectorError({
			...init,
			system: this.#opts.systemId,
			detail: clean(init.detail),
			recordId: clean(init.recordId),
			field: clean(init.field),
			scimType: clean(init.scimType),
			existingId: clean(init.existingId),
			issues: init.issues?.map((i) => ({
				...i,
				record: clean(i.record),
				field: clean(i.field),
				column: clean(i.column),
				message: clean(i.message)
			}))
		});
	}
}

const contextOf = (c: RequestContext) => ({ recordKind: c.recordKind, recordId: c.recordId });

const utf8 = new TextEncoder();

/** Errors that say an answer was not SCIM at all (see #notScim), as discovery tells them apart. */
const notScimErrors = new WeakSet<ConnectorError>();

const withQuery = (path: string, query?: Record<string, string | number>) =>
	query && Object.keys(query).length > 0
		? `${path}?${new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]))}`
		: path;

/** How a request is named in errors: `GET /Users?startIndex=1&count=100` (a long one cut short). */
const requestName = (method: string, target: string) =>
	`${method} ${target.length > 200 ? `${target.slice(0, 200)}…` : target}`;

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text);

/** How an answer that is not SCIM is named: by its kind, never by its content. */
function contentKind(response: Response, text: string): string {
	const type = (response.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
	if (type === 'text/html' || /^\s*</.test(text)) return 'an HTML page';
	if (/^[a-z0-9.+-]{1,40}\/[a-z0-9.+-]{1,60}$/.test(type)) return `text that is not JSON (${type})`;
	return 'text that is not JSON';
}

/** A SCIM error body (RFC 7644 §3.12): the Error schema, or a detail or scimType of its own. */
function isScimError(body: unknown): boolean {
	if (body === null || typeof body !== 'object' || Array.isArray(body)) return false;
	const b = body as { schemas?: unknown; detail?: unknown; scimType?: unknown };
	return (
		(Array.isArray(b.schemas) && b.schemas.includes('urn:ietf:params:scim:api:messages:2.0:Error')) ||
		typeof b.detail === 'string' ||
		typeof b.scimType === 'string'
	);
}

/** Looks like a ListResponse (its schema, or a totalResults), even when some of it is wrong. */
function isListShaped(body: unknown): boolean {
	if (body === null || typeof body !== 'object' || Array.isArray(body)) return false;
	const b = body as { schemas?: unknown; totalResults?: unknown };
	return (
		(Array.isArray(b.schemas) && b.schemas.includes('urn:ietf:params:scim:api:messages:2.0:ListResponse')) ||
		'totalResults' in b
	);
}

/** The attribute taking most of a resource (`urn:...:User:department` inside an extension). */
function largestAttribute(raw: unknown): string | undefined {
	if (raw === null || typeof raw !== 'object') return undefined;
	let best: { field: string; length: number } | undefined;
	const weigh = (field: string, value: unknown) => {
		const length = (JSON.stringify(value) ?? '').length;
		if (!best || length > best.length) best = { field, length };
	};
	for (const [key, value] of Object.entries(raw)) {
		if (key.toLowerCase().startsWith('urn:') && value !== null && typeof value === 'object' && !Array.isArray(value))
			for (const [attr, v] of Object.entries(value)) weigh(`${key}:${attr}`, v);
		else weigh(key, value);
	}
	return best?.field;
}

/** A group as its size counts: without its members (see #bounded). */
function withoutMembers(raw: unknown, context: RequestContext): unknown {
	if (context.recordKind !== 'group' || raw === null || typeof raw !== 'object' || !('members' in raw)) return raw;
	const { members: _, ...rest } = raw as Record<string, unknown>;
	return rest;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function listOf<S extends GenericSchema>(raw: unknown, schema: S): InferOutput<S>[] | undefined {
	if (raw === undefined) return undefined;
	const list = check(ListResponse, raw);
	// Some servers answer /Schemas and /ResourceTypes with a bare array.
	const items = list.ok ? (list.value.Resources ?? []) : Array.isArray(raw) ? raw : undefined;
	if (!items) return undefined;
	return items.flatMap((item) => {
		const one = check(schema, item);
		return one.ok ? [one.value] : [];
	});
}

/** A resource's id, when it has a usable one. */
function resourceId(raw: unknown): string | undefined {
	const id = (raw as { id?: unknown } | null)?.id;
	return typeof id === 'string' && id !== '' ? id : undefined;
}

/** How a record is named in errors: its id, else its position in the answer. */
function recordLabel(raw: unknown, index: number): string {
	return resourceId(raw) ?? `#${index + 1}`;
}

function createdId(body: unknown): string | undefined {
	const id = (body as { id?: unknown } | undefined)?.id;
	return typeof id === 'string' && id !== '' ? id : undefined;
}

/** Attribute paths of a POST body: top-level attributes and each extension's attributes. */
function payloadFields(body: Record<string, unknown>): string[] {
	return Object.entries(body).flatMap(([key, value]) =>
		key.toLowerCase().startsWith('urn:') && value && typeof value === 'object'
			? Object.keys(value).map((attr) => `${key}:${attr}`)
			: key === 'schemas'
				? []
				: [key]
	);
}

/** The field a server's error text names, among those the request carried (longest name first). */
export function namedField(detail: string, fields: string[]): string | undefined {
	const text = detail.toLowerCase();
	const leaf = (f: string) =>
		f
			.split(/[:.[\]]/)
			.filter(Boolean)
			.pop()
			?.toLowerCase() ?? f.toLowerCase();
	const byLength = [...new Set(fields)].sort((a, b) => leaf(b).length - leaf(a).length);
	const found = byLength.find((f) => new RegExp(`(^|[^a-z0-9])${escapeRegExp(leaf(f))}([^a-z0-9]|$)`).test(text));
	if (found) return found;
	return fields.length === 1 ? fields[0] : undefined;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The record an operation concerns, for error messages (never throws). */
function opRecord(op: Op, resolve: (ref: TargetRef) => string): string | undefined {
	try {
		if ('target' in op) return resolve(op.target);
		if ('group' in op) return resolve(op.group);
		if ('record' in op) return op.record.externalId ?? ('name' in op.record ? op.record.name : op.record.displayName);
	} catch {
		return undefined;
	}
	return undefined;
}
