/**
 * Reads through the edge and remembers the answer; offline, answers from what was remembered.
 * `at` is set only when the value came from the cache, so a screen can say how old it is.
 */
import { errorInfo } from '$lib/reconcile/errors';
import { getDb, recall, remember } from '$lib/db';

export interface Cached<T> {
	value: T;
	/** ISO instant of the remembered answer, when offline; undefined when fresh. */
	at?: string;
}

export async function cached<T>(key: string, load: () => Promise<T>): Promise<Cached<T>> {
	try {
		return { value: await remember(getDb(), key, await load()) };
	} catch (e) {
		if (errorInfo(e).status !== 0) throw e;
		const old = await recall<T>(getDb(), key);
		if (!old) throw e;
		return old;
	}
}
