/**
 * What a test needs of the hostile SCIM server (tests/support/scim-hostile.ts) without Node's
 * http: its modes and URLs, its control, and the traces a credential leaves. Runs in Node and in
 * workerd alike.
 */

export const HOSTILE_MODES = [
	'echo',
	'deny',
	'deny-empty',
	'slow',
	'hang',
	'stall',
	'redirect',
	'redirect-loop',
	'redirect-away',
	'big-declared',
	'big-streamed',
	'big-record',
	'malformed',
	'html',
	'json'
] as const;
export type HostileMode = (typeof HOSTILE_MODES)[number];

/** How long `slow` waits before each answer. */
export const SLOW_MS = 150;

/** One request as the server saw it. */
export interface Seen {
	method: string;
	host: string;
	path: string;
}

/** What a test needs to reach the server (plain data: it crosses into workerd through provide/inject). */
export interface HostileEndpoint {
	/** http://127.0.0.1:<port> */
	origin: string;
	/** The same server under another origin: http://localhost:<port> */
	otherOrigin: string;
}

/** The SCIM base URL of `mode` for `tenant`. */
export const hostileUrl = (server: HostileEndpoint, tenant: string, mode: HostileMode): string =>
	`${server.origin}/${tenant}/${mode}/scim/v2`;

/** Requests the server saw for `tenant` (through its control, from anywhere). */
export async function hostileLog(server: HostileEndpoint, tenant: string): Promise<Seen[]> {
	return (await fetch(`${server.origin}/_control/log?tenant=${encodeURIComponent(tenant)}`)).json();
}

export async function hostileRelease(server: HostileEndpoint): Promise<void> {
	await fetch(`${server.origin}/_control/release`, { method: 'POST' });
}

declare module 'vitest' {
	export interface ProvidedContext {
		/** The hostile SCIM server (tests/support/scim-hostile.ts), started by tests/worker/global-setup.ts. */
		hostileScim: HostileEndpoint;
	}
}

/**
 * Every trace of `token` the hostile server sends back, as a test looks for it without trusting
 * the scrubber: the token, `Bearer <token>` in base64, the token in base64, URL-safe base64,
 * percent-encoded and JSON-escaped, and every 12 characters of each of them (a copy cut anywhere).
 */
export function credentialTraces(token: string): string[] {
	const b64 = (text: string) => btoa(text);
	const forms = [
		token,
		b64(`Bearer ${token}`),
		b64(token),
		b64(token).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''),
		encodeURIComponent(token),
		JSON.stringify(token).slice(1, -1)
	];
	const traces = new Set<string>();
	for (const form of forms) {
		// The first and last characters of base64 of `Bearer <token>` also encode "Bearer " and padding.
		const inner = form === forms[1] ? form.slice(10, -2) : form;
		for (let i = 0; i + 12 <= inner.length; i++) traces.add(inner.slice(i, i + 12));
	}
	return [...traces];
}

/** Every byte of `text` percent-encoded, as some servers echo what they were sent. */
export const percentEveryByte = (text: string): string =>
	[...new TextEncoder().encode(text)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');

/** `text` with every `%XX` read as the byte it stands for: a percent-encoding of any choice of characters, undone. */
const percentDecoded = (text: string) =>
	text.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));

/**
 * The traces of the credential found in `text`, and in every string of it when it is JSON, each
 * also read with its percent escapes undone (none, when nothing leaked).
 */
export function tracesIn(text: string, traces: string[]): string[] {
	const texts = [text, percentDecoded(text)];
	try {
		const walk = (v: unknown): void => {
			if (typeof v === 'string') texts.push(v, percentDecoded(v));
			else if (v !== null && typeof v === 'object')
				for (const [k, x] of Object.entries(v)) {
					texts.push(k, percentDecoded(k));
					walk(x);
				}
		};
		walk(JSON.parse(text));
	} catch {
		// Not JSON: the text alone.
	}
	return traces.filter((t) => texts.some((x) => x.includes(t)));
}

/** A credential of 40 characters with every character the encodings treat specially. */
export function hostileToken(): string {
	const random = [...crypto.getRandomValues(new Uint8Array(12))].map((b) => b.toString(16).padStart(2, '0')).join('');
	return `Hx9"q\\w+/=&% ${random}`;
}
