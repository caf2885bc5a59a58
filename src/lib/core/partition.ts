/**
 * Splitting a link's people into parts that can be reconciled one after the other, so a 100k
 * directory never has to be in memory at once (the edge runs in 128 MB).
 *
 * Two people land in the same part when anything could make reconciliation look at them together:
 * a baseline pair, a link a person chose, or a match key they share (on either side, in any pass;
 * a newcomer whose key a paired record holds is then beside that record too). These are the
 * connected components of a graph over tokens (record ids and key values), kept in a union-find.
 *
 * Tokens are 30-bit hashes, so the structure holds small integers only. A collision joins two
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

export class PartitionIndex {
  readonly #parent = new Map<number, number>();
  readonly #passes: MatchPass<Person>[];

  constructor(link: LinkConfig) {
    this.#passes = personPasses(link);
  }

  #find(x: number): number {
    if (!this.#parent.has(x)) return x;
    // Path halving: every node on the way points to its grandparent after the look-up.
    for (let p = this.#parent.get(x)!; p !== x; p = this.#parent.get(x)!) {
      const gp = this.#parent.get(p)!;
      this.#parent.set(x, gp);
      x = gp;
    }
    return x;
  }

  #union(x: number, y: number): void {
    if (!this.#parent.has(x)) this.#parent.set(x, x);
    if (!this.#parent.has(y)) this.#parent.set(y, y);
    const rx = this.#find(x);
    const ry = this.#find(y);
    if (rx !== ry) this.#parent.set(rx, ry);
  }

  /** A person as read: its id joined with each of its match keys. */
  person(side: Side, p: Person): void {
    const id = idToken(side, p.id);
    if (!this.#parent.has(id)) this.#parent.set(id, id);
    for (const pass of this.#passes) {
      const key = pass.key(p, side);
      if (key !== '') this.#union(id, keyToken(key));
    }
  }

  /** Two records that reconciliation pairs by id: a person baseline entry, a chosen link. */
  pair(a: string, b: string): void {
    this.#union(idToken('a', a), idToken('b', b));
  }

  entry(e: BaselineEntry): void {
    if (e.kind === 'person') this.pair(e.a, e.b);
  }

  /** The part of a person, out of `count`. */
  partOf(side: Side, id: string, count: number): number {
    return this.#find(idToken(side, id)) % count;
  }

  /** The part a group's baseline member belongs to: its person's on side A (or B if A never had it). */
  memberPart(m: BaselineMember, count: number): number {
    const a = idToken('a', m[0]);
    if (this.#parent.has(a)) return this.#find(a) % count;
    return this.#find(idToken('b', m[1])) % count;
  }

  /** Tokens held: what the index costs (a few dozen bytes each). */
  get size(): number {
    return this.#parent.size;
  }
}

/** Parts for a directory of `people` (the larger side): about `perPart` people per part. */
export const partCount = (people: number, perPart = 5000): number => Math.max(1, Math.ceil(people / perPart));
