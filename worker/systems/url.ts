/**
 * Where a system may live. The edge sends a system's credentials to its base URL and fetches
 * whatever that URL answers, so an owner (or a stolen owner token) must not point it at the edge's
 * own network: loopback, private and link-local addresses, and cloud metadata services (which hand
 * out credentials of their own to whoever asks). Loopback and private addresses are allowed only
 * when the Worker runs on a developer's machine (LOCAL_DEV, or LOCAL_BOOTSTRAP set by `npm start`).
 *
 * Hosts are judged by name and literal address; a public name that resolves to a private address
 * cannot be seen from a Worker (there is no DNS API), and Cloudflare's network does not route to one.
 */
import { flag, type Env } from '../env';
import { DomainError } from '../errors';

/** The edge runs on a developer's machine, where systems may be on this machine or its network. */
export const isLocalDevelopment = (env: Pick<Env, 'LOCAL_DEV' | 'LOCAL_BOOTSTRAP'>): boolean =>
	flag(env.LOCAL_DEV) || flag(env.LOCAL_BOOTSTRAP);

export const HOST_KINDS = [
	'public',
	'loopback',
	'private',
	'link-local',
	'metadata',
	'reserved',
	'internal-name'
] as const;
export type HostKind = (typeof HOST_KINDS)[number];

/** Metadata services by address (AWS, GCP, Azure, Oracle; ECS tasks; Alibaba; AWS over IPv6). */
const METADATA_ADDRESSES = new Set(['169.254.169.254', '169.254.170.2', '100.100.100.200', 'fd00:ec2:0:0:0:0:0:254']);
const METADATA_NAMES = new Set([
	'metadata',
	'metadata.google.internal',
	'metadata.goog',
	'instance-data',
	'instance-data.ec2.internal'
]);
/** Names only a local resolver answers. */
const INTERNAL_SUFFIXES = ['.internal', '.local', '.localdomain', '.lan', '.home.arpa', '.intranet', '.corp'];

type V4 = [number, number, number, number];

function parseV4(host: string): V4 | undefined {
	const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
	if (!m) return undefined;
	const parts = m.slice(1).map(Number);
	return parts.every((p) => p <= 255) ? (parts as V4) : undefined;
}

/** The eight 16-bit groups of an IPv6 address as `new URL` writes it (hex groups, `::` at most once). */
function parseV6(host: string): number[] | undefined {
	const halves = host.toLowerCase().split('::');
	if (halves.length > 2) return undefined;
	const groups = (s: string) => (s === '' ? [] : s.split(':'));
	const head = groups(halves[0]);
	const rest = halves.length === 2 ? groups(halves[1]) : [];
	if (![...head, ...rest].every((g) => /^[0-9a-f]{1,4}$/.test(g))) return undefined;
	const missing = 8 - head.length - rest.length;
	if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
	return [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest].map((g) => parseInt(g, 16));
}

function kindOfV4([a, b, c, d]: V4): HostKind {
	if (METADATA_ADDRESSES.has(`${a}.${b}.${c}.${d}`)) return 'metadata';
	if (a === 127) return 'loopback';
	if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127))
		return 'private';
	if (a === 169 && b === 254) return 'link-local';
	if (
		a === 0 ||
		a >= 224 ||
		(a === 192 && b === 0 && (c === 0 || c === 2)) ||
		(a === 198 && (b === 18 || b === 19)) ||
		(a === 198 && b === 51 && c === 100) ||
		(a === 203 && b === 0 && c === 113)
	)
		return 'reserved';
	return 'public';
}

function kindOfV6(g: number[]): HostKind {
	if (METADATA_ADDRESSES.has(g.map((x) => x.toString(16)).join(':'))) return 'metadata';
	const embedded = (): V4 => [g[6] >> 8, g[6] & 255, g[7] >> 8, g[7] & 255];
	const zeros = (n: number) => g.slice(0, n).every((x) => x === 0);
	if (zeros(7) && g[7] === 1) return 'loopback';
	if (zeros(8)) return 'reserved';
	// IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d): the IPv4 address decides.
	if (
		(zeros(5) && (g[5] === 0xffff || g[5] === 0)) ||
		(g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0))
	)
		return kindOfV4(embedded());
	// 6to4 (2002:AABB:CCDD::) carries an IPv4 address in its second and third groups.
	if (g[0] === 0x2002) return kindOfV4([g[1] >> 8, g[1] & 255, g[2] >> 8, g[2] & 255]);
	if ((g[0] & 0xfe00) === 0xfc00) return 'private';
	if ((g[0] & 0xffc0) === 0xfe80) return 'link-local';
	if ((g[0] & 0xff00) === 0xff00 || (g[0] === 0x2001 && g[1] === 0xdb8) || (g[0] === 0x100 && zeros(4)))
		return 'reserved';
	return 'public';
}

/** What kind of host a URL's hostname is (as `new URL` gives it: lower case, IPv4 dotted, IPv6 in brackets). */
export function hostKind(hostname: string): HostKind {
	// Every trailing dot: `new URL` keeps `metadata.google.internal..` as it was written.
	const host = hostname.replace(/\.+$/, '');
	if (host.startsWith('[') && host.endsWith(']')) {
		const groups = parseV6(host.slice(1, -1).replace(/%.*$/, ''));
		return groups ? kindOfV6(groups) : 'reserved';
	}
	const v4 = parseV4(host);
	if (v4) return kindOfV4(v4);
	if (host === 'localhost' || host.endsWith('.localhost')) return 'loopback';
	if (METADATA_NAMES.has(host)) return 'metadata';
	if (!host.includes('.') || INTERNAL_SUFFIXES.some((s) => host.endsWith(s))) return 'internal-name';
	return 'public';
}

const REFUSED: Record<Exclude<HostKind, 'public'>, string> = {
	loopback: 'must not point at this machine',
	private: 'must not point at a private network address',
	'link-local': 'must not point at a link-local address',
	metadata: 'must not point at a cloud metadata service',
	reserved: 'must not point at a reserved address',
	'internal-name': 'must name a public host, not a name only a local network knows'
};

const invalid = (what: string, field: string, message: string): DomainError =>
	new DomainError('invalid', `Invalid ${what}: ${field}: ${message}.`, [{ field, message }]);

/**
 * The base URL of a SCIM system, normalized (no trailing slash), or a DomainError `invalid`
 * naming the field: an absolute https URL (http only to this machine, locally) without a user
 * name or password, on a public host (loopback and private hosts too, locally).
 */
export function checkSystemUrl(
	raw: string | undefined,
	opts: { local: boolean; field?: string; what?: string }
): string {
	const { local, field = 'baseUrl', what = 'system' } = opts;
	if (!raw) throw invalid(what, field, 'is required for a scim system');
	let url: URL;
	try {
		url = new URL(raw);
	} catch {
		throw invalid(what, field, 'is not an absolute URL');
	}
	// Where it points first: an http URL to a metadata service is refused for what it is.
	const kind = hostKind(url.hostname);
	const allowed = kind === 'public' || (local && (kind === 'loopback' || kind === 'private'));
	if (!allowed) {
		const why = kind === 'loopback' || kind === 'private' ? ' (allowed only when the edge runs locally)' : '';
		throw invalid(what, field, `${REFUSED[kind as Exclude<HostKind, 'public'>]}: ${url.hostname}${why}`);
	}
	if (url.protocol !== 'https:' && !(url.protocol === 'http:' && kind === 'loopback'))
		throw invalid(what, field, 'must be an https URL (credentials never travel in clear text)');
	if (url.username || url.password)
		throw invalid(what, field, 'must not carry a user name or password (use credentials)');
	return url.toString().replace(/\/+$/, '');
}
