/** Content digests: cheap, stable, and the same in Node, the browser and workerd. */

/** FNV-1a, 32 bits, as 8 hex digits. Not cryptographic: it versions content, it guards nothing. */
export function fnv1a(text: string, seed = 0x811c9dc5): string {
	let h = seed >>> 0;
	for (let i = 0; i < text.length; i++) {
		h ^= text.charCodeAt(i);
		h = Math.imul(h, 0x01000193) >>> 0;
	}
	return h.toString(16).padStart(8, '0');
}

/** JSON with object keys sorted, so equal content gives equal text whatever the key order. */
export function canonicalJson(value: unknown): string {
	if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
	if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
	const obj = value as Record<string, unknown>;
	// Built by appending, not with filter/map/join: every operation's key digests one of these.
	const keys = Object.keys(obj).sort();
	let out = '';
	for (const k of keys) {
		if (obj[k] === undefined) continue;
		out += `${out === '' ? '' : ','}${JSON.stringify(k)}:${canonicalJson(obj[k])}`;
	}
	return `{${out}}`;
}

/** A record's version: changes whenever any of its values changes. */
export const recordVersion = (record: unknown): string => fnv1a(canonicalJson(record));

/** Two 32-bit digests with different seeds: 64 bits keep accidental collisions out of reach. */
export const digest64 = (text: string): string => fnv1a(text) + fnv1a(text, 0x050c5d1f);
