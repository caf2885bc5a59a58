/**
 * The page's handle on the reconcile Web Worker: one worker for the app's lifetime, started on
 * first use. Arguments must survive structured clone: pass `$state.snapshot(x)`, never a proxy.
 */
import * as Comlink from 'comlink';
import type { ReconcileApi } from './api';

export type { ReconcileApi, ReviewSummary, SystemFields, SnapshotInfo } from './api';
export type { ReviewRow, ReviewFilter, PairDetail } from './review';

let remote: Comlink.Remote<ReconcileApi> | undefined;

export function reconcileWorker(): Comlink.Remote<ReconcileApi> {
	if (!remote) {
		const worker = new Worker(new URL('./reconcile.worker.ts', import.meta.url), { type: 'module', name: 'reconcile' });
		remote = Comlink.wrap<ReconcileApi>(worker);
	}
	return remote;
}
