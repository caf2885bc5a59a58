/** The preview routes of docs/api.md: what a run or an undo would do, for an owner to confirm. */
import type { RunPreview, RunSummary, UndoPreview } from './types';

type Call = <T>(method: string, path: string, body?: unknown) => Promise<T>;
const q = encodeURIComponent;

export function confirmRoutes(call: Call) {
	return {
		/** Reconciles afresh and says what a run started now would do (nothing is written). */
		runPreview: (id: string) => call<RunPreview>('POST', `/links/${q(id)}/runs/preview`),
		/** What undoing a run would do (owner), refused as the undo itself would be. */
		undoPreview: (id: string, runId: string) => call<UndoPreview>('GET', `/links/${q(id)}/runs/${q(runId)}/undo`),
		/** Undoes exactly what the preview with this digest showed, or is refused (409). */
		undoPreviewed: (id: string, runId: string, digest: string) =>
			call<RunSummary>('POST', `/links/${q(id)}/runs/${q(runId)}/undo`, { expect: digest })
	};
}
