/**
 * A link's large answers are gzipped once per tag and kept while the tag is current; one too
 * large to keep is not kept (its callers stream it plain); a read that fails is not kept.
 */
import { describe, expect, it } from 'vitest';
import { PackedAnswers } from '../../worker/link/packed-answers';

const plain = (text: string) => new Response(text).body!;

async function unpack(packed: Uint8Array | undefined): Promise<string> {
	if (!packed) throw new Error('no answer');
	return new Response(new Response(packed).body!.pipeThrough(new DecompressionStream('gzip'))).text();
}

/** A body maker that counts its calls. */
function counted(text: string) {
	const made = { calls: 0, body: () => (made.calls++, plain(text)) };
	return made;
}

const answer = JSON.stringify({
	ops: Array.from({ length: 2000 }, (_, i) => ({ type: 'create-person', id: `p${i}` }))
});

describe('PackedAnswers', () => {
	it('reads and packs an answer once per tag, and again under a new tag', async () => {
		const packed = new PackedAnswers();
		const made = counted(answer);
		const [first, second] = await Promise.all([
			packed.get('plan', '"t1"', made.body),
			packed.get('plan', '"t1"', made.body)
		]);
		expect(first).toBeInstanceOf(Uint8Array);
		expect(first!.byteLength).toBeLessThan(answer.length / 5);
		expect(await unpack(first)).toBe(answer);
		expect(second).toBe(first);
		expect(made.calls).toBe(1);

		const other = counted('{"other":true}');
		expect(await unpack(await packed.get('snapshots', '"t1"', other.body))).toBe('{"other":true}');
		expect(await packed.get('plan', '"t1"', made.body)).toBe(first);
		expect(made.calls).toBe(1);

		const next = counted('{"next":1}');
		expect(await unpack(await packed.get('plan', '"t2"', next.body))).toBe('{"next":1}');
		expect(next.calls).toBe(1);
	});

	it('gives the packed bytes of a tag without waiting once packed, and nothing for another tag', async () => {
		const packed = new PackedAnswers();
		const packing = packed.get('plan', '"t1"', counted(answer).body);
		expect(packed.ready('plan', '"t1"')).toBeUndefined();
		const bytes = await packing;
		expect(packed.ready('plan', '"t1"')).toBe(bytes);
		expect(packed.ready('plan', '"t2"')).toBeUndefined();
		expect(packed.ready('snapshots', '"t1"')).toBeUndefined();
		// Too large to keep: nothing is ready, the caller reads as before.
		const small = new PackedAnswers(64);
		await small.get('plan', '"big"', counted(answer).body);
		expect(small.ready('plan', '"big"')).toBeUndefined();
	});

	it('keeps no answer too large to keep: its callers get undefined and stream it plain', async () => {
		const packed = new PackedAnswers(64);
		const made = counted(answer);
		expect(await packed.get('plan', '"big"', made.body)).toBeUndefined();
		expect(await packed.get('plan', '"big"', made.body)).toBeUndefined();
		expect(made.calls).toBe(1);
		expect(await unpack(await packed.get('plan', '"small"', () => plain('{}')))).toBe('{}');
	});

	it('keeps nothing from a read that failed, and answers null when there is no answer', async () => {
		const packed = new PackedAnswers();
		const failing = () =>
			new ReadableStream<Uint8Array>({
				pull: () => {
					throw new Error('The plan was replaced while it was read: read it again.');
				}
			});
		await expect(packed.get('plan', '"t1"', failing)).rejects.toThrow('replaced');
		const made = counted(answer);
		expect(await unpack(await packed.get('plan', '"t1"', made.body))).toBe(answer);
		expect(made.calls).toBe(1);
		expect(await packed.get('plan', '"t3"', () => null)).toBeUndefined();
	});
});
