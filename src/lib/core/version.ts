/**
 * Snapshot versions that can be computed while a directory is still being read: each record's
 * digest is added into two 32-bit sums, so the version depends on the content and not on the
 * order records arrive in (pages read in parallel, a SQLite table, a sorted array).
 */
import { canonicalJson } from './digest';
import type { Group, Membership, Person } from './model';

const SEED_A = 0x811c9dc5;
const SEED_B = 0x050c5d1f;

function fnv(text: string, seed: number): number {
	let h = seed >>> 0;
	for (let i = 0; i < text.length; i++) {
		h ^= text.charCodeAt(i);
		h = Math.imul(h, 0x01000193) >>> 0;
	}
	return h;
}

export class VersionAccumulator {
	#a = 0;
	#b = 0;

	#add(text: string): void {
		this.#a = (this.#a + fnv(text, SEED_A)) >>> 0;
		this.#b = (this.#b + fnv(text, SEED_B)) >>> 0;
	}

	person(p: Person): void {
		this.#add(`p${canonicalJson(p)}`);
	}

	group(g: Group): void {
		this.#add(`g${canonicalJson(g)}`);
	}

	membership(m: Membership): void {
		this.#add(`m${m.groupId}\u0000${m.personId}\u0000${m.role}`);
	}

	/** 64 bits: equal content, equal version. */
	value(): string {
		const hex = (n: number) => n.toString(16).padStart(8, '0');
		return `${hex(this.#a)}${hex(this.#b)}`;
	}
}
