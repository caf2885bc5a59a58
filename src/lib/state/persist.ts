/**
 * Persistent storage for this origin (navigator.storage.persist()): without it a browser may
 * evict IndexedDB under storage pressure, and with it answers given offline and not yet sent.
 * Asked after signing in, when the person has just shown they mean to use the app here.
 */

/**
 * True when this origin's storage is persistent (already, or granted now), false when the
 * browser declined, undefined when it has no such API (then nothing can be asked).
 */
export async function persistStorage(
	storage: StorageManager | undefined = globalThis.navigator?.storage
): Promise<boolean | undefined> {
	if (!storage?.persist || !storage.persisted) return undefined;
	try {
		return (await storage.persisted()) || (await storage.persist());
	} catch {
		return false;
	}
}
