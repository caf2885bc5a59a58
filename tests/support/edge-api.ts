/**
 * The edge's JSON API as the end-to-end tests call it beside the app: what a screen says is
 * checked against what the edge answers here.
 */
import type { RunSummary } from '../../src/lib/api/types';

export interface ApiInit {
	/** GET without a body, POST with one, unless named. */
	method?: string;
	body?: unknown;
	/** Another caller's token (a viewer, an operator); the owner's otherwise. */
	bearer?: string;
}

export type Api = <T = unknown>(path: string, init?: ApiInit) => Promise<T>;

/** Calls `/api<path>`; an answer other than 2xx throws, naming the route, the status and the body. */
export function edgeApi(baseURL: string, token: string): Api {
	return async <T>(path: string, init: ApiInit = {}): Promise<T> => {
		const method = init.method ?? (init.body === undefined ? 'GET' : 'POST');
		const res = await fetch(`${baseURL}/api${path}`, {
			method,
			headers: {
				authorization: `Bearer ${init.bearer ?? token}`,
				...(init.body === undefined ? {} : { 'content-type': 'application/json' })
			},
			body: init.body === undefined ? undefined : JSON.stringify(init.body)
		});
		const text = await res.text();
		if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
		return (text ? JSON.parse(text) : undefined) as T;
	};
}

/** The run, once it is no longer running (polled every half second, for up to two minutes). */
export async function finishedRun(api: Api, linkId: string, runId: string): Promise<RunSummary> {
	const deadline = Date.now() + 120_000;
	for (;;) {
		const run = (await api<RunSummary[]>(`/links/${linkId}/runs?limit=10`)).find((r) => r.id === runId);
		if (!run) throw new Error(`run ${runId} is not among link ${linkId}'s ten latest runs`);
		if (run.status !== 'running') return run;
		if (Date.now() > deadline) throw new Error(`run ${runId} still running after two minutes`);
		await new Promise((r) => setTimeout(r, 500));
	}
}
