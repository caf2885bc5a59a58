/** The incident routes of docs/api.md ("Incident pushes"), and the demo sandboxes' incidents and records. */
import type { IncidentPush, IncidentRecord } from '$lib/core/incidents';

type Call = <T>(method: string, path: string, body?: unknown) => Promise<T>;
const q = encodeURIComponent;

/** A webhook secret as issued: shown once. */
export interface IssuedSecret {
	secret: string;
	url: string;
	signatureHeader: string;
	timestampHeader: string;
	/** The demo sandbox that was configured with it, if the closing system is one. */
	configured?: string;
}

/** An incident in the demo's Operations Center. */
export interface DemoIncident {
	id: string;
	title: string;
	type: string;
	location?: string;
	startedAt: string;
	endedAt?: string;
	state: 'open' | 'closed';
	people: { id: string; role: string }[];
}

/** A record Team Manager stored. */
export interface StoredRecord extends IncidentRecord {
	id: string;
	createdAt: string;
}

export function incidentRoutes(call: Call) {
	return {
		issueIncidentSecret: (id: string) => call<IssuedSecret>('POST', `/links/${q(id)}/incident-secret`),
		incidentPushes: (id: string) => call<IncidentPush[]>('GET', `/links/${q(id)}/incidents`),
		incidentPush: (id: string, key: string) =>
			call<{ push: IncidentPush; record: IncidentRecord }>('GET', `/links/${q(id)}/incidents/${q(key)}`),
		resendIncident: (id: string, key: string) =>
			call<IncidentPush>('POST', `/links/${q(id)}/incidents/${q(key)}/resend`),
		demoIncidents: (systemId: string) => call<DemoIncident[]>('GET', `/sandbox/${q(systemId)}/incidents`),
		openDemoIncident: (
			systemId: string,
			incident: { title: string; type?: string; location?: string; people: { id: string; role?: string }[] }
		) => call<DemoIncident>('POST', `/sandbox/${q(systemId)}/incidents`, incident),
		closeDemoIncident: (systemId: string, incidentId: string) =>
			call<{ incident: DemoIncident; webhooks: { linkId: string; status: number }[] }>(
				'POST',
				`/sandbox/${q(systemId)}/incidents/${q(incidentId)}/close`
			),
		storedRecord: (systemId: string, recordId: string) =>
			call<StoredRecord>('GET', `/sandbox/${q(systemId)}/records/${q(recordId)}`)
	};
}
