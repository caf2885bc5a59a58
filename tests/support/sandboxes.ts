/**
 * Browser tests' own directories: new, empty built-in sandboxes (so a test never depends on what
 * another test did to the demo's), filled and changed through their public SCIM routes as an
 * external SCIM client would, and the owner's API for what the edge holds.
 */

export interface Edge {
	/** The owner's API: JSON in, JSON out; throws on an unexpected status. */
	call<T = unknown>(method: string, path: string, body?: unknown, expect?: number): Promise<T>;
}

export function edge(baseURL: string, token: string): Edge {
	return {
		async call<T>(method: string, path: string, body?: unknown, expected?: number): Promise<T> {
			const res = await fetch(`${baseURL}/api${path}`, {
				method,
				headers: {
					authorization: `Bearer ${token}`,
					...(body === undefined ? {} : { 'content-type': 'application/json' })
				},
				body: body === undefined ? undefined : JSON.stringify(body)
			});
			const text = await res.text();
			if (expected !== undefined ? res.status !== expected : !res.ok)
				throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 500)}`);
			return (text ? JSON.parse(text) : undefined) as T;
		}
	};
}

export interface PersonSeed {
	userName: string;
	displayName: string;
	email: string;
	phone?: string;
	externalId?: string;
}

/** One sandbox directory and a SCIM client of it. */
export interface Sandbox {
	id: string;
	name: string;
	add(person: PersonSeed): Promise<string>;
	setPhone(id: string, phone: string): Promise<void>;
	remove(id: string): Promise<void>;
}

export async function createSandbox(api: Edge, name: string, region = 'eu'): Promise<Sandbox> {
	const system = await api.call<{ id: string }>('POST', '/systems', { name, connector: 'sandbox', region }, 201);
	const { baseUrl, token } = await api.call<{ baseUrl: string; token: string }>(
		'POST',
		`/sandbox/${encodeURIComponent(system.id)}/token`,
		undefined,
		201
	);
	const scim = async (method: string, path: string, body?: unknown) => {
		const res = await fetch(`${baseUrl}${path}`, {
			method,
			headers: {
				authorization: `Bearer ${token}`,
				...(body === undefined ? {} : { 'content-type': 'application/scim+json' })
			},
			body: body === undefined ? undefined : JSON.stringify(body)
		});
		const text = await res.text();
		if (!res.ok) throw new Error(`SCIM ${method} ${path} answered ${res.status}: ${text.slice(0, 500)}`);
		return text ? (JSON.parse(text) as { id: string }) : undefined;
	};
	return {
		id: system.id,
		name,
		async add(p) {
			const user = await scim('POST', '/Users', {
				schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
				userName: p.userName,
				displayName: p.displayName,
				...(p.externalId ? { externalId: p.externalId } : {}),
				emails: [{ value: p.email, type: 'work', primary: true }],
				...(p.phone ? { phoneNumbers: [{ value: p.phone, type: 'work' }] } : {})
			});
			return user!.id;
		},
		async setPhone(id, phone) {
			await scim('PATCH', `/Users/${encodeURIComponent(id)}`, {
				schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
				Operations: [{ op: 'replace', path: 'phoneNumbers', value: [{ value: phone, type: 'work' }] }]
			});
		},
		async remove(id) {
			await scim('DELETE', `/Users/${encodeURIComponent(id)}`);
		}
	};
}

/** Runs the link for real and waits for the run to end; returns its status. */
export async function runToEnd(api: Edge, linkId: string, timeoutMs = 45_000): Promise<string> {
	const run = await api.call<{ id: string }>(
		'POST',
		`/links/${encodeURIComponent(linkId)}/runs`,
		{ dryRun: false },
		202
	);
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const now = await api.call<{ status: string }>(
			'GET',
			`/links/${encodeURIComponent(linkId)}/runs/${encodeURIComponent(run.id)}?limit=1`
		);
		if (now.status !== 'running') return now.status;
		if (Date.now() > deadline) throw new Error(`run ${run.id} still running after ${timeoutMs} ms`);
		await new Promise((r) => setTimeout(r, 500));
	}
}
