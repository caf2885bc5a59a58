/**
 * Cloudflare Access: every request behind Access carries a `Cf-Access-Jwt-Assertion` header, an
 * RS256 JWT signed by the team's keys (JWKS at `https://<team>/cdn-cgi/access/certs`). It is
 * verified with WebCrypto (signature, aud, iss, exp, nbf) and its email mapped to a role.
 */
import { base64urlDecode } from '../crypto';
import { deadline, readBody } from '../connectors/wire';
import { isAccountRole, type AccountRole } from './roles';

export interface AccessConfig {
	/** `https://<team>.cloudflareaccess.com`, no trailing slash: also the expected `iss`. */
	issuer: string;
	/** The application's AUD tag. */
	audience: string;
	/** email (lower-cased) -> role */
	roles: Record<string, AccountRole>;
	/** Role of anyone else; null refuses them. */
	defaultRole: AccountRole | null;
}

/** Why an assertion was refused. Messages name the check, never the token. */
export class AccessError extends Error {
	constructor(
		message: string,
		/** 401: not a valid identity; 403: valid, but no role here. */
		readonly status: 401 | 403 = 401
	) {
		super(message);
		this.name = 'AccessError';
	}
}

export interface AccessIdentity {
	subject: string;
	role: AccountRole;
}

export interface AccessDeps {
	fetch: (url: string, init?: { signal?: AbortSignal }) => Promise<Response>;
	/** Epoch milliseconds. */
	now: () => number;
}

const defaultDeps: AccessDeps = { fetch: (url, init) => globalThis.fetch(url, init), now: () => Date.now() };

/** Seconds of clock skew tolerated on exp and nbf. */
const LEEWAY_SECONDS = 60;
/** How long fetched keys are reused. */
const JWKS_TTL_MS = 10 * 60 * 1000;

/**
 * Reads the Access settings from the environment: undefined when Access is not configured
 * (ACCESS_TEAM_DOMAIN or ACCESS_AUD unset). A malformed ACCESS_ROLES throws: better no access
 * than the wrong roles.
 */
export function accessConfig(env: {
	ACCESS_TEAM_DOMAIN?: string;
	ACCESS_AUD?: string;
	ACCESS_ROLES?: string;
	ACCESS_DEFAULT_ROLE?: string;
}): AccessConfig | undefined {
	const team = env.ACCESS_TEAM_DOMAIN?.trim();
	const audience = env.ACCESS_AUD?.trim();
	if (!team || !audience) return undefined;
	const host = team.replace(/^https?:\/\//, '').replace(/\/+$/, '');
	const roles: Record<string, AccountRole> = {};
	if (env.ACCESS_ROLES?.trim()) {
		let parsed: unknown;
		try {
			parsed = JSON.parse(env.ACCESS_ROLES);
		} catch {
			throw new AccessError('ACCESS_ROLES is not valid JSON', 401);
		}
		if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
			throw new AccessError('ACCESS_ROLES must be a JSON object of email to role', 401);
		for (const [email, role] of Object.entries(parsed)) {
			if (!isAccountRole(role)) throw new AccessError(`ACCESS_ROLES gives "${email}" an unknown role`, 401);
			roles[email.trim().toLowerCase()] = role;
		}
	}
	const fallback = env.ACCESS_DEFAULT_ROLE?.trim().toLowerCase() || 'viewer';
	if (fallback !== 'none' && !isAccountRole(fallback))
		throw new AccessError('ACCESS_DEFAULT_ROLE must be owner, reviewer, viewer or none', 401);
	return { issuer: `https://${host}`, audience, roles, defaultRole: fallback === 'none' ? null : fallback };
}

interface Jwk {
	kid?: string;
	kty: string;
	n?: string;
	e?: string;
	alg?: string;
}

type KeySet = Map<string, Promise<CryptoKey>>;

/**
 * A fetch of a team's keys, shared by every request that needs it (concurrent ones included).
 * `unknownAt`: when it was made because a key id was unknown, for the cooldown below.
 */
interface KeyFetch {
	at: number;
	keys: Promise<KeySet>;
	unknownAt?: number;
}

const jwksCache = new Map<string, KeyFetch>();

/**
 * After fetching the keys for an unknown key id, another unknown id waits this long before the
 * keys are fetched again (jose's remote key sets wait the same): assertions with made-up key ids
 * cost one fetch per 30 s, not one per request. A real rotation publishes the new key first.
 */
const UNKNOWN_KEY_COOLDOWN_MS = 30_000;

/** A team's JWKS is a few keys: a few KB. Fetched within 10 s, or the request is refused. */
const JWKS_LIMITS = { timeoutMs: 10_000, maxBytes: 256 * 1024 };

async function fetchKeys(url: string, deps: AccessDeps): Promise<Map<string, Promise<CryptoKey>>> {
	const limit = deadline(JWKS_LIMITS.timeoutMs);
	let text: string;
	try {
		const response = await deps.fetch(url, { signal: limit.signal }).catch(() => {
			throw new AccessError('the Access signing keys could not be fetched', 401);
		});
		if (!response.ok) throw new AccessError(`the Access signing keys could not be fetched (${response.status})`, 401);
		({ text } = await readBody(response, {
			maxBytes: JWKS_LIMITS.maxBytes,
			over: 'refuse',
			signal: limit.signal
		}).catch(() => {
			throw new AccessError('the Access signing keys could not be read (too large, or too slow)', 401);
		}));
	} finally {
		limit.clear();
	}
	let body: { keys?: Jwk[] } | undefined;
	try {
		body = JSON.parse(text);
	} catch {
		body = undefined;
	}
	const keys = new Map<string, Promise<CryptoKey>>();
	for (const jwk of body?.keys ?? []) {
		if (jwk.kty !== 'RSA' || !jwk.kid || !jwk.n || !jwk.e) continue;
		const { kid, kty, n, e } = jwk;
		const imported = crypto.subtle.importKey(
			'jwk',
			{ kty, n, e, alg: 'RS256', ext: true },
			{ name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
			false,
			['verify']
		);
		imported.catch(() => {});
		keys.set(kid, imported);
	}
	return keys;
}

/** Starts a fetch of the keys at `url` that the next requests share; a failed one is not kept. */
function startFetch(url: string, deps: AccessDeps, unknown: boolean): KeyFetch {
	const now = deps.now();
	const started: KeyFetch = { at: now, keys: fetchKeys(url, deps), ...(unknown ? { unknownAt: now } : {}) };
	jwksCache.set(url, started);
	started.keys.catch(() => jwksCache.get(url) === started && jwksCache.delete(url));
	return started;
}

/**
 * The key `kid` from the team's JWKS; fetched again when unknown (keys rotate), at most once per
 * UNKNOWN_KEY_COOLDOWN_MS.
 */
async function keyFor(issuer: string, kid: string, deps: AccessDeps): Promise<CryptoKey> {
	const url = `${issuer}/cdn-cgi/access/certs`;
	let current = jwksCache.get(url);
	if (!current || deps.now() - current.at > JWKS_TTL_MS) current = startFetch(url, deps, false);
	let keys = await current.keys;
	if (!keys.has(kid)) {
		const latest = jwksCache.get(url);
		// Another request fetched them again meanwhile: its keys are the newest there are.
		if (latest && latest !== current) keys = await latest.keys;
		else if (current.unknownAt === undefined || deps.now() - current.unknownAt >= UNKNOWN_KEY_COOLDOWN_MS)
			keys = await startFetch(url, deps, true).keys;
	}
	const key = keys.get(kid);
	if (!key) throw new AccessError('the assertion is signed with an unknown key', 401);
	return key;
}

/** Forgets fetched keys (tests; a key rotation is handled by the refetch on an unknown kid). */
export function clearAccessKeys(): void {
	jwksCache.clear();
}

function decodePart(part: string, what: string): Record<string, unknown> {
	try {
		const value = JSON.parse(new TextDecoder().decode(base64urlDecode(part)));
		if (value && typeof value === 'object' && !Array.isArray(value)) return value;
	} catch {
		// fall through
	}
	throw new AccessError(`the assertion's ${what} is not valid`, 401);
}

/** Verifies an Access assertion and maps it to an identity with a role. */
export async function verifyAccessJwt(
	token: string,
	config: AccessConfig,
	deps: AccessDeps = defaultDeps
): Promise<AccessIdentity> {
	const parts = token.split('.');
	if (parts.length !== 3) throw new AccessError('the assertion is not a JWT', 401);
	const [headerPart, payloadPart, signaturePart] = parts;
	const header = decodePart(headerPart, 'header');
	if (header.alg !== 'RS256') throw new AccessError('the assertion is not signed with RS256', 401);
	if (typeof header.kid !== 'string' || header.kid === '') throw new AccessError('the assertion names no key', 401);
	const key = await keyFor(config.issuer, header.kid, deps);
	let signature: Uint8Array;
	try {
		signature = base64urlDecode(signaturePart);
	} catch {
		throw new AccessError('the assertion signature is not valid', 401);
	}
	const signed = new TextEncoder().encode(`${headerPart}.${payloadPart}`);
	const valid = await crypto.subtle.verify('RSASSA-PKCS1-v1_5', key, signature, signed);
	if (!valid) throw new AccessError('the assertion signature does not verify', 401);

	const claims = decodePart(payloadPart, 'payload');
	const now = Math.floor(deps.now() / 1000);
	const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
	if (!audiences.includes(config.audience))
		throw new AccessError('the assertion is for another application (aud)', 401);
	if (claims.iss !== config.issuer) throw new AccessError('the assertion comes from another issuer (iss)', 401);
	if (typeof claims.exp !== 'number') throw new AccessError('the assertion has no expiry (exp)', 401);
	if (claims.exp + LEEWAY_SECONDS <= now) throw new AccessError('the assertion has expired (exp)', 401);
	if (typeof claims.nbf === 'number' && claims.nbf - LEEWAY_SECONDS > now)
		throw new AccessError('the assertion is not valid yet (nbf)', 401);

	// People have an email; Access service tokens have a common_name instead.
	const email = typeof claims.email === 'string' && claims.email ? claims.email.trim().toLowerCase() : undefined;
	const subject =
		email ?? (typeof claims.common_name === 'string' && claims.common_name ? claims.common_name : undefined);
	if (!subject) throw new AccessError('the assertion names no email or service token', 401);
	const role = config.roles[subject.toLowerCase()] ?? config.defaultRole;
	if (!role) throw new AccessError(`${subject} has no role in this account`, 403);
	return { subject, role };
}
