/**
 * WebCrypto helpers for the edge: connector credentials sealed with AES-GCM, bearer tokens made
 * from random bytes and kept only as SHA-256 digests. Nothing here logs or echoes a value.
 */

/** The CREDENTIALS_KEY is missing or unusable: credentials cannot be stored or read. */
export class CredentialsKeyError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'CredentialsKeyError';
	}
}

/** A sealed value could not be opened: wrong key, wrong record, or tampered with. */
export class SealError extends Error {
	constructor(message = 'the sealed value could not be decrypted (wrong key, wrong record, or altered)') {
		super(message);
		this.name = 'SealError';
	}
}

export function base64urlEncode(bytes: Uint8Array): string {
	let binary = '';
	for (const b of bytes) binary += String.fromCharCode(b);
	return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function base64urlDecode(text: string): Uint8Array {
	const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
	const binary = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
	const out = new Uint8Array(binary.length);
	for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
	return out;
}

function base64Decode(text: string): Uint8Array {
	// Standard or URL alphabet, padded or not.
	return base64urlDecode(text.trim().replace(/=+$/, ''));
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** `n` random bytes as base64url (no padding). */
export function randomToken(n = 32): string {
	return base64urlEncode(crypto.getRandomValues(new Uint8Array(n)));
}

/** SHA-256 of a string, as lower-case hex. */
export async function sha256Hex(text: string): Promise<string> {
	const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
	return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
}

const keys = new Map<string, Promise<CryptoKey>>();

/**
 * The AES-GCM key from CREDENTIALS_KEY (base64 of 16, 24 or 32 bytes). Throws
 * CredentialsKeyError when it is missing or malformed; the message never contains the value.
 */
export function credentialsKey(secret: string | undefined): Promise<CryptoKey> {
	if (!secret || secret.trim() === '') {
		return Promise.reject(
			new CredentialsKeyError(
				'CREDENTIALS_KEY is not set: credentials cannot be stored or used. Set it as a secret (see .dev.vars.example).'
			)
		);
	}
	let cached = keys.get(secret);
	if (!cached) {
		cached = (async () => {
			let raw: Uint8Array;
			try {
				raw = base64Decode(secret);
			} catch {
				throw new CredentialsKeyError('CREDENTIALS_KEY is not valid base64.');
			}
			if (![16, 24, 32].includes(raw.length))
				throw new CredentialsKeyError(
					`CREDENTIALS_KEY must decode to 16, 24 or 32 bytes (it decodes to ${raw.length}).`
				);
			return crypto.subtle.importKey('raw', raw, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
		})();
		cached.catch(() => keys.delete(secret));
		keys.set(secret, cached);
	}
	return cached;
}

const VERSION = 'v1';
const IV_BYTES = 12;

/**
 * Encrypts `plaintext` with AES-GCM under a fresh random 12-byte IV. `context` is bound as
 * additional data (e.g. the system id), so a sealed value moved to another record fails to open.
 * Format: `v1.<iv>.<ciphertext+tag>`, both base64url.
 */
export async function seal(key: CryptoKey, plaintext: string, context: string): Promise<string> {
	const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
	const sealed = await crypto.subtle.encrypt(
		{ name: 'AES-GCM', iv, additionalData: encoder.encode(context) },
		key,
		encoder.encode(plaintext)
	);
	return `${VERSION}.${base64urlEncode(iv)}.${base64urlEncode(new Uint8Array(sealed))}`;
}

/** Opens a value made by `seal` with the same key and context; throws SealError otherwise. */
export async function open(key: CryptoKey, sealed: string, context: string): Promise<string> {
	const [version, ivText, dataText, ...rest] = sealed.split('.');
	if (version !== VERSION || !ivText || !dataText || rest.length > 0)
		throw new SealError('the sealed value is malformed');
	let iv: Uint8Array;
	let data: Uint8Array;
	try {
		iv = base64urlDecode(ivText);
		data = base64urlDecode(dataText);
	} catch {
		throw new SealError('the sealed value is malformed');
	}
	if (iv.length !== IV_BYTES) throw new SealError('the sealed value is malformed');
	try {
		const plain = await crypto.subtle.decrypt(
			{ name: 'AES-GCM', iv, additionalData: encoder.encode(context) },
			key,
			data
		);
		return decoder.decode(plain);
	} catch {
		throw new SealError();
	}
}

/** Compares two strings in time independent of where they differ. */
export function timingSafeEqual(a: string, b: string): boolean {
	const x = encoder.encode(a);
	const y = encoder.encode(b);
	let diff = x.length ^ y.length;
	for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
	return diff === 0;
}
