import { DurableObject } from 'cloudflare:workers';
import { Directory } from '$lib/core/directory';
import type { Group, Membership, Person, Role, Snapshot } from '$lib/core/model';
import { STEP, type Op } from '$lib/core/ops';
import type { Env } from '../env';
import { sha256Hex, timingSafeEqual } from '../crypto';
import { matches, simpleEquality, type Filter } from './scim-filter';
import { applyOperations, normalizePatch, type NormalizedOp } from './scim-patch';
import {
	GROUP_SCHEMAS,
	MAX_RESULTS,
	USER_SCHEMAS,
	listResponse,
	project,
	readGroup,
	readUser,
	renderGroup,
	renderUser,
	sandboxProfile,
	type ResourceMeta
} from './scim-resources';
import { ScimError, handleScim, type ListQuery, type ResourceKind, type ScimDirectory } from './scim-http';
import { ReadViews, ViewGoneError, type DirectoryState, type Touched, type ViewKind } from './read-views';
import type { ScimProfile } from '../connectors/scim-map';
import { toPlain, toRequest, type SandboxRequest, type SandboxResponse } from './scim-rpc';
import type { DemoIncident, StoredRecord } from '$lib/api/incidents-client';
import { DemoRecords, handleRecords, recordsPath } from './records';

export { PUBLIC_BASE_HEADER } from './scim-http';

/** Who may call a sandbox: the connector's own token, and one token an owner issued for external clients. */
export const SANDBOX_TOKEN_KINDS = ['internal', 'external'] as const;
export type SandboxTokenKind = (typeof SANDBOX_TOKEN_KINDS)[number];

export interface SandboxSetup {
	systemId: string;
	/** Custom attributes of the Rostersync User extension (e.g. `rank`), shown in /Schemas. */
	customAttributes: string[];
	/** SHA-256 of the token the connector sends (the system's sealed credentials hold the token). */
	internalTokenHash: string;
}

/** Records to seed a sandbox with; a person's userName defaults to its email, else its id. */
export interface SandboxRecords {
	people: (Person & { userName?: string })[];
	groups: Group[];
	memberships: Membership[];
}

export interface SandboxInfo {
	systemId: string;
	customAttributes: string[];
	people: number;
	groups: number;
	memberships: number;
	tokens: SandboxTokenKind[];
	/** SCIM requests that write (not GET or HEAD) this instance answered since it started (the bench counts them). */
	scimWrites: number;
}

type Row = Record<string, string | number | null>;
type Json = Record<string, unknown>;

const byCodeUnit = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
const now = () => new Date().toISOString();

/**
 * One built-in directory, answering SCIM 2.0 for Users and Groups. The records live in the core's
 * in-memory Directory (which enforces what real systems enforce: records exist before they are
 * changed, memberships need both ends) and are written through, row by row, to SQLite, from which
 * a fresh instance loads them. Reached through the `scim` RPC method, by the connector and by external
 * SCIM clients (/api/sandbox/:systemId/scim/v2/). The HTTP side is scim-http.ts; a paged read sees
 * one version of the directory through read-views.ts.
 */
export class SandboxDO extends DurableObject<Env> {
	private dir = new Directory('sandbox');
	private userNames = new Map<string, string>();
	private byUserName = new Map<string, string>();
	private meta = new Map<string, ResourceMeta>();
	private tokens = new Map<SandboxTokenKind, string>();
	private systemId = '';
	private customAttributes: string[] = [];
	private profile: ScimProfile = sandboxProfile([]);
	private sorted: { people?: string[]; groups?: string[] } = {};
	/** The directory as it is now, for reads and read views. */
	private readonly live: DirectoryState = {
		person: (id) => {
			const person = this.dir.people.get(id);
			return person && { person, userName: this.userNames.get(id)!, meta: this.meta.get(`u:${id}`)! };
		},
		group: (id) => {
			const group = this.dir.groups.get(id);
			return group && { group, members: this.dir.members.get(id) ?? new Map(), meta: this.meta.get(`g:${id}`)! };
		},
		ids: (kind) => this.sortedIds(kind === 'user' ? 'people' : 'groups')
	};
	private readonly views = new ReadViews(this.live);

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		ctx.blockConcurrencyWhile(async () => {
			const sql = this.ctx.storage.sql;
			sql.exec('CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
			sql.exec(
				'CREATE TABLE IF NOT EXISTS tokens (kind TEXT PRIMARY KEY, hash TEXT NOT NULL, created_at TEXT NOT NULL)'
			);
			sql.exec(`CREATE TABLE IF NOT EXISTS scim_users (
				id TEXT PRIMARY KEY, user_name TEXT NOT NULL, user_name_key TEXT NOT NULL UNIQUE,
				record TEXT NOT NULL, created TEXT NOT NULL, modified TEXT NOT NULL)`);
			sql.exec(
				'CREATE TABLE IF NOT EXISTS scim_groups (id TEXT PRIMARY KEY, record TEXT NOT NULL, created TEXT NOT NULL, modified TEXT NOT NULL)'
			);
			sql.exec(`CREATE TABLE IF NOT EXISTS scim_members (
				group_id TEXT NOT NULL, person_id TEXT NOT NULL, role TEXT NOT NULL, PRIMARY KEY (group_id, person_id))`);
			sql.exec('CREATE INDEX IF NOT EXISTS scim_members_person ON scim_members (person_id)');
			this.load();
		});
	}

	private rows(query: string, ...bindings: unknown[]): Row[] {
		return this.ctx.storage.sql.exec<Row>(query, ...bindings).toArray();
	}

	/** Reads everything from SQLite into memory. */
	private load(): void {
		const settings = new Map(this.rows('SELECT key, value FROM settings').map((r) => [String(r.key), String(r.value)]));
		this.systemId = settings.get('systemId') ?? '';
		this.customAttributes = JSON.parse(settings.get('customAttributes') ?? '[]');
		this.scimWrites = Number(settings.get('scimWrites') ?? 0);
		this.profile = sandboxProfile(this.customAttributes);
		this.tokens = new Map(
			this.rows('SELECT kind, hash FROM tokens').map((r) => [r.kind as SandboxTokenKind, String(r.hash)])
		);
		this.userNames.clear();
		this.byUserName.clear();
		this.meta.clear();
		const people: Person[] = [];
		for (const r of this.ctx.storage.sql.exec<Row>(
			'SELECT id, user_name, user_name_key, record, created, modified FROM scim_users'
		)) {
			const id = String(r.id);
			people.push(JSON.parse(String(r.record)));
			this.userNames.set(id, String(r.user_name));
			this.byUserName.set(String(r.user_name_key), id);
			this.meta.set(`u:${id}`, { created: String(r.created), lastModified: String(r.modified) });
		}
		const groups: Group[] = [];
		for (const r of this.ctx.storage.sql.exec<Row>('SELECT id, record, created, modified FROM scim_groups')) {
			groups.push(JSON.parse(String(r.record)));
			this.meta.set(`g:${r.id}`, { created: String(r.created), lastModified: String(r.modified) });
		}
		const memberships = this.rows('SELECT group_id, person_id, role FROM scim_members').map((r) => ({
			groupId: String(r.group_id),
			personId: String(r.person_id),
			role: r.role as Role
		}));
		this.dir = new Directory(this.systemId || 'sandbox', { people, groups, memberships });
		this.sorted = {};
	}

	/**
	 * Runs `write` (memory and SQLite) in one transaction; on failure memory is reloaded from SQLite.
	 * `touched` names the records it changes (not those it creates), for the open read views.
	 */
	private mutate<T>(touched: Touched | (() => Touched), write: () => T): T {
		this.views.beforeWrite(touched);
		try {
			return this.ctx.storage.transactionSync(write);
		} catch (e) {
			this.load();
			throw e;
		} finally {
			this.views.afterWrite();
		}
	}

	/** The groups a person is a member of (their member lists change when the person is deleted). */
	private groupsOf(personId: string): string[] {
		return this.rows('SELECT group_id FROM scim_members WHERE person_id = ?', personId).map((r) => String(r.group_id));
	}

	// ---- persistence (write-through) ---------------------------------------------------------

	private putUser(p: Person, userName: string, created?: string): void {
		const id = p.id;
		const previous = this.userNames.get(id);
		if (previous !== undefined) this.byUserName.delete(previous.toLowerCase());
		const meta = { created: created ?? this.meta.get(`u:${id}`)?.created ?? now(), lastModified: now() };
		this.ctx.storage.sql.exec(
			`INSERT INTO scim_users (id, user_name, user_name_key, record, created, modified) VALUES (?, ?, ?, ?, ?, ?)
			 ON CONFLICT(id) DO UPDATE SET user_name = excluded.user_name, user_name_key = excluded.user_name_key, record = excluded.record, modified = excluded.modified`,
			id,
			userName,
			userName.toLowerCase(),
			JSON.stringify(p),
			meta.created,
			meta.lastModified
		);
		this.userNames.set(id, userName);
		this.byUserName.set(userName.toLowerCase(), id);
		this.meta.set(`u:${id}`, meta);
	}

	private dropUser(id: string): void {
		this.ctx.storage.sql.exec('DELETE FROM scim_users WHERE id = ?', id);
		this.ctx.storage.sql.exec('DELETE FROM scim_members WHERE person_id = ?', id);
		const userName = this.userNames.get(id);
		if (userName !== undefined) this.byUserName.delete(userName.toLowerCase());
		this.userNames.delete(id);
		this.meta.delete(`u:${id}`);
	}

	private putGroup(g: Group, created?: string): void {
		const meta = { created: created ?? this.meta.get(`g:${g.id}`)?.created ?? now(), lastModified: now() };
		this.ctx.storage.sql.exec(
			`INSERT INTO scim_groups (id, record, created, modified) VALUES (?, ?, ?, ?)
			 ON CONFLICT(id) DO UPDATE SET record = excluded.record, modified = excluded.modified`,
			g.id,
			JSON.stringify(g),
			meta.created,
			meta.lastModified
		);
		this.meta.set(`g:${g.id}`, meta);
	}

	private dropGroup(id: string): void {
		this.ctx.storage.sql.exec('DELETE FROM scim_groups WHERE id = ?', id);
		this.ctx.storage.sql.exec('DELETE FROM scim_members WHERE group_id = ?', id);
		this.meta.delete(`g:${id}`);
	}

	/** Brings a group's members to `wanted` through the Directory, writing only what changed. */
	private setMembers(groupId: string, wanted: ReadonlyMap<string, Role>): void {
		const current = new Map(this.dir.members.get(groupId) ?? []);
		const sql = this.ctx.storage.sql;
		for (const [personId, role] of current) {
			if (wanted.has(personId)) continue;
			this.dir.apply({
				key: 'scim',
				side: 'a',
				step: STEP.membershipRemovals,
				type: 'remove-membership',
				group: { id: groupId },
				person: { id: personId },
				before: role
			});
			sql.exec('DELETE FROM scim_members WHERE group_id = ? AND person_id = ?', groupId, personId);
		}
		for (const [personId, role] of wanted) {
			const before = current.get(personId);
			if (before === role) continue;
			this.dir.apply(
				before === undefined
					? {
							key: 'scim',
							side: 'a',
							step: STEP.memberships,
							type: 'add-membership',
							group: { id: groupId },
							person: { id: personId },
							role
						}
					: {
							key: 'scim',
							side: 'a',
							step: STEP.memberships,
							type: 'set-role',
							group: { id: groupId },
							person: { id: personId },
							role,
							before
						}
			);
			sql.exec(
				'INSERT INTO scim_members (group_id, person_id, role) VALUES (?, ?, ?) ON CONFLICT(group_id, person_id) DO UPDATE SET role = excluded.role',
				groupId,
				personId,
				role
			);
		}
	}

	private sortedIds(kind: 'people' | 'groups'): string[] {
		return (this.sorted[kind] ??= [...(kind === 'people' ? this.dir.people.keys() : this.dir.groups.keys())].sort(
			byCodeUnit
		));
	}

	// ---- RPC ----------------------------------------------------------------------------------

	/** Names the sandbox, declares its custom attributes, and sets the connector's token digest. */
	async setup(init: SandboxSetup): Promise<void> {
		this.mutate({}, () => {
			const sql = this.ctx.storage.sql;
			this.setSetting('systemId', init.systemId);
			this.setSetting('customAttributes', JSON.stringify(init.customAttributes));
			sql.exec(
				'INSERT INTO tokens (kind, hash, created_at) VALUES (?, ?, ?) ON CONFLICT(kind) DO UPDATE SET hash = excluded.hash, created_at = excluded.created_at',
				'internal',
				init.internalTokenHash,
				now()
			);
		});
		this.load();
		this.views.reset();
	}

	/** Replaces the token external SCIM clients use (its SHA-256 digest; the plaintext was shown once). */
	async setExternalToken(hash: string): Promise<void> {
		this.ctx.storage.sql.exec(
			'INSERT INTO tokens (kind, hash, created_at) VALUES (?, ?, ?) ON CONFLICT(kind) DO UPDATE SET hash = excluded.hash, created_at = excluded.created_at',
			'external',
			hash,
			now()
		);
		this.tokens.set('external', hash);
	}

	/**
	 * Loads records into an empty sandbox; false (and nothing written) when it already holds
	 * records, unless `append` (large directories are loaded in several calls: RPC messages are
	 * bounded). Appended memberships may name people and groups of earlier calls.
	 */
	async seed(records: SandboxRecords, options: { append?: boolean } = {}): Promise<boolean> {
		if (!options.append && (this.dir.people.size > 0 || this.dir.groups.size > 0)) return false;
		const touched = () => ({
			people: records.people.map((p) => p.id),
			groups: [...records.groups.map((g) => g.id), ...records.memberships.map((m) => m.groupId)]
		});
		this.mutate(touched, () => {
			for (const { userName, ...person } of records.people) {
				this.dir.apply({
					key: 'seed',
					side: 'a',
					step: STEP.people,
					type: 'create-person',
					record: person,
					restoreId: person.id
				});
				this.putUser(person, userName ?? person.email ?? person.id);
			}
			for (const group of records.groups) {
				this.dir.apply({
					key: 'seed',
					side: 'a',
					step: STEP.groups,
					type: 'create-group',
					record: group,
					restoreId: group.id
				});
				this.putGroup(group);
			}
			const byGroup = new Map<string, Map<string, Role>>();
			for (const m of records.memberships) {
				let list = byGroup.get(m.groupId);
				if (!list) byGroup.set(m.groupId, (list = new Map()));
				list.set(m.personId, m.role);
			}
			for (const [groupId, members] of byGroup)
				this.setMembers(groupId, new Map([...(this.dir.members.get(groupId) ?? []), ...members]));
		});
		this.sorted = {};
		return true;
	}

	/**
	 * Applies core operations (the demo's drift, tests' set-ups) as the directory's own edits.
	 * Each operation stands alone: one that fails is reported and the others still apply.
	 */
	async applyOps(ops: Op[]): Promise<{ applied: number; failed: { key: string; error: string }[] }> {
		const failed: { key: string; error: string }[] = [];
		let applied = 0;
		for (const op of ops) {
			try {
				this.mutate(
					() => this.touchedBy(op),
					() => this.applyOp(op)
				);
				applied++;
			} catch (e) {
				failed.push({ key: op.key, error: e instanceof Error ? e.message : String(e) });
			}
		}
		this.sorted = {};
		return { applied, failed };
	}

	/** The records an operation changes (for the read views; creations change none). */
	private touchedBy(op: Op): Touched {
		const resolve = (ref: { id: string } | { createdBy: string }) => ('id' in ref ? ref.id : ref.createdBy);
		switch (op.type) {
			case 'create-person':
			case 'create-group':
			case 'invite':
			case 'notify-transfer':
				return {};
			case 'remove-person': {
				const id = resolve(op.target);
				return { people: [id], groups: op.soft ? [] : this.groupsOf(id) };
			}
			case 'remove-group':
			case 'update-group':
			case 'adopt-group':
				return { groups: [resolve(op.target)] };
			case 'add-membership':
			case 'set-role':
			case 'remove-membership':
				return { groups: [resolve(op.group)] };
			default:
				return { people: [resolve(op.target)] };
		}
	}

	private applyOp(op: Op): void {
		const resolve = (ref: { id: string } | { createdBy: string }) => ('id' in ref ? ref.id : ref.createdBy);
		switch (op.type) {
			case 'create-person': {
				const { id } = this.dir.apply(op, resolve);
				const person = this.dir.people.get(id!)!;
				const userName = person.email ?? person.employeeNumber ?? person.externalId ?? id!;
				if (this.byUserName.has(userName.toLowerCase())) throw new Error(`userName "${userName}" is taken`);
				this.putUser(person, userName);
				return;
			}
			case 'create-group': {
				const { id } = this.dir.apply(op, resolve);
				this.putGroup(this.dir.groups.get(id!)!);
				return;
			}
			case 'remove-person':
				this.dir.apply(op, resolve);
				if (op.soft) this.putUser(this.dir.people.get(resolve(op.target))!, this.userNames.get(resolve(op.target))!);
				else this.dropUser(resolve(op.target));
				return;
			case 'remove-group':
				this.dir.apply(op, resolve);
				this.dropGroup(resolve(op.target));
				return;
			case 'update-group':
				this.dir.apply(op, resolve);
				this.putGroup(this.dir.groups.get(resolve(op.target))!);
				return;
			case 'add-membership':
			case 'set-role':
			case 'remove-membership': {
				const groupId = resolve(op.group);
				const wanted = new Map(this.dir.members.get(groupId) ?? []);
				if (op.type === 'remove-membership') wanted.delete(resolve(op.person));
				else wanted.set(resolve(op.person), op.role);
				if (!this.dir.people.has(resolve(op.person))) throw new Error(`no person "${resolve(op.person)}"`);
				if (!this.dir.groups.has(groupId)) throw new Error(`no group "${groupId}"`);
				this.setMembers(groupId, wanted);
				this.putGroup(this.dir.groups.get(groupId)!);
				return;
			}
			case 'invite':
			case 'notify-transfer':
				return;
			default: {
				// update-person, restore-person, anonymize-person, adopt-*: the Directory's rules, then the row.
				this.dir.apply(op, resolve);
				const id = resolve(op.target);
				this.putUser(this.dir.people.get(id)!, this.userNames.get(id)!);
			}
		}
	}

	/** Every record, as the core sees a system. */
	async snapshot(): Promise<Snapshot> {
		return this.dir.snapshot(now());
	}

	private setSetting(key: string, value: string): void {
		this.ctx.storage.sql.exec(
			'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
			key,
			value
		);
	}

	/** The directory's version: it changes with every write (see read-views.ts) and every restart. */
	async version(): Promise<string> {
		return this.views.version;
	}

	async info(): Promise<SandboxInfo> {
		let memberships = 0;
		for (const list of this.dir.members.values()) memberships += list.size;
		return {
			systemId: this.systemId,
			customAttributes: [...this.customAttributes],
			people: this.dir.people.size,
			groups: this.dir.groups.size,
			memberships,
			tokens: [...this.tokens.keys()].sort(),
			scimWrites: this.scimWrites
		};
	}

	/** Deletes every record, setting and token (the system was deleted). */
	async wipe(): Promise<void> {
		this.mutate({}, () => {
			for (const table of ['settings', 'tokens', 'scim_users', 'scim_groups', 'scim_members'])
				this.ctx.storage.sql.exec(`DELETE FROM ${table}`);
		});
		this.load();
		this.views.reset();
	}

	/**
	 * One SCIM request, answered by the same handler as fetch(), as plain data: the edge calls this,
	 * never stub.fetch(), which wrangler dev leaks (scim-rpc.ts).
	 */
	async scim(req: SandboxRequest): Promise<SandboxResponse> {
		const request = toRequest(req);
		return toPlain(request, await this.fetch(request));
	}

	// ---- SCIM over fetch ----------------------------------------------------------------------

	/** One SCIM request (scim-http.ts does the HTTP: token first, bounded bodies, SCIM errors). */
	async fetch(request: Request): Promise<Response> {
		// Team Manager's incident reports and events live beside its SCIM endpoints (records.ts).
		if (recordsPath(new URL(request.url).pathname))
			return handleRecords(request, this.records, this.scimDirectory.authorize);
		const response = await handleScim(request, this.scimDirectory);
		// Writes a token holder sent, refused or not; one without a token is not counted (nor stored).
		if (request.method !== 'GET' && request.method !== 'HEAD' && response.status !== 401) {
			// Kept in storage: an instance evicted between writes still counts those made before.
			this.setSetting('scimWrites', String(++this.scimWrites));
		}
		return response;
	}

	// ---- incidents and records of the demo (records.ts) -------------------------------------------

	#records?: DemoRecords;
	private get records(): DemoRecords {
		return (this.#records ??= new DemoRecords(this.ctx.storage.sql));
	}

	/** Opens an incident with some of this system's people (the demo's Operations Center). */
	async openIncident(input: {
		title: string;
		type: string;
		location?: string;
		people: { id: string; role: string }[];
	}): Promise<{ incident: DemoIncident } | { unknown: string[] }> {
		// Answered, not thrown: an exception crossing RPC is logged as uncaught.
		const unknown = input.people.filter((p) => !this.dir.people.has(p.id)).map((p) => p.id);
		if (unknown.length > 0) return { unknown };
		return { incident: this.records.open(input, now()) };
	}

	async closeIncident(id: string): Promise<DemoIncident | undefined> {
		return this.records.close(id, now());
	}

	async incidents(): Promise<DemoIncident[]> {
		return this.records.incidents();
	}

	/** The webhook secret a link issued for incidents closing here. */
	async subscribeIncidents(linkId: string, secret: string): Promise<void> {
		this.records.subscribe(linkId, secret, now());
	}

	async incidentWebhooks(): Promise<{ linkId: string; secret: string }[]> {
		return this.records.webhooks();
	}

	/** Team Manager's incident reports and events, as another system wrote them. */
	async storedRecords(): Promise<StoredRecord[]> {
		return this.records.records();
	}

	async storedRecord(id: string): Promise<StoredRecord | undefined> {
		return this.records.record(id);
	}

	/** The next `n` record writes answer 503 (tests of a push's retry). */
	async failRecordWrites(n: number): Promise<void> {
		this.records.failures = n;
	}

	private scimWrites = 0;

	/** What handleScim asks of the directory; private, so none of it is an RPC method. */
	private readonly scimDirectory: ScimDirectory = {
		authorize: async (token) => {
			const hash = await sha256Hex(token);
			let ok = false;
			for (const known of this.tokens.values()) if (timingSafeEqual(known, hash)) ok = true;
			return ok;
		},
		customAttributes: () => this.customAttributes,
		list: (kind, base, query) => this.list(kind, base, query),
		get: (kind, id, base) => this.render(this.live, kind, id, base),
		create: (kind, body, base) => (kind === 'user' ? this.createUser(body, base) : this.createGroup(body, base)),
		replace: (kind, id, body, base) =>
			kind === 'user' ? this.replaceUser(id, body, base) : this.replaceGroup(id, body, base),
		patch: (kind, id, body, base) => this.patch(kind, id, body, base),
		remove: (kind, id) => this.remove(kind, id)
	};

	private remove(kind: ResourceKind, id: string): void {
		if (kind === 'user') {
			if (!this.dir.people.has(id)) throw new ScimError(404, `no User "${id}"`);
			this.mutate(
				() => ({ people: [id], groups: this.groupsOf(id) }),
				() => {
					this.dir.apply({
						key: 'scim',
						side: 'a',
						step: STEP.peopleRemovals,
						type: 'remove-person',
						target: { id },
						soft: false,
						before: this.dir.people.get(id)!,
						beforeMembers: []
					});
					this.dropUser(id);
				}
			);
			this.sorted.people = undefined;
		} else {
			if (!this.dir.groups.has(id)) throw new ScimError(404, `no Group "${id}"`);
			this.mutate({ groups: [id] }, () => {
				this.dir.apply({
					key: 'scim',
					side: 'a',
					step: STEP.groupRemovals,
					type: 'remove-group',
					target: { id },
					before: this.dir.groups.get(id)!,
					beforeMembers: []
				});
				this.dropGroup(id);
			});
			this.sorted.groups = undefined;
		}
	}

	/**
	 * The members after a PATCH that only adds or removes members and sets managers (what the
	 * connector sends for each membership), computed without rendering the group: a membership
	 * change to a group of 100k people costs the change, not the group. Undefined for any other
	 * PATCH (the general path handles it, with the same result).
	 */
	private memberPatch(id: string, ops: readonly NormalizedOp[]): Map<string, Role> | undefined {
		if (!this.dir.groups.has(id)) return undefined;
		const members = new Map(this.dir.members.get(id) ?? []);
		// As the general path reads the group back: a manager is a member listed in `managers`, the
		// list as the operations leave it (one removed and added again in one PATCH is still listed).
		let managers = new Set([...members].filter(([, role]) => role === 'manager').map(([pid]) => pid));
		for (const { op, path, value } of ops) {
			if (!path || path.sub !== undefined) return undefined;
			const attr = path.attr.toLowerCase();
			const onMembers = !path.schema && attr === 'members';
			if (op === 'add' && onMembers && !path.filter) {
				const added = memberIds(value);
				if (!added) return undefined;
				for (const pid of added) {
					if (!this.dir.people.has(pid)) throw new ScimError(400, `members: no User "${pid}"`, 'invalidValue');
					if (!members.has(pid)) members.set(pid, 'member');
				}
			} else if (op === 'remove' && onMembers && path.filter) {
				const f = path.filter;
				if (f.op !== 'eq' || f.attrPath.toLowerCase() !== 'value' || typeof f.compValue !== 'string') return undefined;
				members.delete(f.compValue);
			} else if (op === 'remove' && onMembers && value !== undefined) {
				const removed = memberIds(value);
				if (!removed) return undefined;
				for (const pid of removed) members.delete(pid);
			} else if (
				op === 'replace' &&
				path.schema === GROUP_SCHEMAS.extensions[0] &&
				attr === 'managers' &&
				!path.filter &&
				Array.isArray(value) &&
				value.every((v) => typeof v === 'string')
			) {
				managers = new Set(value);
			} else {
				return undefined;
			}
		}
		for (const [pid] of members) members.set(pid, managers.has(pid) ? 'manager' : 'member');
		return members;
	}

	/** A record as SCIM, from the live directory or a read view. */
	private render(state: DirectoryState, kind: ResourceKind, id: string, base: string): Json {
		if (kind === 'user') {
			const p = state.person(id);
			if (!p) throw new ScimError(404, `no User "${id}"`);
			return renderUser(p.person, p.userName, p.meta, base);
		}
		const g = state.group(id);
		if (!g) throw new ScimError(404, `no Group "${id}"`);
		return renderGroup(g.group, g.members, (pid) => state.person(pid)?.person.displayName, g.meta, base);
	}

	/**
	 * One page of Users or Groups. A look-up by id or userName answers from the live indexes (one
	 * record, nothing to page); every other list is read through a read view, so its pages show one
	 * version of the directory however many writes land between them.
	 */
	private list(kind: ResourceKind, base: string, q: ListQuery): { body: Json; version: string } {
		const count = Math.min(MAX_RESULTS, q.count);
		const eq = q.filter && q.pin === undefined ? simpleEquality(q.filter) : undefined;
		if (eq && (eq.attr === 'id' || (eq.attr === 'username' && kind === 'user'))) {
			const hit = eq.attr === 'id' ? eq.value : this.byUserName.get(eq.value.toLowerCase());
			const ids = hit !== undefined && (kind === 'user' ? this.dir.people : this.dir.groups).has(hit) ? [hit] : [];
			const page = ids.slice(q.startIndex - 1, q.startIndex - 1 + count);
			const resources = page.map((id) => project(this.render(this.live, kind, id, base), q.attributes, q.excluded));
			return { body: listResponse(resources, ids.length, q.startIndex), version: this.views.version };
		}
		let page;
		try {
			page = this.views.page(`${kind} ${q.filterText ?? ''}`, q.startIndex, count, q.pin, (state) =>
				this.select(state, kind, base, q.filter)
			);
		} catch (e) {
			if (e instanceof ViewGoneError) throw new ScimError(412, e.message);
			throw e;
		}
		const resources = page.ids.map((id) => project(this.render(page.state, kind, id, base), q.attributes, q.excluded));
		return { body: listResponse(resources, page.total, q.startIndex), version: page.version };
	}

	/** The ids of `kind` in `state` that `filter` keeps, in id order. */
	private select(state: DirectoryState, kind: ViewKind, base: string, filter: Filter | undefined): readonly string[] {
		const ids = state.ids(kind);
		if (!filter) return ids;
		return ids.filter((id) => matches(this.render(state, kind, id, base), filter));
	}

	private checkSchemas(body: Json, core: string): void {
		if (body.schemas === undefined) return;
		if (!Array.isArray(body.schemas) || !body.schemas.includes(core))
			throw new ScimError(400, `schemas must include "${core}"`, 'invalidSyntax');
	}

	private readUserOrThrow(body: Json, id: string): { person: Person; userName: string } {
		const read = readUser(body, id, this.profile);
		if ('issues' in read)
			throw new ScimError(400, read.issues.map((i) => `${i.field}: ${i.message}`).join('; '), 'invalidValue');
		const holder = this.byUserName.get(read.userName.toLowerCase());
		if (holder !== undefined && holder !== id)
			throw new ScimError(409, `userName "${read.userName}" is already taken`, 'uniqueness');
		return read;
	}

	private createUser(body: Json, base: string): Json {
		this.checkSchemas(body, USER_SCHEMAS.core[0]);
		const id = crypto.randomUUID();
		const { person, userName } = this.readUserOrThrow(body, id);
		const { id: _drop, ...record } = person;
		this.mutate({}, () => {
			this.dir.apply({ key: 'scim', side: 'a', step: STEP.people, type: 'create-person', record, restoreId: id });
			this.putUser(person, userName);
		});
		this.sorted.people = undefined;
		return this.render(this.live, 'user', id, base);
	}

	private replaceUser(id: string, body: Json, base: string): Json {
		if (!this.dir.people.has(id)) throw new ScimError(404, `no User "${id}"`);
		this.checkSchemas(body, USER_SCHEMAS.core[0]);
		const { person, userName } = this.readUserOrThrow(body, id);
		this.mutate({ people: [id] }, () => {
			this.dir.people.set(id, person);
			this.putUser(person, userName);
		});
		return this.render(this.live, 'user', id, base);
	}

	private readGroupOrThrow(body: Json, id: string): { group: Group; members: Map<string, Role> } {
		const read = readGroup(body, id, this.profile);
		if ('issues' in read)
			throw new ScimError(400, read.issues.map((i) => `${i.field}: ${i.message}`).join('; '), 'invalidValue');
		const missing = [...read.members.keys()].filter((pid) => !this.dir.people.has(pid));
		if (missing.length > 0)
			throw new ScimError(
				400,
				`members: no User ${missing
					.slice(0, 5)
					.map((m) => `"${m}"`)
					.join(', ')}${missing.length > 5 ? ', …' : ''}`,
				'invalidValue'
			);
		return read;
	}

	private createGroup(body: Json, base: string): Json {
		this.checkSchemas(body, GROUP_SCHEMAS.core[0]);
		const id = crypto.randomUUID();
		const { group, members } = this.readGroupOrThrow(body, id);
		const { id: _drop, ...record } = group;
		this.mutate({}, () => {
			this.dir.apply({ key: 'scim', side: 'a', step: STEP.groups, type: 'create-group', record, restoreId: id });
			this.putGroup(group);
			this.setMembers(id, members);
		});
		this.sorted.groups = undefined;
		return this.render(this.live, 'group', id, base);
	}

	private replaceGroup(id: string, body: Json, base: string): Json {
		this.writeGroup(id, body);
		return this.render(this.live, 'group', id, base);
	}

	private writeGroup(id: string, body: Json): void {
		if (!this.dir.groups.has(id)) throw new ScimError(404, `no Group "${id}"`);
		this.checkSchemas(body, GROUP_SCHEMAS.core[0]);
		const { group, members } = this.readGroupOrThrow(body, id);
		this.mutate({ groups: [id] }, () => {
			this.dir.groups.set(id, group);
			this.putGroup(group);
			this.setMembers(id, members);
		});
	}

	/** The patched resource; undefined for a group (a 204: a large group's members are not sent back for one change). */
	private patch(kind: ResourceKind, id: string, body: Json, base: string): Json | undefined {
		if (
			body.schemas !== undefined &&
			!(Array.isArray(body.schemas) && body.schemas.includes('urn:ietf:params:scim:api:messages:2.0:PatchOp'))
		) {
			throw new ScimError(400, 'schemas must include "urn:ietf:params:scim:api:messages:2.0:PatchOp"', 'invalidSyntax');
		}
		const schemaSet = kind === 'user' ? USER_SCHEMAS : GROUP_SCHEMAS;
		const ops = normalizePatch(body.Operations ?? body.operations, schemaSet);
		if (kind === 'group') {
			const members = this.memberPatch(id, ops);
			if (members) {
				this.mutate({ groups: [id] }, () => {
					this.setMembers(id, members);
					this.putGroup(this.dir.groups.get(id)!);
				});
				return undefined;
			}
		}
		const patched = applyOperations(this.render(this.live, kind, id, base), ops);
		if (kind === 'user') return this.replaceUser(id, patched, base);
		this.writeGroup(id, patched);
		return undefined;
	}
}

/** The person ids of a members value (`[{ value: id }]`, users only), else undefined. */
function memberIds(value: unknown): string[] | undefined {
	if (!Array.isArray(value)) return undefined;
	const ids: string[] = [];
	for (const m of value) {
		if (!m || typeof m !== 'object') return undefined;
		const { value: id, type } = m as Json;
		if (typeof id !== 'string' || (type !== undefined && String(type).toLowerCase() !== 'user')) return undefined;
		ids.push(id);
	}
	return ids;
}
