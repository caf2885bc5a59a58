/**
 * Reads of one system's snapshot that overlap share one read: twenty people polling a
 * 10k-person directory cost one read of it at a time, not twenty reads competing for the same
 * single-threaded isolate. Only a read under way is shared; a request made after it ended starts
 * its own, so nobody is answered from a read that ended before they asked.
 */
export class SharedReads {
	readonly #underway = new Map<string, Promise<string>>();

	/** The JSON text of `read()`'s answer, from the read of `key` under way if there is one. */
	text(key: string, read: () => Promise<unknown>): Promise<string> {
		const current = this.#underway.get(key);
		if (current) return current;
		const next = read()
			.then((value) => JSON.stringify(value))
			.finally(() => this.#underway.delete(key));
		this.#underway.set(key, next);
		return next;
	}

	/** Reads under way (for tests). */
	get size(): number {
		return this.#underway.size;
	}
}
