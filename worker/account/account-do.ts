import { DurableObject } from 'cloudflare:workers';
import type { ConnectorKind } from '$lib/core/model';
import type { CsvColumns } from '../connectors/csv';
import { readHeader, type SavedColumns } from '$lib/api/csv-columns';
import type { Env } from '../env';
import type { Role as AccountRole } from '$lib/api/types';
import { randomToken, sha256Hex } from '../crypto';
import type { IssuedToken, PeopleMap, SnapshotSummary, SystemView, TokenView } from '$lib/api/types';
import {
	blockedUntil,
	codeView,
	createSignInTables,
	newCode,
	noteFailure,
	type IssuedSignInCode,
	type RedeemRefusal,
	type SignInCodeView
} from './sign-in-codes';

/** The one AccountDO instance of this deployment. */
export const ACCOUNT_NAME = 'account';

/** The account's Durable Object stub (one instance, named "account"). */
export const account = (env: Pick<Env, 'ACCOUNT'>): DurableObjectStub<AccountDO> => env.ACCOUNT.getByName(ACCOUNT_NAME);

// The API's shapes are the browser client's: one definition, so the two cannot drift apart.
export type { IssuedToken, SnapshotSummary, SystemView, TokenView };

/** What a system is created with; `credentials` is already sealed (see worker/crypto.ts). */
export interface NewSystemRecord {
	id: string;
	name: string;
	connector: ConnectorKind;
	baseUrl: string;
	region: string;
	/** Custom field name -> SCIM attribute path (scim and sandbox systems). */
	fieldMap?: Record<string, string>;
	/** Where buildings and member type are read from (see worker/connectors/people-map.ts). */
	peopleMap?: PeopleMap;
	sealedCredentials?: string;
}

export interface SystemPatch {
	name?: string;
	baseUrl?: string;
	region?: string;
	fieldMap?: Record<string, string>;
	/** Replaces the people map; an empty one returns to where Rostersync reads by default. */
	peopleMap?: PeopleMap;
	/** A new sealed value; null removes the credentials. */
	sealedCredentials?: string | null;
}

/** Everything connect.ts needs to build a system's connector (server side only). */
export interface SystemConnection {
	system: SystemView;
	fieldMap: Record<string, string>;
	peopleMap?: PeopleMap;
	sealedCredentials?: string;
	/** csv systems: the stored upload, if any. */
	csv?: { text: string; columns: CsvColumns };
}

export interface LinkIndexEntry {
	id: string;
	a: string;
	b: string;
}

export type DeleteSystemResult =
	{ status: 'deleted' } | { status: 'not-found' } | { status: 'in-use'; links: string[] };

type Row = Record<string, string | number | null>;

/** Text stored per row of an upload: well under SQLite's 2 MB per value, even in UTF-8. */
const CSV_PART_CHARS = 512 * 1024;
/** lastUsedAt is written at most this often per token. */
const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * The account: bearer tokens (as SHA-256 digests), connected systems (credentials sealed by the
 * caller; this object never sees a key or a plaintext credential), uploaded CSV exports, and the
 * index of links (so the API can list them and the cron can fan out to each LinkDO).
 *
 * Tables are created with IF NOT EXISTS: a new column or table is added the same way, never by
 * editing an existing statement.
 */
export class AccountDO extends DurableObject<Env> {
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		ctx.blockConcurrencyWhile(async () => {
			const sql = this.ctx.storage.sql;
			sql.exec(`CREATE TABLE IF NOT EXISTS tokens (
				id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
				created_at TEXT NOT NULL, last_used_at TEXT, revoked_at TEXT)`);
			sql.exec(`CREATE TABLE IF NOT EXISTS systems (
				id TEXT PRIMARY KEY, name TEXT NOT NULL, connector TEXT NOT NULL, base_url TEXT NOT NULL,
				region TEXT NOT NULL, created_at TEXT NOT NULL, credentials TEXT, field_map TEXT,
				last_snapshot TEXT, csv_columns TEXT)`);
			sql.exec(`CREATE TABLE IF NOT EXISTS csv_parts (
				system_id TEXT NOT NULL, part INTEGER NOT NULL, text TEXT NOT NULL, PRIMARY KEY (system_id, part))`);
			sql.exec(
				`CREATE TABLE IF NOT EXISTS links (id TEXT PRIMARY KEY, a TEXT NOT NULL, b TEXT NOT NULL, created_at TEXT NOT NULL)`
			);
			// Which system each auto-membership rule lives on (its RulesDO holds everything else).
			sql.exec(`CREATE TABLE IF NOT EXISTS rule_index (id TEXT PRIMARY KEY, system_id TEXT NOT NULL)`);
			// Each system's people map (where buildings and member type are read), as JSON.
			sql.exec(`CREATE TABLE IF NOT EXISTS people_maps (system_id TEXT PRIMARY KEY, map TEXT NOT NULL)`);
			createSignInTables(sql);
		});
	}

	private rows(query: string, ...bindings: unknown[]): Row[] {
		return this.ctx.storage.sql.exec<Row>(query, ...bindings).toArray();
	}

	// ---- tokens -------------------------------------------------------------------------------

	/** Issues a token: 32 random bytes (base64url), stored as its SHA-256 digest only. */
	async issueToken(input: { name: string; role: AccountRole }): Promise<IssuedToken> {
		const token = randomToken(32);
		const issued: IssuedToken = {
			id: `tok_${randomToken(9)}`,
			name: input.name,
			role: input.role,
			createdAt: new Date().toISOString(),
			token
		};
		this.ctx.storage.sql.exec(
			'INSERT INTO tokens (id, name, role, hash, created_at) VALUES (?, ?, ?, ?, ?)',
			issued.id,
			issued.name,
			issued.role,
			await sha256Hex(token),
			issued.createdAt
		);
		return issued;
	}

	/**
	 * The first owner token, for the local first start: null while an active owner token exists.
	 * One call checks and creates, so two racing first starts cannot both get one.
	 */
	async bootstrapOwner(): Promise<IssuedToken | null> {
		if (await this.hasOwner()) return null;
		return this.issueToken({ name: 'local owner', role: 'owner' });
	}

	/** True when a token with the owner role is active. */
	async hasOwner(): Promise<boolean> {
		return this.rows("SELECT 1 FROM tokens WHERE role = 'owner' AND revoked_at IS NULL LIMIT 1").length > 0;
	}

	async listTokens(): Promise<TokenView[]> {
		return this.rows('SELECT * FROM tokens ORDER BY created_at, id').map(tokenView);
	}

	/**
	 * Revokes a token (revoking twice keeps the first time). The last active owner token is kept
	 * unless `allowLastOwner` (another way in exists, e.g. Cloudflare Access): an account without
	 * an owner could never issue a token again.
	 */
	async revokeToken(id: string, allowLastOwner = false): Promise<'revoked' | 'not-found' | 'last-owner'> {
		const found = this.rows('SELECT role, revoked_at FROM tokens WHERE id = ?', id)[0];
		if (!found) return 'not-found';
		if (found.revoked_at !== null) return 'revoked';
		if (found.role === 'owner' && !allowLastOwner) {
			const owners = this.rows("SELECT COUNT(*) AS n FROM tokens WHERE role = 'owner' AND revoked_at IS NULL")[0];
			if (Number(owners.n) <= 1) return 'last-owner';
		}
		this.ctx.storage.sql.exec('UPDATE tokens SET revoked_at = ? WHERE id = ?', new Date().toISOString(), id);
		return 'revoked';
	}

	/** The active token with this SHA-256 digest (and marks it used), or null. */
	async authenticateToken(hash: string, now: string): Promise<{ id: string; name: string; role: AccountRole } | null> {
		const row = this.rows(
			'SELECT id, name, role, last_used_at FROM tokens WHERE hash = ? AND revoked_at IS NULL',
			hash
		)[0];
		if (!row) return null;
		const last = row.last_used_at === null ? 0 : Date.parse(String(row.last_used_at));
		if (Date.parse(now) - last >= LAST_USED_RESOLUTION_MS)
			this.ctx.storage.sql.exec('UPDATE tokens SET last_used_at = ? WHERE id = ?', now, row.id);
		return { id: String(row.id), name: String(row.name), role: row.role as AccountRole };
	}

	// ---- sign-in codes (worker/account/sign-in-codes.ts) ----------------------------------------

	/** Issues a one-time sign-in code for `role`, valid `minutes` from `now`; stored as its digest. */
	async issueSignInCode(
		input: { name: string; role: AccountRole; createdBy: string; minutes: number },
		now: number
	): Promise<IssuedSignInCode> {
		const code = newCode();
		const issued: IssuedSignInCode = {
			id: `sic_${randomToken(9)}`,
			name: input.name,
			role: input.role,
			createdAt: new Date(now).toISOString(),
			expiresAt: new Date(now + input.minutes * 60_000).toISOString(),
			code
		};
		this.ctx.storage.sql.exec(
			'INSERT INTO sign_in_codes (id, hash, name, role, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
			issued.id,
			await sha256Hex(code),
			issued.name,
			issued.role,
			input.createdBy,
			issued.createdAt,
			issued.expiresAt
		);
		return issued;
	}

	/** The codes issued, newest first (the last 50): waiting, used or expired. */
	async listSignInCodes(): Promise<SignInCodeView[]> {
		return this.rows('SELECT * FROM sign_in_codes ORDER BY created_at DESC, id LIMIT 50').map(codeView);
	}

	/**
	 * Exchanges a code (by its digest; undefined for input that cannot be a code) for a new bearer
	 * token with the code's name and role. The check and the use are one synchronous transaction,
	 * so two exchanges of one code cannot both succeed. Every refusal but the rate limit counts as
	 * a failure of `client`.
	 */
	async redeemSignInCode(
		hash: string | undefined,
		client: string,
		now: number
	): Promise<{ ok: true; token: IssuedToken } | { ok: false; reason: RedeemRefusal; retryAfter?: number }> {
		// Made before the transaction: nothing may wait between the check and the use.
		const token = randomToken(32);
		const tokenHash = await sha256Hex(token);
		const tokenId = `tok_${randomToken(9)}`;
		const sql = this.ctx.storage.sql;
		return this.ctx.storage.transactionSync(() => {
			const until = blockedUntil(sql, client, now);
			if (until !== undefined)
				return { ok: false as const, reason: 'rate-limited' as const, retryAfter: Math.ceil((until - now) / 1000) };
			const row = hash === undefined ? undefined : this.rows('SELECT * FROM sign_in_codes WHERE hash = ?', hash)[0];
			const reason: RedeemRefusal | undefined = !row
				? 'unknown'
				: row.used_at !== null
					? 'used'
					: Date.parse(String(row.expires_at)) <= now
						? 'expired'
						: undefined;
			if (reason || !row) {
				noteFailure(sql, client, now);
				return { ok: false as const, reason: reason ?? 'unknown' };
			}
			const at = new Date(now).toISOString();
			const issued: IssuedToken = {
				id: tokenId,
				name: String(row.name),
				role: row.role as AccountRole,
				createdAt: at,
				token
			};
			sql.exec(
				'INSERT INTO tokens (id, name, role, hash, created_at) VALUES (?, ?, ?, ?, ?)',
				issued.id,
				issued.name,
				issued.role,
				tokenHash,
				at
			);
			sql.exec('UPDATE sign_in_codes SET used_at = ?, token_id = ? WHERE id = ?', at, issued.id, row.id);
			return { ok: true as const, token: issued };
		});
	}

	// ---- systems ------------------------------------------------------------------------------

	/** Creates a system; null when the id is taken. */
	async createSystem(input: NewSystemRecord): Promise<SystemView | null> {
		if (this.rows('SELECT 1 FROM systems WHERE id = ?', input.id).length > 0) return null;
		this.ctx.storage.sql.exec(
			'INSERT INTO systems (id, name, connector, base_url, region, created_at, credentials, field_map) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
			input.id,
			input.name,
			input.connector,
			input.baseUrl,
			input.region,
			new Date().toISOString(),
			input.sealedCredentials ?? null,
			input.fieldMap && Object.keys(input.fieldMap).length > 0 ? JSON.stringify(input.fieldMap) : null
		);
		if (input.peopleMap) this.setPeopleMap(input.id, input.peopleMap);
		return this.getSystem(input.id);
	}

	async getSystem(id: string): Promise<SystemView | null> {
		const row = this.rows('SELECT * FROM systems WHERE id = ?', id)[0];
		return row ? this.withPeopleMap(systemView(row)) : null;
	}

	async listSystems(): Promise<SystemView[]> {
		return this.rows('SELECT * FROM systems ORDER BY created_at, id').map((r) => this.withPeopleMap(systemView(r)));
	}

	private peopleMap(id: string): PeopleMap | undefined {
		const row = this.rows('SELECT map FROM people_maps WHERE system_id = ?', id)[0];
		return row ? (JSON.parse(String(row.map)) as PeopleMap) : undefined;
	}

	private withPeopleMap(view: SystemView): SystemView {
		const map = this.peopleMap(view.id);
		return map ? { ...view, peopleMap: map } : view;
	}

	private setPeopleMap(id: string, map: PeopleMap): void {
		if (Object.keys(map).length === 0) this.ctx.storage.sql.exec('DELETE FROM people_maps WHERE system_id = ?', id);
		else
			this.ctx.storage.sql.exec(
				'INSERT INTO people_maps (system_id, map) VALUES (?, ?) ON CONFLICT(system_id) DO UPDATE SET map = excluded.map',
				id,
				JSON.stringify(map)
			);
	}

	async updateSystem(id: string, patch: SystemPatch): Promise<SystemView | null> {
		const row = this.rows('SELECT * FROM systems WHERE id = ?', id)[0];
		if (!row) return null;
		const sets: string[] = [];
		const values: unknown[] = [];
		const set = (column: string, value: unknown) => {
			sets.push(`${column} = ?`);
			values.push(value);
		};
		if (patch.name !== undefined) set('name', patch.name);
		if (patch.baseUrl !== undefined) set('base_url', patch.baseUrl);
		if (patch.region !== undefined) set('region', patch.region);
		if (patch.fieldMap !== undefined)
			set('field_map', Object.keys(patch.fieldMap).length > 0 ? JSON.stringify(patch.fieldMap) : null);
		if (patch.sealedCredentials !== undefined) set('credentials', patch.sealedCredentials);
		if (patch.peopleMap !== undefined) this.setPeopleMap(id, patch.peopleMap);
		if (sets.length > 0) this.ctx.storage.sql.exec(`UPDATE systems SET ${sets.join(', ')} WHERE id = ?`, ...values, id);
		return this.getSystem(id);
	}

	/** Deletes a system and its upload; refused while a link uses it. */
	async deleteSystem(id: string): Promise<DeleteSystemResult> {
		if (this.rows('SELECT 1 FROM systems WHERE id = ?', id).length === 0) return { status: 'not-found' };
		const links = this.rows('SELECT id FROM links WHERE a = ? OR b = ? ORDER BY id', id, id).map((r) => String(r.id));
		if (links.length > 0) return { status: 'in-use', links };
		this.ctx.storage.transactionSync(() => {
			this.ctx.storage.sql.exec('DELETE FROM csv_parts WHERE system_id = ?', id);
			this.ctx.storage.sql.exec('DELETE FROM people_maps WHERE system_id = ?', id);
			this.ctx.storage.sql.exec('DELETE FROM systems WHERE id = ?', id);
		});
		return { status: 'deleted' };
	}

	/**
	 * What shapes a system's snapshot besides its records (its connector, field map and people map),
	 * in one call and without its credentials or upload: the snapshot route's version probe asks it
	 * on every request, each call a turn on a busy isolate.
	 */
	async snapshotShape(
		id: string
	): Promise<{ connector: ConnectorKind; fieldMap: Record<string, string>; peopleMap: PeopleMap | null } | null> {
		const row = this.rows('SELECT connector, field_map FROM systems WHERE id = ?', id)[0];
		if (!row) return null;
		return {
			connector: row.connector as ConnectorKind,
			fieldMap: fieldMapOf(row),
			peopleMap: this.peopleMap(id) ?? null
		};
	}

	/** The system, its sealed credentials and its upload: for connect.ts only, never for a response. */
	async getConnection(id: string): Promise<SystemConnection | null> {
		const row = this.rows('SELECT * FROM systems WHERE id = ?', id)[0];
		if (!row) return null;
		const connection: SystemConnection = {
			system: systemView(row),
			fieldMap: fieldMapOf(row),
			peopleMap: this.peopleMap(id)
		};
		if (row.credentials !== null) connection.sealedCredentials = String(row.credentials);
		if (row.csv_columns !== null) {
			const parts = this.rows('SELECT text FROM csv_parts WHERE system_id = ? ORDER BY part', id);
			connection.csv = {
				text: parts.map((p) => String(p.text)).join(''),
				columns: JSON.parse(String(row.csv_columns))
			};
		}
		return connection;
	}

	/** Stores a validated CSV upload (in parts) with its column map; its summary becomes the last snapshot. */
	async putCsv(id: string, text: string, columns: CsvColumns, summary: SnapshotSummary): Promise<boolean> {
		if (this.rows('SELECT 1 FROM systems WHERE id = ?', id).length === 0) return false;
		this.ctx.storage.transactionSync(() => {
			const sql = this.ctx.storage.sql;
			sql.exec('DELETE FROM csv_parts WHERE system_id = ?', id);
			for (let at = 0, part = 0; at < text.length; part++) {
				let end = Math.min(at + CSV_PART_CHARS, text.length);
				// Never between the halves of a surrogate pair: each half alone is stored as U+FFFD,
				// and an emoji on a part boundary would come back as two replacement characters.
				const last = text.charCodeAt(end - 1);
				if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
				sql.exec('INSERT INTO csv_parts (system_id, part, text) VALUES (?, ?, ?)', id, part, text.slice(at, end));
				at = end;
			}
			sql.exec(
				'UPDATE systems SET csv_columns = ?, last_snapshot = ? WHERE id = ?',
				JSON.stringify(columns),
				JSON.stringify(summary),
				id
			);
		});
		return true;
	}

	/**
	 * A csv system's column map from its last upload, with that file's header row (read from the
	 * stored file's first part, where the header is), or null before the first upload.
	 */
	async csvColumns(id: string): Promise<SavedColumns | null> {
		const row = this.rows('SELECT csv_columns FROM systems WHERE id = ?', id)[0];
		if (!row || row.csv_columns === null) return null;
		const first = this.rows('SELECT text FROM csv_parts WHERE system_id = ? AND part = 0', id)[0];
		return { columns: JSON.parse(String(row.csv_columns)), header: first ? readHeader(String(first.text)) : [] };
	}

	/** Records the counts and version of a snapshot just read (shown as `lastSnapshot`). */
	async recordSnapshot(id: string, summary: SnapshotSummary): Promise<void> {
		this.ctx.storage.sql.exec('UPDATE systems SET last_snapshot = ? WHERE id = ?', JSON.stringify(summary), id);
	}

	// ---- links index --------------------------------------------------------------------------

	/** Records a link between systems `a` and `b` (the LinkDO holds everything else). Idempotent. */
	async addLink(id: string, systems: { a: string; b: string }): Promise<void> {
		this.ctx.storage.sql.exec(
			'INSERT INTO links (id, a, b, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET a = excluded.a, b = excluded.b',
			id,
			systems.a,
			systems.b,
			new Date().toISOString()
		);
	}

	/** Whether link `id` exists: asked before a Durable Object is named by an id a caller chose. */
	async hasLink(id: string): Promise<boolean> {
		return this.rows('SELECT 1 FROM links WHERE id = ?', id).length > 0;
	}

	async removeLink(id: string): Promise<void> {
		this.ctx.storage.sql.exec('DELETE FROM links WHERE id = ?', id);
	}

	// ---- rules index --------------------------------------------------------------------------

	/** Records that rule `id` lives on system `systemId` (the system's RulesDO holds the rule). */
	async indexRule(id: string, systemId: string): Promise<void> {
		this.ctx.storage.sql.exec(
			'INSERT INTO rule_index (id, system_id) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET system_id = excluded.system_id',
			id,
			systemId
		);
	}

	async unindexRule(id: string): Promise<void> {
		this.ctx.storage.sql.exec('DELETE FROM rule_index WHERE id = ?', id);
	}

	/** The system a rule lives on, or null. */
	async ruleSystem(id: string): Promise<string | null> {
		const row = this.rows('SELECT system_id FROM rule_index WHERE id = ?', id)[0];
		return row ? String(row.system_id) : null;
	}

	/** Systems with at least one rule (the cron applies their rules hourly). */
	async ruleSystems(): Promise<string[]> {
		return this.rows('SELECT DISTINCT system_id FROM rule_index ORDER BY system_id').map((r) => String(r.system_id));
	}

	/** Every link, oldest first. */
	async listLinks(): Promise<LinkIndexEntry[]> {
		return this.rows('SELECT id, a, b FROM links ORDER BY created_at, id').map((r) => ({
			id: String(r.id),
			a: String(r.a),
			b: String(r.b)
		}));
	}
}

function tokenView(row: Row): TokenView {
	const view: TokenView = {
		id: String(row.id),
		name: String(row.name),
		role: row.role as AccountRole,
		createdAt: String(row.created_at)
	};
	if (row.last_used_at !== null) view.lastUsedAt = String(row.last_used_at);
	if (row.revoked_at !== null) view.revokedAt = String(row.revoked_at);
	return view;
}

/** A system row's custom field map (none stored: empty). */
const fieldMapOf = (row: Row): Record<string, string> => (row.field_map ? JSON.parse(String(row.field_map)) : {});

function systemView(row: Row): SystemView {
	const view: SystemView = {
		id: String(row.id),
		name: String(row.name),
		connector: row.connector as ConnectorKind,
		baseUrl: String(row.base_url),
		region: String(row.region),
		createdAt: String(row.created_at),
		hasCredentials: row.credentials !== null
	};
	if (row.last_snapshot !== null) view.lastSnapshot = JSON.parse(String(row.last_snapshot));
	return view;
}
