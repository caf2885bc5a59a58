/**
 * The scrubber: a system's credential, in every encoding a server is likely to send back, whole
 * or cut at either end to 8 characters or more, is gone from any text; other text is left as it was.
 */
import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { REDACTED, Scrubber } from '../../worker/connectors/scrub';
import { percentEveryByte } from '../support/scim-hostile-client';

const TOKEN = 'tok_9f8e7d6c5b4a3210+/=&"\\ end';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const b64url = (s: string) => Buffer.from(s).toString('base64url');

describe('Scrubber.text', () => {
	const scrub = new Scrubber({ token: TOKEN });
	it.each([
		['raw', TOKEN],
		['as a bearer header', `Bearer ${TOKEN}`],
		['base64 of the token', b64(TOKEN)],
		['URL-safe base64 of the token', b64url(TOKEN)],
		['base64 of the header', b64(`Bearer ${TOKEN}`)],
		['percent-encoded', encodeURIComponent(TOKEN)],
		['percent-encoded, lower-case hex', encodeURIComponent(TOKEN).replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase())],
		['percent-encoded twice', encodeURIComponent(encodeURIComponent(TOKEN))],
		['form-encoded', new URLSearchParams({ t: TOKEN }).toString().slice(2)],
		['JSON-escaped', JSON.stringify(TOKEN)],
		['HTML-escaped', TOKEN.replace(/&/g, '&amp;').replace(/"/g, '&quot;')],
		['its first 8 characters', TOKEN.slice(0, 8)],
		['its last 8 characters', TOKEN.slice(-8)],
		['its first half', TOKEN.slice(0, 15)],
		['the end of its base64', b64(TOKEN).slice(-9)]
	])('takes out the token %s', (_, form) => {
		const out = scrub.text(`before ${form} after`);
		expect(out).toMatch(/^before .*\[redacted\].* after$/);
		expect(out).not.toContain(TOKEN.slice(0, 8));
		expect(out).not.toContain(TOKEN.slice(-8));
	});

	it('takes out the token lower-cased, as a host name a redirect names', () => {
		const mixed = new Scrubber({ token: 'AbCdEfGh12345678XyZ' });
		expect(mixed.text('redirected to https://abcdefgh12345678xyz.evil.example')).toBe(
			`redirected to https://${REDACTED}.evil.example`
		);
	});

	it('leaves text without the token alone, and 7 characters of it too', () => {
		const text = `userName "ann@example.org" is taken; ${TOKEN.slice(0, 7)}`;
		expect(scrub.text(text)).toBe(text);
	});

	it('takes out the password of basic credentials and the base64 of user:password', () => {
		const basic = new Scrubber({ basic: { username: 'svc-rostersync', password: 'Pa55w0rd!long' } });
		expect(basic.text(`Authorization: Basic ${b64('svc-rostersync:Pa55w0rd!long')}`)).toBe(
			`Authorization: Basic ${REDACTED}`
		);
		expect(basic.text('the password Pa55w0rd!long was refused')).toBe(`the password ${REDACTED} was refused`);
	});

	// Which characters get escaped is the server's choice: no list of encodings covers them all.
	const base64Token = 'Q2xpZW50SWQ6c2VjcmV0/A1b2C3d+E4f5G6h7/J8k9L0mN1oP2qR3sT4uV5wX6yZ7=';
	it.each([
		['every byte percent-encoded', percentEveryByte(base64Token)],
		['percent-encoded but "/", as Python quote() does', encodeURIComponent(base64Token).replace(/%2F/g, '/')],
		['every byte percent-encoded, cut in half', percentEveryByte(base64Token).slice(0, 90)],
		[
			'its escapes mixed with plain characters',
			percentEveryByte(base64Token).replace(/%4([1-9A-F])/g, (h) => decodeURIComponent(h))
		]
	])('takes out a token %s: no 8 of its characters are left', (_, form) => {
		const out = new Scrubber({ token: base64Token }).text(`scimType: ${form} (echoed)`);
		expect(out).toMatch(/^scimType: .*\[redacted\].* \(echoed\)$/);
		const decoded = decodeURIComponent(out);
		for (let i = 0; i + 8 <= base64Token.length; i++) expect(decoded).not.toContain(base64Token.slice(i, i + 8));
	});

	it('walks a JSON answer whose strings hold the token percent-encoded byte by byte', () => {
		const plain = new Scrubber({ token: base64Token });
		const answer = JSON.stringify({
			Resources: [{ id: 'u1', displayName: `Bearer ${percentEveryByte(base64Token)}` }]
		});
		expect(plain.json(answer)).toEqual({ Resources: [{ id: 'u1', displayName: `Bearer ${REDACTED}` }] });
	});

	it('keeps a "__proto__" key a plain property, as JSON.parse does', () => {
		const scrubbed = scrub.json(`{"__proto__": {"id": "x"}, "v": "${b64(TOKEN)}"}`) as Record<string, unknown>;
		expect(Object.getPrototypeOf(scrubbed)).toBe(Object.prototype);
		expect(scrubbed.id).toBeUndefined();
		expect(Object.keys(scrubbed)).toEqual(['__proto__', 'v']);
	});

	it('scrubs keys and values of JSON, even behind escapes', () => {
		const json = JSON.stringify({ [TOKEN]: [`x ${TOKEN}`], n: 1 }).replace(/\//g, '\\/');
		expect(scrub.json(json)).toEqual({ [REDACTED]: [`x ${REDACTED}`], n: 1 });
		const plain = new Scrubber({ token: 'abcdefgh1234wxyz' });
		const unicode = JSON.stringify({ detail: 'x abcdefgh1234wxyz' }).replace(
			/[a-z]/g,
			(c) => `\\u00${c.charCodeAt(0).toString(16)}`
		);
		expect(plain.json(unicode)).toEqual({ detail: `x ${REDACTED}` });
	});

	// Tokens as systems issue them; the text around them as servers write it.
	const token = fc.string({
		unit: fc.constantFrom(...'abcXYZ0189-_.~+/=%"\\ '.split('')),
		minLength: 12,
		maxLength: 64
	});
	const around = fc.string({ maxLength: 40 });
	const form = fc.constantFrom(
		(t: string) => t,
		(t: string) => b64(t),
		(t: string) => b64url(t),
		(t: string) => encodeURIComponent(t),
		(t: string) => JSON.stringify(t).slice(1, -1)
	);
	test.prop([token, form, around, around, fc.nat(), fc.boolean()])(
		'a form of the token cut to 8 characters or more at either end is gone',
		(t, encode, before, after, cutAt, keepStart) => {
			const whole = encode(t);
			const keep = 8 + (cutAt % (whole.length - 7));
			const copy = keepStart ? whole.slice(0, keep) : whole.slice(whole.length - keep);
			expect(new Scrubber({ token: t }).text(`${before}${copy}${after}`).includes(copy)).toBe(false);
		}
	);

	/** Every string in a JSON value, keys included. */
	const strings = (value: unknown): string[] =>
		typeof value === 'string'
			? [value]
			: value !== null && typeof value === 'object'
				? Object.entries(value).flatMap(([k, v]) => [k, ...strings(v)])
				: [];
	const escape = (s: string) => JSON.stringify(s).slice(1, -1);
	const answer = fc.constantFrom(
		(detail: string) => JSON.stringify({ detail, meta: { version: 'W/"1"' } }),
		// An error quoting the request it refused, as JSON in a string: the token escaped twice.
		(detail: string) => JSON.stringify({ detail: JSON.stringify({ authorization: detail }) }),
		(detail: string) => JSON.stringify({ detail }).replace(/[a-z]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`),
		(detail: string) => JSON.stringify({ detail }).replace(/\//g, '\\/')
	);
	test.prop([token, around, around, answer], { numRuns: 300 })(
		'no string of a JSON answer holds the token, however the answer escapes it',
		(t, before, after, write) => {
			const found = strings(new Scrubber({ token: t }).json(write(`${before}${t}${after}`)));
			for (const s of found) expect(s.includes(t) || s.includes(escape(t))).toBe(false);
		}
	);

	test.prop([token, around, around])(
		'base64 of any text holding the token keeps nothing of it but the bits it shares with its neighbours',
		(t, before, after) => {
			const encoded = b64(`${before}${t}${after}`);
			const out = new Scrubber({ token: t }).text(encoded);
			// The characters that encode the token alone: no 8 of them in a row are left.
			const start = Math.ceil((Buffer.byteLength(before) * 8) / 6);
			const end = Math.floor(((Buffer.byteLength(before) + Buffer.byteLength(t)) * 8) / 6);
			for (let i = start; i + 8 <= end; i++) expect(out).not.toContain(encoded.slice(i, i + 8));
			expect(out).toContain(REDACTED);
		}
	);
});
