/**
 * The rules routes of the edge API (docs/api.md, "Rules"), typed by the contract in ./rules.ts.
 * Kept apart from client.ts so the rules screens and the link screens can change independently;
 * createApi spreads these into the one client.
 */
import type { PeopleMap, RunProgress, SystemView } from './types';
import type {
	NewRule,
	RuleActionPreview,
	RuleConfig,
	RulePatch,
	RulePreview,
	RuleRunDetails,
	RuleRunSummary,
	RuleView
} from './rules';

type Call = <T>(method: string, path: string, body?: unknown) => Promise<T>;
type Stream = (path: string, onEvent: (event: string, data: string) => void, signal?: AbortSignal) => Promise<void>;

/** The preview's searchable, paged list of people: `q` matches name, email and building. */
export interface PreviewPage {
	q?: string;
	offset?: number;
	limit?: number;
}

const q = encodeURIComponent;

function pageQuery({ q: text, offset, limit }: PreviewPage = {}): string {
	const params = new URLSearchParams();
	if (text) params.set('q', text);
	if (offset !== undefined) params.set('offset', String(offset));
	if (limit !== undefined) params.set('limit', String(limit));
	const s = params.toString();
	return s ? `?${s}` : '';
}

export function ruleRoutes(call: Call, stream: Stream) {
	return {
		/** Where the system keeps buildings and member types, which its rules read. Owners only. */
		updatePeopleMap: (systemId: string, peopleMap: PeopleMap) =>
			call<SystemView>('PATCH', `/systems/${q(systemId)}`, { peopleMap }),
		rules: (systemId: string) => call<RuleView[]>('GET', `/systems/${q(systemId)}/rules`),
		/** Creates a rule (disabled unless `enabled`: then it applies at once). Owners only. */
		createRule: (systemId: string, rule: NewRule) => call<RuleView>('POST', `/systems/${q(systemId)}/rules`, rule),
		/** What a rule not saved yet would do now, on the system's latest snapshot. Reviewers and owners. */
		previewNewRule: (systemId: string, config: RuleConfig, page?: PreviewPage) =>
			call<RulePreview>('POST', `/systems/${q(systemId)}/rules/preview${pageQuery(page)}`, config),
		rule: (ruleId: string) => call<RuleView>('GET', `/rules/${q(ruleId)}`),
		/** Changes a rule; `enabled: true` turns it on (it applies at once). Turning off is disableRule. */
		updateRule: (ruleId: string, patch: RulePatch) => call<RuleView>('PATCH', `/rules/${q(ruleId)}`, patch),
		deleteRule: (ruleId: string) => call<void>('DELETE', `/rules/${q(ruleId)}`),
		/** What the saved rule (with `patch` applied, when given) would do now. */
		previewRule: (ruleId: string, patch?: RulePatch, page?: PreviewPage) =>
			call<RulePreview>('POST', `/rules/${q(ruleId)}/preview${pageQuery(page)}`, patch ?? {}),
		startRuleRun: (ruleId: string, dryRun: boolean) =>
			call<RuleRunSummary>('POST', `/rules/${q(ruleId)}/run`, { dryRun }),
		/** Turns a rule off, keeping or removing exactly the members it added; `dryRun` only counts. */
		disableRule: (ruleId: string, removeMembers: boolean) =>
			call<RuleView>('POST', `/rules/${q(ruleId)}/disable`, { removeMembers }),
		previewDisableRule: (ruleId: string, removeMembers: boolean) =>
			call<RuleActionPreview>('POST', `/rules/${q(ruleId)}/disable`, { removeMembers, dryRun: true }),
		ruleRuns: (ruleId: string, limit = 30) => call<RuleRunSummary[]>('GET', `/rules/${q(ruleId)}/runs?limit=${limit}`),
		ruleRun: (ruleId: string, runId: string, offset = 0, limit = 200) =>
			call<RuleRunDetails>('GET', `/rules/${q(ruleId)}/runs/${q(runId)}?offset=${offset}&limit=${limit}`),
		undoRuleRun: (ruleId: string, runId: string) =>
			call<RuleRunSummary>('POST', `/rules/${q(ruleId)}/runs/${q(runId)}/undo`, {}),
		previewUndoRuleRun: (ruleId: string, runId: string) =>
			call<RuleActionPreview>('POST', `/rules/${q(ruleId)}/runs/${q(runId)}/undo`, { dryRun: true }),
		/** Follows a rule run's progress until it is no longer running (or `signal` aborts). */
		ruleRunEvents: (ruleId: string, runId: string, onProgress: (p: RunProgress) => void, signal?: AbortSignal) =>
			stream(
				`/rules/${q(ruleId)}/runs/${q(runId)}/events`,
				(event, data) => {
					if (event !== 'progress') return;
					try {
						onProgress(JSON.parse(data) as RunProgress);
					} catch {
						// a malformed event is skipped; the next one carries the whole tally again
					}
				},
				signal
			)
	};
}
