import { ROLES, type Role } from '$lib/api/types';

/** Account roles, weakest first (the API's own list): each may do everything the ones before it may. */
export const ACCOUNT_ROLES = ROLES;
export type AccountRole = Role;

export const isAccountRole = (value: unknown): value is AccountRole =>
	typeof value === 'string' && (ACCOUNT_ROLES as readonly string[]).includes(value);

/** True when `role` may do what `needed` may (owner > reviewer > viewer). */
export const roleAtLeast = (role: AccountRole, needed: AccountRole): boolean =>
	ACCOUNT_ROLES.indexOf(role) >= ACCOUNT_ROLES.indexOf(needed);

/** Who is calling, as every authenticated route sees it. */
export interface Caller {
	/** A token's name (`token:<name>`), or an Access identity's email. */
	subject: string;
	/**
	 * Who it is in words people recognize, as runs, stops, undos and answers record it: the token's
	 * label, or the Access email (a service token's name).
	 */
	name: string;
	role: AccountRole;
	via: 'token' | 'access';
	/** The token's id when `via` is "token". */
	tokenId?: string;
}
