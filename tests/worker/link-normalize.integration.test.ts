/**
 * The edge plans from what the core's parseSnapshot makes of a system's records, not from what the
 * system sent: names in NFD, emails that differ only in case, and a match key held twice on one
 * side give, at the edge, exactly the plan the core's reconcile gives over parseSnapshot of the same
 * records. Sandbox to sandbox, two-way and provisioning, through the API.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
	makeLink,
	parseSnapshot,
	reconcile,
	type LinkConfig,
	type Person,
	type Reconciliation,
	type Snapshot
} from '$lib/core';
import type { LinkView } from '../../worker/link/types';
import { sandboxSystem } from '../support/links';
import { normalized } from '../support/plans';
import { api, expectJson, tokenFor, unique } from './support';

const NFD = (s: string) => s.normalize('NFD');

/** Side A: decomposed accents, stray spaces, upper-case emails, and two people sharing one email. */
const A: Person[] = [
	{
		id: 'n-a1',
		displayName: NFD('  Zoë Jensen '),
		givenName: NFD('Zoë'),
		email: 'ZOE.JENSEN@EXAMPLE.ORG',
		active: true
	},
	{ id: 'n-a2', displayName: NFD('José Ibáñez'), email: 'jose.ibanez@example.org', active: true },
	{ id: 'n-a3', displayName: 'Shared One', email: 'shared@example.org', active: true },
	{ id: 'n-a4', displayName: 'Shared Two', email: 'SHARED@example.org', active: true },
	{ id: 'n-a5', displayName: NFD('Åsa Ørn'), email: 'Asa.Orn@Example.org', active: true }
];
/** Side B: the same people as another system holds them (composed, lower-case), one of them only here. */
const B: Person[] = [
	{ id: 'n-b1', displayName: 'Zoë Jensen', givenName: 'Zoë', email: 'zoe.jensen@example.org', active: true },
	{ id: 'n-b2', displayName: 'José Ibáñez', email: 'JOSE.IBANEZ@example.org', active: true },
	{ id: 'n-b9', displayName: NFD('Brønn Ødegård'), email: 'BRONN@EXAMPLE.ORG', active: true }
];

let owner: string;
const systems: Record<'a' | 'b', string> = { a: '', b: '' };

beforeAll(async () => {
	owner = await tokenFor('owner');
	// userName by id: the sandbox, like many servers, keeps userName unique regardless of case.
	const named = (people: Person[]) => people.map((p) => ({ ...p, userName: p.id }));
	systems.a = (await sandboxSystem({ people: named(A), groups: [], memberships: [] })).id;
	systems.b = (await sandboxSystem({ people: named(B), groups: [], memberships: [] })).id;
});

async function edgeAndCore(mode: LinkConfig['mode']): Promise<{ edge: Reconciliation; core: Reconciliation }> {
	const view = await expectJson<LinkView>(
		api('/api/links', {
			token: owner,
			body: {
				name: unique(`normalize ${mode}`),
				mode,
				systems,
				kinds: ['person'],
				match: { person: 'email', group: 'externalId' },
				schedule: { timeZone: 'UTC', hour: 2, enabled: false }
			}
		}),
		201
	);
	const edge = await expectJson<Reconciliation>(
		api(`/api/links/${view.config.id}/reconcile`, { method: 'POST', token: owner }),
		200
	);
	// The fields each system holds, as the edge discovered them, with the records as they were sent.
	const served = await expectJson<Record<'a' | 'b', Snapshot>>(
		api(`/api/links/${view.config.id}/snapshots`, { token: owner }),
		200
	);
	const link = makeLink(view.config);
	const core = reconcile({
		link,
		a: parseSnapshot({ people: A, fields: served.a.fields }, systems.a, served.a.takenAt),
		b: parseSnapshot({ people: B, fields: served.b.fields }, systems.b, served.b.takenAt),
		baseline: { linkId: link.id, entries: [] },
		now: Date.now()
	});
	return { edge, core };
}

describe.each(['two-way', 'provision'] as const)('%s: the edge plans from normalized records', (mode) => {
	it('equals the core over parseSnapshot of the same records', async () => {
		const { edge, core } = await edgeAndCore(mode);
		expect(normalized(edge)).toEqual(normalized(core));
	});

	it('pairs the case-only and NFD differences, writes NFC, and holds the twins back', async () => {
		const { edge } = await edgeAndCore(mode);
		const paired = edge.pairs.filter((p) => p.a && p.b).map((p) => `${p.a}=${p.b}`);
		expect(paired.sort()).toEqual(['n-a1=n-b1', 'n-a2=n-b2']);
		expect(edge.conflicts.map((c) => [c.reason, c.records.map((r) => r.id).sort()])).toEqual([
			['ambiguous-match', ['n-a3', 'n-a4']]
		]);
		const creates = edge.plan.ops.flatMap((op) => (op.type === 'create-person' ? [op] : []));
		for (const op of creates) {
			expect(op.record.displayName).toBe(op.record.displayName.normalize('NFC').trim());
			if (op.record.email) expect(op.record.email).toBe(op.record.email.toLowerCase());
		}
		expect(creates.find((op) => op.side === 'b')?.record).toMatchObject({
			displayName: 'Åsa Ørn',
			email: 'asa.orn@example.org'
		});
		const updates = edge.plan.ops.filter((op) => op.type === 'update-person');
		expect(updates).toEqual([]);
	});
});
