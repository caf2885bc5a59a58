/**
 * The one place a system's credentials are taken out of what the system says. A careless (or
 * hostile) server may echo the Authorization header it received in an error's `detail`, its
 * `scimType`, any other field, its status text or a header, and may encode it on the way: base64
 * (of the token, of `Bearer <token>`, of `user:pass`), percent-encoded (any choice of characters:
 * the escapes are also read as what they stand for), JSON-escaped. Whatever reaches a
 * ConnectorError, and from there the API, the journal and the link's SQLite, has been through
 * `Scrubber.text` or `Scrubber.value` first, and before anything was cut short: a copy of a
 * credential cut at either end is caught as long as 8 of its characters are left.
 */

/** What a system is given to prove who we are: a bearer token, or a user name and password. */
export interface SystemSecrets {
	token?: string;
	basic?: { username: string; password: string };
}

const PERCENT_ESCAPE = /%[0-9A-Fa-f]{2}/;
const PERCENT_ESCAPES = /%([0-9A-Fa-f]{2})/g;
const byte = (hex: string) => String.fromCharCode(parseInt(hex, 16));

/** What a credential, or any part of one, is replaced with. */
export const REDACTED = '[redacted]';

/**
 * Credentials shorter than this are refused when a system is created or changed: a prefix or
 * suffix this long is what the scrubber looks for, and a shorter secret cannot be told from text.
 */
export const MIN_SECRET_LENGTH = 8;

/** Secrets below this are too short to look for at all (they would redact ordinary words). */
const TOO_SHORT = 4;

const encoder = new TextEncoder();
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function base64(bytes: Uint8Array): string {
	let out = '';
	for (let i = 0; i < bytes.length; i += 3) {
		const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
		out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
		out += i + 1 < bytes.length ? B64[(n >> 6) & 63] : '=';
		out += i + 2 < bytes.length ? B64[n & 63] : '=';
	}
	return out;
}

/**
 * The characters of base64 that depend only on `secret`, for each of the three alignments it can
 * have inside a longer encoded text (`Bearer <token>`, `user:<password>`): whatever surrounds it,
 * one of these three appears wherever its base64 does.
 */
function base64Cores(secret: string): string[] {
	const bytes = encoder.encode(secret);
	const cores: string[] = [];
	for (let shift = 0; shift < 3; shift++) {
		const padded = new Uint8Array(shift + bytes.length);
		padded.set(bytes, shift);
		const text = base64(padded);
		cores.push(text.slice(Math.ceil((8 * shift) / 6), Math.floor((8 * (shift + bytes.length)) / 6)));
	}
	return cores;
}

const htmlEscaped = (s: string) =>
	s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** Every form of one secret a server is likely to send back. */
export function encodings(secret: string): string[] {
	// Case changed too: a host name (a redirect to https://<token>.example) comes back lower-cased.
	const forms = new Set<string>([
		secret,
		secret.toLowerCase(),
		secret.toUpperCase(),
		JSON.stringify(secret).slice(1, -1),
		htmlEscaped(secret)
	]);
	const percent = encodeURIComponent(secret);
	for (const p of [percent, encodeURIComponent(percent), percent.replace(/%20/g, '+')]) {
		forms.add(p);
		forms.add(p.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()));
	}
	const b64 = [base64(encoder.encode(secret)), ...base64Cores(secret)];
	for (const b of b64) {
		forms.add(b);
		forms.add(b.replace(/=+$/, ''));
		forms.add(b.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''));
	}
	return [...forms].filter((f) => f.length >= TOO_SHORT);
}

/** Takes a system's credentials out of any text or JSON value it sent. */
export class Scrubber {
	/** Every encoded form of every secret, longest first. */
	readonly #forms: string[];
	/**
	 * The first and last characters of each form, as one pattern: any copy cut at one end still
	 * holds one of them.
	 */
	readonly #anchorPattern: RegExp | undefined;
	/**
	 * Whether a secret holds a character JSON escapes (`"`, `\`, a control character): its copy
	 * in a JSON string nested in another (an error body quoting a request) is then escaped twice,
	 * a form no anchor is made for.
	 */
	readonly #escaped: boolean;

	constructor(secrets: SystemSecrets) {
		const raw: string[] = [];
		if (secrets.token) raw.push(secrets.token);
		if (secrets.basic) {
			raw.push(secrets.basic.password);
			raw.push(`${secrets.basic.username}:${secrets.basic.password}`);
		}
		const forms = new Set<string>();
		for (const secret of raw) if (secret.length >= TOO_SHORT) for (const f of encodings(secret)) forms.add(f);
		this.#forms = [...forms].sort((a, b) => b.length - a.length);
		// eslint-disable-next-line no-control-regex
		this.#escaped = raw.some((secret) => /["\\\u0000-\u001f]/.test(secret));
		const anchors = new Set(this.#forms.flatMap((f) => [f.slice(0, MIN_SECRET_LENGTH), f.slice(-MIN_SECRET_LENGTH)]));
		this.#anchorPattern =
			anchors.size === 0
				? undefined
				: new RegExp([...anchors].map((a) => a.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|'));
	}

	/** Whether `text` may hold a secret in some form (a cheap test before `value` walks a large answer). */
	mayHold(text: string): boolean {
		// One pass of one alternation: a third of the time of a search per anchor, on a page of users.
		return this.#anchorPattern?.test(text) ?? false;
	}

	/** `text` with every secret, whole or cut at one end to 8 characters or more, replaced by [redacted]. */
	text(text: string): string {
		if (this.#forms.length === 0) return text;
		const ranges = this.mayHold(text) ? this.#ranges(text) : [];
		// Percent-encoding is a choice per character (every byte, or all but "/"): no list of forms
		// covers it, so the escapes are also read as the characters they stand for and searched again.
		if (PERCENT_ESCAPE.test(text)) {
			const { decoded, at } = percentDecoded(text);
			if (this.mayHold(decoded)) for (const [s, e] of this.#ranges(decoded)) ranges.push([at[s], at[e]]);
		}
		return redact(text, ranges);
	}

	/** Where each form of a secret, whole or cut at one end to 8 characters or more, is in `text`. */
	#ranges(text: string): [number, number][] {
		const ranges: [number, number][] = [];
		for (const form of this.#forms) {
			const n = Math.min(MIN_SECRET_LENGTH, form.length);
			const head = form.slice(0, n);
			for (let i = text.indexOf(head); i !== -1; i = text.indexOf(head, i + 1)) {
				let m = n;
				while (m < form.length && i + m < text.length && text[i + m] === form[m]) m++;
				ranges.push([i, i + m]);
			}
			const tail = form.slice(-n);
			for (let j = text.indexOf(tail); j !== -1; j = text.indexOf(tail, j + 1)) {
				const end = j + n;
				let m = n;
				while (m < form.length && end - m - 1 >= 0 && text[end - m - 1] === form[form.length - m - 1]) m++;
				ranges.push([end - m, end]);
			}
		}
		return ranges;
	}

	/** A parsed JSON value with every string in it, keys included, scrubbed. */
	value(value: unknown): unknown {
		if (typeof value === 'string') return this.text(value);
		if (Array.isArray(value)) return value.map((v) => this.value(v));
		if (value !== null && typeof value === 'object') {
			const out: Record<string, unknown> = {};
			// Defined, not assigned: a key "__proto__" stays a plain property, as JSON.parse made it.
			for (const [k, v] of Object.entries(value))
				Object.defineProperty(out, this.text(k), {
					value: this.value(v),
					enumerable: true,
					writable: true,
					configurable: true
				});
			return out;
		}
		return value;
	}

	/**
	 * The JSON value of a system's answer, scrubbed. The walk is skipped when the text shows no
	 * trace of a secret and has no escape that could hide one from that test: `\u0041` and `\/`
	 * can stand for any character of a secret, the other escapes only for characters the secret
	 * lacks. (Every SCIM resource's `meta.version`, `W/\"…\"`, holds escapes: walking each page
	 * of a 10k directory string by string was a tenth of a read.)
	 */
	json(text: string): unknown {
		const parsed: unknown = JSON.parse(text);
		if (this.#forms.length === 0) return parsed;
		const hiding = this.#escaped ? text.includes('\\') : /\\[u/]/.test(text);
		return hiding || this.mayHold(text) || this.#mayHoldEscaped(text) ? this.value(parsed) : parsed;
	}

	/** Whether `text`, its percent escapes read as what they stand for, may hold a secret. */
	#mayHoldEscaped(text: string): boolean {
		// Undone by one native replace: a page of users is tested whole, and positions are not needed.
		return PERCENT_ESCAPE.test(text) && this.mayHold(text.replace(PERCENT_ESCAPES, (_, hex: string) => byte(hex)));
	}
}

/** `text` with each of `ranges` (merged where they touch) replaced by [redacted]. */
function redact(text: string, ranges: [number, number][]): string {
	if (ranges.length === 0) return text;
	ranges.sort((a, b) => a[0] - b[0]);
	let out = '';
	let at = 0;
	let [start, end] = ranges[0];
	for (const [s, e] of ranges.slice(1)) {
		if (s <= end) end = Math.max(end, e);
		else {
			out += text.slice(at, start) + REDACTED;
			at = end;
			[start, end] = [s, e];
		}
	}
	return out + text.slice(at, start) + REDACTED + text.slice(end);
}

/** `text` with each `%XX` read as the byte it stands for, and where each character of that came from. */
function percentDecoded(text: string): { decoded: string; at: number[] } {
	let decoded = '';
	const at: number[] = [];
	for (let i = 0; i < text.length;) {
		at.push(i);
		if (text[i] === '%' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
			decoded += byte(text.slice(i + 1, i + 3));
			i += 3;
		} else decoded += text[i++];
	}
	at.push(text.length);
	return { decoded, at };
}
