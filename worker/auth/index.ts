/**
 * Who is calling, and may they? Every /api route but the health check calls `authenticate`, then
 * `requireRole`. A bearer token (issued by an owner, stored hashed in the AccountDO) or, deployed
 * behind Cloudflare Access, a verified `Cf-Access-Jwt-Assertion`.
 */
import type { Env } from '../env';
import { ApiError } from '../api/errors';
import { sha256Hex } from '../crypto';
import { account } from '../account/account-do';
import { AccessError, accessConfig, verifyAccessJwt } from './access';
import { roleAtLeast, type AccountRole, type Caller } from './roles';

export { ACCOUNT_ROLES, isAccountRole, roleAtLeast, type AccountRole, type Caller } from './roles';

/** Longest bearer token looked at (ours are 43 characters). */
const MAX_TOKEN_LENGTH = 512;

/**
 * The caller of `request`, or an ApiError: 401 without a valid credential, 403 for an Access
 * identity that has no role here. A bearer token wins over an Access assertion when both come.
 */
export async function authenticate(request: Request, env: Env): Promise<Caller> {
	const header = request.headers.get('authorization');
	if (header !== null) {
		const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
		if (!match || match[1].length > MAX_TOKEN_LENGTH)
			throw new ApiError('unauthorized', 'The Authorization header must be "Bearer <token>".');
		const found = await account(env).authenticateToken(await sha256Hex(match[1]), new Date().toISOString());
		if (!found) throw new ApiError('unauthorized', 'The token is unknown or revoked.');
		return { subject: `token:${found.name}`, name: found.name, role: found.role, via: 'token', tokenId: found.id };
	}

	const assertion = request.headers.get('cf-access-jwt-assertion');
	let config;
	try {
		config = accessConfig(env);
	} catch (e) {
		// A misconfigured deployment refuses everyone rather than guessing roles.
		throw new ApiError(
			'unauthorized',
			e instanceof AccessError
				? `Cloudflare Access is misconfigured: ${e.message}.`
				: 'Cloudflare Access is misconfigured.'
		);
	}
	if (assertion !== null && config) {
		try {
			const identity = await verifyAccessJwt(assertion, config);
			return { subject: identity.subject, name: identity.subject, role: identity.role, via: 'access' };
		} catch (e) {
			if (e instanceof AccessError)
				throw new ApiError(e.status === 403 ? 'forbidden' : 'unauthorized', `Cloudflare Access: ${e.message}.`);
			throw e;
		}
	}
	throw new ApiError(
		'unauthorized',
		config
			? 'Sign in through Cloudflare Access or send "Authorization: Bearer <token>".'
			: 'Send "Authorization: Bearer <token>".'
	);
}

const WHAT: Record<AccountRole, string> = {
	owner: 'an owner',
	reviewer: 'a reviewer or an owner',
	viewer: 'a signed-in viewer'
};

/** Throws 403 unless `caller` has at least `role` (owner > reviewer > viewer). */
export function requireRole(caller: Caller, role: AccountRole, action?: string): void {
	if (roleAtLeast(caller.role, role)) return;
	throw new ApiError(
		'forbidden',
		`Only ${WHAT[role]} can ${action ?? 'do this'}; this ${caller.via === 'token' ? 'token' : 'identity'} is a ${caller.role}.`
	);
}
