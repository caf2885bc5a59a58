/**
 * Reads of one system's snapshot that overlap share one read: twenty people polling a
 * 10k-person directory cost one read of it at a time, not twenty reads competing for the same
 * single-threaded isolate. Only a read under way is shared; a request made after it ended starts
 * its own, so nobody is answered from a read that ended before they asked.
 */
import { gzip } from '../http';

/** A read as JSON text, and the version of the records it holds (when the system gave one). */
export interface SharedAnswer {
	text: string;
	version?: string;
	/** The text gzipped, packed on first ask and then shared by every caller of this read. */
	gzipped(): Promise<Uint8Array>;
}

/** `text` gzipped once, however many callers ask. */
function packer(text: string): () => Promise<Uint8Array> {
	let packed: Promise<Uint8Array> | undefined;
	return () => (packed ??= new Response(gzip(new Response(text).body!)).arrayBuffer().then((b) => new Uint8Array(b)));
}

export class SharedReads {
	readonly #underway = new Map<string, Promise<SharedAnswer>>();

	/** `read()`'s answer as JSON, from the read of `key` under way if there is one. */
	answer(key: string, read: () => Promise<object>): Promise<SharedAnswer> {
		const current = this.#underway.get(key);
		if (current) return current;
		const next = read()
			.then((value) => {
				const version = (value as { version?: unknown }).version;
				const text = JSON.stringify(value);
				return { text, gzipped: packer(text), ...(typeof version === 'string' ? { version } : {}) };
			})
			.finally(() => this.#underway.delete(key));
		this.#underway.set(key, next);
		return next;
	}

	/** Reads under way (for tests). */
	get size(): number {
		return this.#underway.size;
	}
}
