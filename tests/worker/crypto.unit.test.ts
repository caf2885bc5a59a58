import { describe, expect, it } from 'vitest';
import {
	CredentialsKeyError,
	SealError,
	base64urlDecode,
	base64urlEncode,
	credentialsKey,
	open,
	randomToken,
	seal,
	sha256Hex,
	timingSafeEqual
} from '../../worker/crypto';
import { openCredentials, sealCredentials } from '../../worker/systems/credentials';

const KEY = btoa(String.fromCharCode(...new Uint8Array(32).map((_, i) => i * 7)));
const OTHER_KEY = btoa(String.fromCharCode(...new Uint8Array(32).map((_, i) => 255 - i)));

describe('sealing credentials with AES-GCM', () => {
	it('round-trips, with a fresh IV each time', async () => {
		const key = await credentialsKey(KEY);
		const a = await seal(key, 'scim-secret-token', 'system:1');
		const b = await seal(key, 'scim-secret-token', 'system:1');
		expect(a).not.toBe(b);
		expect(a).toMatch(/^v1\.[\w-]{16}\.[\w-]+$/);
		expect(base64urlDecode(a.split('.')[1])).toHaveLength(12);
		expect(a).not.toContain('scim-secret-token');
		expect(await open(key, a, 'system:1')).toBe('scim-secret-token');
		expect(await open(key, b, 'system:1')).toBe('scim-secret-token');
	});

	it('detects tampering with the ciphertext, the IV, or the tag', async () => {
		const key = await credentialsKey(KEY);
		const sealed = await seal(key, 'token', 'ctx');
		const [v, iv, data] = sealed.split('.');
		const flip = (text: string, at: number) => {
			const bytes = base64urlDecode(text);
			bytes[at] ^= 1;
			return base64urlEncode(bytes);
		};
		await expect(open(key, `${v}.${iv}.${flip(data, 0)}`, 'ctx')).rejects.toBeInstanceOf(SealError);
		await expect(open(key, `${v}.${flip(iv, 3)}.${data}`, 'ctx')).rejects.toBeInstanceOf(SealError);
		await expect(open(key, `${v}.${iv}.${flip(data, base64urlDecode(data).length - 1)}`, 'ctx')).rejects.toBeInstanceOf(
			SealError
		);
		await expect(open(key, `${v}.${iv}`, 'ctx')).rejects.toBeInstanceOf(SealError);
		await expect(open(key, `v2.${iv}.${data}`, 'ctx')).rejects.toBeInstanceOf(SealError);
	});

	it('binds a value to its record and its key: moved or opened with another key, it fails', async () => {
		const sealed = await seal(await credentialsKey(KEY), 'token', 'system:a');
		await expect(open(await credentialsKey(KEY), sealed, 'system:b')).rejects.toBeInstanceOf(SealError);
		await expect(open(await credentialsKey(OTHER_KEY), sealed, 'system:a')).rejects.toBeInstanceOf(SealError);
	});

	it('refuses to work without a usable key, and never echoes it', async () => {
		await expect(credentialsKey(undefined)).rejects.toBeInstanceOf(CredentialsKeyError);
		await expect(credentialsKey('  ')).rejects.toBeInstanceOf(CredentialsKeyError);
		const short = btoa('too-short-key');
		const error = await credentialsKey(short).catch((e) => e);
		expect(error).toBeInstanceOf(CredentialsKeyError);
		expect(error.message).not.toContain(short);
		await expect(sealCredentials({ CREDENTIALS_KEY: undefined }, 's1', { token: 't' })).rejects.toBeInstanceOf(
			CredentialsKeyError
		);
	});

	it('seals system credentials per system id', async () => {
		const env = { CREDENTIALS_KEY: KEY };
		const sealed = await sealCredentials(env, 'sys-1', { token: 'abc' });
		expect(await openCredentials(env, 'sys-1', sealed)).toEqual({ token: 'abc' });
		await expect(openCredentials(env, 'sys-2', sealed)).rejects.toBeInstanceOf(SealError);
	});
});

describe('tokens and digests', () => {
	it('makes 32 random bytes as base64url, different every time', () => {
		const a = randomToken();
		expect(a).toMatch(/^[\w-]{43}$/);
		expect(base64urlDecode(a)).toHaveLength(32);
		expect(randomToken()).not.toBe(a);
	});

	it('hashes with SHA-256 (known vector)', async () => {
		expect(await sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
	});

	it('compares in constant time', () => {
		expect(timingSafeEqual('abc', 'abc')).toBe(true);
		expect(timingSafeEqual('abc', 'abd')).toBe(false);
		expect(timingSafeEqual('abc', 'abcd')).toBe(false);
	});
});
