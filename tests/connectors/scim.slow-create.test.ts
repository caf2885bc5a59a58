/**
 * A slow SCIM server that makes the user, then answers the POST after the time limit. The create
 * happened: reported as failed, the next plan would adopt the record as someone else's and never
 * invite the newcomer. Like a 409 for our own earlier create, the record is found by its shared
 * identifier; a create the server did not make stays a failure.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ScimConnector } from '../../worker/connectors/scim';
import { ConnectorError } from '../../worker/connectors/types';
import { ops, resolve } from '../support/scim-ops';
import { closeScripted, CORE_USER, scripted } from '../support/scim-scripted';

/** The server answers a create this late, well after the connector's limit (TIMEOUT_MS). */
const ANSWER_MS = 5_000;
/**
 * The user is stored as soon as the body is in, the connector looks for it after this: a margin
 * for a busy test process, whose server shares the event loop with the connector.
 */
const TIMEOUT_MS = 1_000;

const answers: NodeJS.Timeout[] = [];
afterEach(async () => {
	for (const t of answers.splice(0)) clearTimeout(t);
	await closeScripted();
});

/** A server answering every POST /Users after ANSWER_MS; `makes`: whether it stores the user first. */
async function slowServer(makes: boolean): Promise<{ c: ScimConnector; users: Record<string, unknown>[] }> {
	const users: Record<string, unknown>[] = [];
	const c = await scripted(
		({ req, path, url, send, list, notFound }) => {
			if (path === '/ServiceProviderConfig')
				return send(200, { patch: { supported: true }, filter: { supported: true } });
			if (path === '/ResourceTypes') return list([{ name: 'User', endpoint: '/Users', schema: CORE_USER }]);
			if (path === '/Users' && req.method === 'POST') {
				let text = '';
				req.on('data', (chunk) => (text += chunk));
				req.on('end', () => {
					const created = { ...JSON.parse(text), id: `u${users.length + 1}` };
					if (makes) users.push(created);
					answers.push(setTimeout(() => send(makes ? 201 : 503, created), ANSWER_MS));
				});
				return;
			}
			if (path === '/Users') {
				// Only `eq` filters, as many servers.
				const m = /^(\w+) eq "(.*)"$/.exec(url.searchParams.get('filter') ?? '');
				return list(m ? users.filter((u) => u[m[1]] === m[2]) : users);
			}
			return notFound();
		},
		{ systemId: 'slow', limits: { timeoutMs: TIMEOUT_MS } }
	);
	return { c, users };
}

const ann = ops.createPerson({ externalId: 'E-1', displayName: 'Ann', email: 'ann@example.org' });

describe('a create answered after the time limit', () => {
	it('that the server made: the record it made, not a failure', async () => {
		const { c, users } = await slowServer(true);
		expect(await c.apply(ann, resolve)).toEqual({ id: 'u1' });
		expect(users).toHaveLength(1);
	});

	it('that the server did not make: still the time-out, naming the record', async () => {
		const { c, users } = await slowServer(false);
		const e = await c.apply(ann, resolve).catch((x: unknown) => x);
		expect(e).toBeInstanceOf(ConnectorError);
		expect(e).toMatchObject({ code: 'unreachable', recordId: 'E-1' });
		expect(users).toEqual([]);
	});
});
