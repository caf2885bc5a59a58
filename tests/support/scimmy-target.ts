/**
 * The SCIMMY targets the worker project's globalSetup starts (tests/worker/global-setup.ts) and
 * hands to the tests in workerd through provide/inject. Types only, so both the Node side and
 * the workerd side can import it.
 */

/** The targets, by name; each test file uses only the ones it names. */
export const SCIMMY_TARGETS = ['flow', 'crash', 'batch', 'undo'] as const;
export type ScimmyName = (typeof SCIMMY_TARGETS)[number];

export interface ScimmyTarget {
	/** SCIM base URL (…/scim/v2) and its bearer token. */
	url: string;
	token: string;
	/** The control server: GET /state, POST /reset (tests/support/scimmy-server.ts). */
	control: string;
}

declare module 'vitest' {
	export interface ProvidedContext {
		/** Real SCIM 2.0 servers on 127.0.0.1, by name. */
		scimmy: Record<ScimmyName, ScimmyTarget>;
	}
}
