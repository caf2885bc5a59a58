/**
 * The snapshot version: a digest of its content, so it changes whenever any record changes and
 * stays the same when nothing did (whatever order the system listed records in).
 *
 * Local until the core exports its own snapshot version; same algorithm family (FNV-1a over
 * canonical JSON) so pointing at the core's changes nothing but the values.
 */
import type { Snapshot } from '$lib/core/model';

/** FNV-1a, 32 bits, as 8 hex digits. Not cryptographic: it versions content, it guards nothing. */
function fnv1a(text: string, seed: number): string {
	let h = seed >>> 0;
	for (let i = 0; i < text.length; i++) {
		h ^= text.charCodeAt(i);
		h = Math.imul(h, 0x01000193) >>> 0;
	}
	return h.toString(16).padStart(8, '0');
}

/** JSON with object keys sorted and undefined members left out. */
export function canonicalJson(value: unknown): string {
	if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
	if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
	const obj = value as Record<string, unknown>;
	const keys = Object.keys(obj)
		.filter((k) => obj[k] !== undefined)
		.sort();
	return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

/** Two 32-bit FNV-1a digests with different seeds: 64 bits keep accidental collisions out of reach. */
export const digest = (text: string): string => fnv1a(text, 0x811c9dc5) + fnv1a(text, 0x050c5d1f);

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const membershipKey = (m: Snapshot['memberships'][number]) => `${m.groupId}\u0000${m.personId}\u0000${m.role}`;

/** The version of a snapshot's records: independent of listing order. */
export function snapshotVersion(records: Pick<Snapshot, 'people' | 'groups' | 'memberships'>): string {
	const memberships = [...records.memberships].sort((a, b) => {
		const ka = membershipKey(a);
		const kb = membershipKey(b);
		return ka < kb ? -1 : ka > kb ? 1 : 0;
	});
	return digest(
		canonicalJson({
			people: [...records.people].sort(byId),
			groups: [...records.groups].sort(byId),
			memberships
		})
	);
}
