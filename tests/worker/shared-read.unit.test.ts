/** Overlapping snapshot reads of one system share one read; reads that do not overlap do not. */
import { describe, expect, it } from 'vitest';
import { SharedReads } from '../../worker/systems/shared-read';

function deferred<T>() {
	let resolve!: (value: T) => void;
	let reject!: (e: unknown) => void;
	const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
	return { promise, resolve, reject };
}

describe('SharedReads', () => {
	it('answers overlapping requests for one key from one read, and other keys from their own', async () => {
		const reads = new SharedReads();
		const gate = deferred<{ version?: string; people: string[] }>();
		let calls = 0;
		const read = () => (calls++, gate.promise);
		const first = reads.answer('sys-a', read);
		const second = reads.answer('sys-a', read);
		const other = reads.answer('sys-b', async () => ({ people: ['b'] }));
		gate.resolve({ version: 'v1', people: ['a'] });
		expect(await first).toMatchObject({ text: '{"version":"v1","people":["a"]}', version: 'v1' });
		expect(await second).toBe(await first);
		expect(await other).toMatchObject({ text: '{"people":["b"]}' });
		expect((await other).version).toBeUndefined();
		// Packed once for every caller of the read, and unpacked to the same text.
		const packed = await (await first).gzipped();
		expect(await (await second).gzipped()).toBe(packed);
		const unpacked = new Response(new Response(packed).body!.pipeThrough(new DecompressionStream('gzip')));
		expect(await unpacked.text()).toBe((await first).text);
		expect(calls).toBe(1);
		expect(reads.size).toBe(0);
	});

	it('starts a new read once the last one ended, also after a failure', async () => {
		const reads = new SharedReads();
		let calls = 0;
		await expect(
			reads.answer('sys', async () => {
				calls++;
				throw new Error('unreachable');
			})
		).rejects.toThrow('unreachable');
		expect((await reads.answer('sys', async () => (calls++, { ok: true }))).text).toBe('{"ok":true}');
		expect((await reads.answer('sys', async () => (calls++, { ok: 2 }))).text).toBe('{"ok":2}');
		expect(calls).toBe(3);
	});
});
