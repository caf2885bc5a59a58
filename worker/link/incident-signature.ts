/**
 * The incident webhook's signature: HMAC-SHA256 with the link's secret over `<timestamp>.<raw body>`
 * (the timestamp signed with the body, so a captured request cannot be replayed under a fresh one),
 * sent as `X-Rostersync-Signature: sha256=<hex>` with `X-Rostersync-Timestamp: <unix seconds>`.
 * Requests older or newer than the window are refused. The secret is sealed under CREDENTIALS_KEY
 * (bound to the link), shown once when issued.
 */
import type { Env } from '../env';
import { credentialsKey, open, randomToken, seal, timingSafeEqual } from '../crypto';

export const SIGNATURE_HEADER = 'x-rostersync-signature';
export const TIMESTAMP_HEADER = 'x-rostersync-timestamp';
/** How far a request's timestamp may be from the edge's clock. */
export const REPLAY_WINDOW_SECONDS = 300;

const encoder = new TextEncoder();
const context = (linkId: string) => `rostersync:link:${linkId}:incident-secret`;

const hex = (bytes: ArrayBuffer) => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('');

/** The signature header's value for `body` sent at `timestamp` (unix seconds). */
export async function signIncident(secret: string, timestamp: number, body: string): Promise<string> {
	const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
		'sign'
	]);
	return `sha256=${hex(await crypto.subtle.sign('HMAC', key, encoder.encode(`${timestamp}.${body}`)))}`;
}

export const SIGNATURE_REFUSALS = ['missing', 'malformed', 'stale', 'mismatch'] as const;
export type SignatureRefusal = (typeof SIGNATURE_REFUSALS)[number];

/** Why a request's signature is refused, or undefined when it holds. `now` in epoch ms. */
export async function checkSignature(input: {
	secret: string;
	timestamp: string | null;
	signature: string | null;
	body: string;
	now: number;
}): Promise<SignatureRefusal | undefined> {
	if (!input.timestamp || !input.signature) return 'missing';
	if (!/^\d{1,12}$/.test(input.timestamp) || !/^sha256=[0-9a-f]{64}$/i.test(input.signature)) return 'malformed';
	const at = Number(input.timestamp);
	if (Math.abs(input.now / 1000 - at) > REPLAY_WINDOW_SECONDS) return 'stale';
	const expected = await signIncident(input.secret, at, input.body);
	return timingSafeEqual(expected, input.signature.toLowerCase()) ? undefined : 'mismatch';
}

/** A new secret for a link, and its sealed form to store. */
export async function issueSecret(env: Pick<Env, 'CREDENTIALS_KEY'>, linkId: string) {
	const secret = `whsec_${randomToken(32)}`;
	const key = await credentialsKey(env.CREDENTIALS_KEY);
	return { secret, sealed: await seal(key, secret, context(linkId)) };
}

export async function openSecret(env: Pick<Env, 'CREDENTIALS_KEY'>, linkId: string, sealed: string): Promise<string> {
	return open(await credentialsKey(env.CREDENTIALS_KEY), sealed, context(linkId));
}
