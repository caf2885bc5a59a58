/** The provisioning routes of docs/api.md: removed people, restores, invitations and notices. */
import type { NoticeView, RemovedPerson, RunSummary } from './types';

type Call = <T>(method: string, path: string, body?: unknown) => Promise<T>;
const q = encodeURIComponent;

export function provisioningRoutes(call: Call) {
	return {
		/** The people sync removed, with "restorable until" and "anonymized on". */
		removed: (id: string) => call<RemovedPerson[]>('GET', `/links/${q(id)}/removed`),
		/** Restores a removed person within retention: a run of one operation (owner). */
		restorePerson: (id: string, personId: string) =>
			call<RunSummary>('POST', `/links/${q(id)}/removed/${q(personId)}/restore`),
		/** Invitations and transfer notices with their state. */
		notices: (id: string) => call<NoticeView[]>('GET', `/links/${q(id)}/notices`)
	};
}
