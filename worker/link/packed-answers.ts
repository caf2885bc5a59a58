/**
 * The link's large tagged answers (the plan, the snapshots it was made from) gzipped once per tag
 * and kept while that tag is current. After a run makes a new plan, twenty people fetching it
 * cost one read of its rows and one compression, then a copy of the packed bytes each (a 10k
 * first provisioning: 19 MB of JSON), instead of twenty reads of the rows and twenty full
 * transfers on the isolate's one thread. Bounded: an answer larger than MAX_KEPT_BYTES once
 * packed is not kept, and its callers get the plain stream as before (a 100k-person plan).
 */
import { gzip } from '../http';

/** Packed bytes kept per answer at most: two answers of a link are 12 MB of its isolate's 128 MB. */
export const MAX_KEPT_BYTES = 6 * 1024 * 1024;

/** The tag packed last for an answer; `bytes` once packing finished with an answer small enough to keep. */
interface Kept {
	etag: string;
	packing: Promise<Uint8Array | undefined>;
	bytes?: Uint8Array;
}

export class PackedAnswers {
	/** By answer (plan, snapshots): the tag packed last, and its bytes (undefined: too large). */
	readonly #kept = new Map<string, Kept>();

	constructor(private readonly maxBytes = MAX_KEPT_BYTES) {}

	/**
	 * The gzipped answer of `etag`, read with `body` once per tag; undefined when there is no
	 * answer or it is too large to keep (the caller then streams it plain).
	 */
	async get(
		name: string,
		etag: string,
		body: () => ReadableStream<Uint8Array> | null
	): Promise<Uint8Array | undefined> {
		const kept = this.#kept.get(name);
		if (kept?.etag === etag) return kept.packing;
		const plain = body();
		if (!plain) return undefined;
		const packing = collect(gzip(plain), this.maxBytes);
		const entry: Kept = { etag, packing };
		this.#kept.set(name, entry);
		packing.then(
			(bytes) => (entry.bytes = bytes),
			// A read that failed (the plan was replaced meanwhile) is not kept: the next caller reads again.
			() => this.#kept.get(name) === entry && this.#kept.delete(name)
		);
		return packing;
	}

	/**
	 * The packed answer of `etag` if its packing has finished, without waiting for anything: a
	 * caller can be answered with it while the link plans again (see LinkDO.plan).
	 */
	ready(name: string, etag: string): Uint8Array | undefined {
		const kept = this.#kept.get(name);
		return kept?.etag === etag ? kept.bytes : undefined;
	}
}

/** The whole of `stream` in one array, or undefined (and the stream cancelled) past `max` bytes. */
async function collect(stream: ReadableStream<Uint8Array>, max: number): Promise<Uint8Array | undefined> {
	const reader = stream.getReader();
	const chunks: Uint8Array[] = [];
	let size = 0;
	for (;;) {
		const { done, value } = await reader.read();
		if (done) break;
		chunks.push(value);
		size += value.byteLength;
		if (size > max) {
			await reader.cancel('too large to keep').catch(() => undefined);
			return undefined;
		}
	}
	const bytes = new Uint8Array(size);
	let at = 0;
	for (const c of chunks) {
		bytes.set(c, at);
		at += c.byteLength;
	}
	return bytes;
}
