/**
 * Sign-in links, shared by the edge (which issues and exchanges the codes), the app (which shows
 * a link and its QR code, and exchanges the code it is opened with) and `npm start` (which prints
 * both for the first owner's phone): one definition of the code's form and of the link.
 */
import type { Role } from './types';

/** Crockford's base32: no I, L, O or U, so a code read aloud or typed is hard to get wrong. */
export const CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** 20 characters of 5 bits: 100 random bits, shown in four groups of five. */
export const CODE_LENGTH = 20;

/** How long a code may wait to be used, in minutes: the default and the most an owner may choose. */
export const CODE_MINUTES = { default: 15, max: 60 } as const;

/**
 * A code as typed or scanned, in the form it was issued: dashes and spaces dropped, upper case,
 * and the letters Crockford's base32 reads as digits (O as 0, I and L as 1). Undefined when it
 * cannot be a code at all.
 */
export function normalizeCode(input: string): string | undefined {
	const code = input
		.replace(/[\s-]+/g, '')
		.toUpperCase()
		.replace(/O/g, '0')
		.replace(/[IL]/g, '1');
	if (code.length !== CODE_LENGTH) return undefined;
	for (const c of code) if (!CODE_ALPHABET.includes(c)) return undefined;
	return code;
}

/** A code for people: four groups of five. */
export const groupCode = (code: string): string => code.replace(/(.{5})(?=.)/g, '$1-');

/**
 * The link that signs in with `code` on the app at `origin`. The code rides in the fragment,
 * which browsers never send to a server nor put in a Referer: it reaches only the app.
 */
export const signInLink = (origin: string, code: string): string => `${origin.replace(/\/+$/, '')}/#sign-in=${code}`;

/** The code a page was opened with (`#sign-in=<code>`), if any. */
export function codeInFragment(hash: string): string | undefined {
	const match = /^#?sign-in=([\w-]{1,100})$/.exec(hash);
	return match?.[1];
}

/** A code just issued (POST /api/sign-in-codes): the plaintext `code` is returned this once. */
export interface IssuedSignInCode {
	id: string;
	name: string;
	role: Role;
	createdAt: string;
	expiresAt: string;
	code: string;
}

/** A code as listed (GET /api/sign-in-codes): never the code itself. */
export interface SignInCodeView {
	id: string;
	name: string;
	role: Role;
	/** Who issued it (`token:<name>` or an Access email). */
	createdBy: string;
	createdAt: string;
	expiresAt: string;
	/** When it was exchanged, and for which token. */
	usedAt?: string;
	tokenId?: string;
}

/** Why an exchange was refused (the `reason` of the 401, or the 429). */
export const REDEEM_REFUSALS = ['unknown', 'used', 'expired', 'rate-limited'] as const;
export type RedeemRefusal = (typeof REDEEM_REFUSALS)[number];
