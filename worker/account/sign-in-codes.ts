/**
 * One-time sign-in codes: what a sign-in link or QR code carries, exchanged once for a bearer
 * token (docs/api.md, "Sign-in links"). A code is short-lived, used at most once, and stored only
 * as its SHA-256 digest; failed exchanges are counted per client and for the whole account, so
 * guessing codes stops long before it could succeed. The AccountDO wires its SQLite into these.
 */
import type { Role } from '$lib/api/types';
import { CODE_ALPHABET, CODE_LENGTH, type SignInCodeView } from '$lib/api/sign-in';

export {
	CODE_MINUTES,
	groupCode,
	normalizeCode,
	type IssuedSignInCode,
	type RedeemRefusal,
	type SignInCodeView
} from '$lib/api/sign-in';

/**
 * Failed exchanges allowed within a window before further attempts are refused (429) until it
 * ends: per client (its address), and for the account as a whole against many addresses.
 */
export const FAILURE_LIMITS = { windowMs: 10 * 60_000, perClient: 10, overall: 100 } as const;

/** A new code: `CODE_LENGTH` characters of the alphabet (256 is a multiple of 32: no bias). */
export function newCode(): string {
	const bytes = crypto.getRandomValues(new Uint8Array(CODE_LENGTH));
	return [...bytes].map((b) => CODE_ALPHABET[b % 32]).join('');
}

type Row = Record<string, string | number | null>;

/** The tables (created IF NOT EXISTS, like the account's others). */
export function createSignInTables(sql: SqlStorage): void {
	sql.exec(`CREATE TABLE IF NOT EXISTS sign_in_codes (
		id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, name TEXT NOT NULL, role TEXT NOT NULL,
		created_by TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL,
		used_at TEXT, token_id TEXT)`);
	sql.exec(`CREATE TABLE IF NOT EXISTS sign_in_failures (
		client TEXT PRIMARY KEY, window_start INTEGER NOT NULL, failures INTEGER NOT NULL)`);
}

/** The account-wide counter's key in sign_in_failures (a client key is an address, never this). */
const OVERALL = '*';

export function codeView(row: Row): SignInCodeView {
	const view: SignInCodeView = {
		id: String(row.id),
		name: String(row.name),
		role: row.role as Role,
		createdBy: String(row.created_by),
		createdAt: String(row.created_at),
		expiresAt: String(row.expires_at)
	};
	if (row.used_at !== null) view.usedAt = String(row.used_at);
	if (row.token_id !== null) view.tokenId = String(row.token_id);
	return view;
}

/**
 * When the client may try again (epoch ms), or undefined when it may try now: its own failures or
 * the account's have reached their limit within the current window.
 */
export function blockedUntil(sql: SqlStorage, client: string, now: number): number | undefined {
	let until: number | undefined;
	for (const [key, limit] of [
		[client, FAILURE_LIMITS.perClient],
		[OVERALL, FAILURE_LIMITS.overall]
	] as const) {
		const row = sql.exec<Row>('SELECT window_start, failures FROM sign_in_failures WHERE client = ?', key).toArray()[0];
		if (!row) continue;
		const end = Number(row.window_start) + FAILURE_LIMITS.windowMs;
		if (end > now && Number(row.failures) >= limit) until = Math.max(until ?? 0, end);
	}
	return until;
}

/** Counts one failed exchange for the client and for the account (a new window once one ended). */
export function noteFailure(sql: SqlStorage, client: string, now: number): void {
	for (const key of [client, OVERALL]) {
		sql.exec(
			`INSERT INTO sign_in_failures (client, window_start, failures) VALUES (?, ?, 1)
			 ON CONFLICT(client) DO UPDATE SET
			   failures = CASE WHEN window_start + ? <= excluded.window_start THEN 1 ELSE failures + 1 END,
			   window_start = CASE WHEN window_start + ? <= excluded.window_start THEN excluded.window_start ELSE window_start END`,
			key,
			now,
			FAILURE_LIMITS.windowMs,
			FAILURE_LIMITS.windowMs
		);
	}
	// Old windows say nothing any more: keep the table to the clients of the current one.
	sql.exec('DELETE FROM sign_in_failures WHERE window_start + ? <= ?', FAILURE_LIMITS.windowMs, now);
}
