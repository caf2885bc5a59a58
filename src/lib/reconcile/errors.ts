/**
 * Comlink passes a thrown Error as message, name and stack only. An ApiError's status and code
 * matter to the page (offline? forbidden? requires action?), so the worker's side adds them; the
 * page's side (comlink's own deserialize) copies them onto the Error it rethrows.
 */
import * as Comlink from 'comlink';
import { ApiError } from '$lib/api/client';

type Serialized = { isError: boolean; value: Record<string, unknown> };

const builtIn = Comlink.transferHandlers.get('throw')!;
Comlink.transferHandlers.set('throw', {
	canHandle: builtIn.canHandle,
	serialize(thrown: unknown) {
		const [serialized, transfers] = builtIn.serialize(thrown) as [Serialized, Transferable[]];
		const error = (thrown as { value?: unknown }).value;
		if (serialized.isError && error instanceof ApiError) {
			Object.assign(serialized.value, { status: error.status, code: error.code, issues: error.issues });
		}
		return [serialized, transfers];
	},
	deserialize: builtIn.deserialize
});

/** Status and code of an error from the edge, thrown here or passed through the worker. */
export function errorInfo(error: unknown): { status: number; code: string; message: string } {
	const e = error as { status?: number; code?: string; message?: string };
	return {
		status: typeof e?.status === 'number' ? e.status : -1,
		code: e?.code ?? 'error',
		message: e?.message ?? String(error)
	};
}
