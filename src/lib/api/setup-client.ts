/**
 * The edge routes behind setting things up and getting in (docs/api.md): sign-in links, a CSV
 * system's remembered column map, and previewed link changes. Kept apart from client.ts so these
 * screens and the others can change independently; createApi spreads these into the one client.
 */
import type { IssuedToken, LinkView, Role } from './types';
import type { IssuedSignInCode, SignInCodeView } from './sign-in';
import type { SavedColumns } from './csv-columns';
import type { LinkChangePreview } from './link-change';
import type { LinkConfig } from '$lib/core';

type Call = <T>(method: string, path: string, body?: unknown) => Promise<T>;

const q = encodeURIComponent;

export function setupRoutes(call: Call) {
	return {
		/** A one-time sign-in code for `role` (owner); shown once, as a link and a QR code. */
		issueSignInCode: (input: { name: string; role: Role; minutes?: number }) =>
			call<IssuedSignInCode>('POST', '/sign-in-codes', input),
		/** The codes issued lately: waiting, used or expired (never the codes themselves). */
		signInCodes: () => call<SignInCodeView[]>('GET', '/sign-in-codes'),
		/** Exchanges a one-time code for a bearer token (no credential needed). */
		exchangeSignInCode: (code: string) => call<IssuedToken>('POST', '/sign-in', { code }),
		/** A csv system's column map from its last upload, with that file's header (404 before one). */
		csvColumns: (systemId: string) => call<SavedColumns>('GET', `/systems/${q(systemId)}/csv/columns`),
		/** What a change of a link's settings would do (settings, next run, plan before and after); applies nothing. */
		previewLinkChange: (id: string, patch: Partial<LinkConfig>) =>
			call<LinkChangePreview>('PATCH', `/links/${q(id)}?dryRun=true`, patch),
		/** Applies a change of a link's settings (the edge plans under them when they change a plan). */
		changeLink: (id: string, patch: Partial<LinkConfig>) => call<LinkView>('PATCH', `/links/${q(id)}`, patch)
	};
}
