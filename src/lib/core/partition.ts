/**
 * Splitting a link's people into parts that can be reconciled one after the other, so a 100k
 * directory never has to be in memory at once (the edge runs in 128 MB).
 *
 * Two people land in the same part when anything could make reconciliation look at them together:
 * a baseline pair, a link a person chose, or a match key they share (on either side, in any pass;
 * a newcomer whose key a paired record holds is then beside that record too). These are the
 * connected components of a graph over tokens (record ids and key values), kept in a union-find.
 *
 * Tokens are 30-bit hashes, so the structure holds small integers only (see TokenForest). A collision joins two
 * components that did not need to be joined: a part grows a little, nothing is reconciled wrongly.
 * Groups are few and go to every part; memberships go with their person.
 */
import type { BaselineEntry, BaselineMember, LinkConfig, Person, Side } from './model';
import { personPasses } from './people';
import type { MatchPass } from './match';

function token(text: string): number {
	let h = 0x811c9dc5;
	for (let i = 0; i < text.length; i++) {
		h ^= text.charCodeAt(i);
		h = Math.imul(h, 0x01000193);
	}
	return h & 0x3fffffff;
}

const idToken = (side: Side, id: string) => token(`${side}\u0000${id}`);
const keyToken = (key: string) => token(`k\u0000${key}`);

/**
 * A union-find over 30-bit tokens in two typed arrays (open addressing, linear probing): about 10
 * bytes a token where a Map would take several times that, for the 600k tokens of a 100k link.
 */
class TokenForest {
	#keys = new Int32Array(1 << 12);
	#parent = new Int32Array(1 << 12);
	#size = 0;

	get size(): number {
		return this.#size;
	}

	/** The slot of a token, or -1. Slots hold token + 1, so 0 is empty. */
	#slot(token: number): number {
		const mask = this.#keys.length - 1;
		for (let i = Math.imul(token, 0x9e3779b1) & mask; ; i = (i + 1) & mask) {
			const k = this.#keys[i];
			if (k === 0) return -1 - i;
			if (k === token + 1) return i;
		}
	}

	#grow(): void {
		const keys = this.#keys;
		const parent = this.#parent;
		this.#keys = new Int32Array(keys.length * 2);
		this.#parent = new Int32Array(keys.length * 2);
		const moved = new Int32Array(keys.length);
		for (let i = 0; i < keys.length; i++) {
			if (keys[i] === 0) continue;
			const at = -1 - this.#slot(keys[i] - 1);
			this.#keys[at] = keys[i];
			moved[i] = at;
		}
		for (let i = 0; i < keys.length; i++) if (keys[i] !== 0) this.#parent[moved[i]] = moved[parent[i]];
	}

	/** The slot of a token, added as its own root when new. */
	add(token: number): number {
		let s = this.#slot(token);
		if (s >= 0) return s;
		if ((this.#size + 1) * 4 > this.#keys.length * 3) {
			this.#grow();
			s = this.#slot(token);
		}
		const at = -1 - s;
		this.#keys[at] = token + 1;
		this.#parent[at] = at;
		this.#size++;
		return at;
	}

	has(token: number): boolean {
		return this.#slot(token) >= 0;
	}

	root(slot: number): number {
		const parent = this.#parent;
		// Path halving: every node on the way points to its grandparent after the look-up.
		while (parent[slot] !== slot) {
			parent[slot] = parent[parent[slot]];
			slot = parent[slot];
		}
		return slot;
	}

	/** The root token of a token's component (the token itself when never added). */
	rootToken(token: number): number {
		const s = this.#slot(token);
		return s < 0 ? token : this.#keys[this.root(s)] - 1;
	}

	union(x: number, y: number): void {
		// Both added before either slot is used: adding one may grow the table and move every slot.
		this.add(x);
		const sy = this.add(y);
		const rx = this.root(this.#slot(x));
		const ry = this.root(sy);
		if (rx !== ry) this.#parent[rx] = ry;
	}
}

export class PartitionIndex {
	readonly #forest = new TokenForest();
	readonly #passes: MatchPass<Person>[];

	constructor(link: LinkConfig) {
		this.#passes = personPasses(link);
	}

	/** A person as read: its id joined with each of its match keys. */
	person(side: Side, p: Person): void {
		const id = idToken(side, p.id);
		this.#forest.add(id);
		for (const pass of this.#passes) {
			const key = pass.key(p, side);
			if (key !== '') this.#forest.union(id, keyToken(key));
		}
	}

	/** Two records that reconciliation pairs by id: a person baseline entry, a chosen link. */
	pair(a: string, b: string): void {
		this.#forest.union(idToken('a', a), idToken('b', b));
	}

	entry(e: BaselineEntry): void {
		if (e.kind === 'person') this.pair(e.a, e.b);
	}

	/** The part of a person, out of `count`. */
	partOf(side: Side, id: string, count: number): number {
		return this.#forest.rootToken(idToken(side, id)) % count;
	}

	/** The part a group's baseline member belongs to: its person's on side A (or B if A never had it). */
	memberPart(m: BaselineMember, count: number): number {
		const a = idToken('a', m[0]);
		return this.#forest.rootToken(this.#forest.has(a) ? a : idToken('b', m[1])) % count;
	}

	/** Tokens held: what the index costs (about 10 bytes each). */
	get size(): number {
		return this.#forest.size;
	}
}

/** Parts for a directory of `people` (the larger side): about `perPart` people per part. */
export const partCount = (people: number, perPart = 5000): number => Math.max(1, Math.ceil(people / perPart));
