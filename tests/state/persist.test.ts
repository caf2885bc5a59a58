import { describe, expect, it, vi } from 'vitest';
import { persistStorage } from '$lib/state/persist';

const manager = (persisted: boolean, grant: boolean | Error) =>
	({
		persisted: vi.fn(async () => persisted),
		persist: vi.fn(async () => {
			if (grant instanceof Error) throw grant;
			return grant;
		})
	}) as unknown as StorageManager & { persist: ReturnType<typeof vi.fn> };

describe('asking for persistent storage after sign-in', () => {
	it('asks when storage is not yet persistent, and says what the browser answered', async () => {
		const granted = manager(false, true);
		expect(await persistStorage(granted)).toBe(true);
		expect(granted.persist).toHaveBeenCalledOnce();
		expect(await persistStorage(manager(false, false))).toBe(false);
	});

	it('does not ask again once it is persistent', async () => {
		const already = manager(true, false);
		expect(await persistStorage(already)).toBe(true);
		expect(already.persist).not.toHaveBeenCalled();
	});

	it('a browser that fails to answer has declined; one without the API cannot be asked', async () => {
		expect(await persistStorage(manager(false, new Error('denied')))).toBe(false);
		expect(await persistStorage(undefined)).toBeUndefined();
		expect(await persistStorage({} as StorageManager)).toBeUndefined();
	});
});
