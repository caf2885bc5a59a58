/**
 * Provisioning from a built-in sandbox source into each of the three real SCIM servers the tests
 * know (tests/support/scim-peers.ts): SCIMMY with the Rostersync extensions, Better Auth, and
 * plain SCIM (core User schema only, `active` as "True"/"False", userName unique regardless of
 * case behind a case-sensitive filter). Against each, through the API as an owner would:
 *
 * - a first real run writes the target, and the next reconciliation proposes nothing at all;
 * - names arrive in NFC and emails lower-cased, whatever the source sent;
 * - a changed family name is one update of that field (never of a field the target cannot hold,
 *   such as the employee number on a server without the enterprise extension), applied by a run;
 * - two source people whose emails differ only in case are one ambiguous match, and neither is created.
 *
 * Each peer's cases build on each other, in order; every record is made for this file only.
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { STEP, type Op, type Person, type Reconciliation } from '$lib/core';
import type { SystemView } from '../../worker/account/account-do';
import type { LinkView, RunDetails, RunSummary } from '../../worker/link/types';
import { sandboxStub } from '../../worker/systems/connect';
import { finish, sandboxSystem, scimReset } from '../support/links';
import { listResources, type ScimEndpoint } from '../support/scim-peers';
import { api, expectJson, tokenFor, unique } from './support';

const peers = inject('scimPeers');

interface PeerCase {
	name: string;
	/** A prefix for its records: the peers live as long as the test run, and other cases write to them too. */
	key: string;
	target: ScimEndpoint;
	/** Empties the target, where the peer can be emptied. */
	reset?: () => Promise<void>;
}

const CASES: PeerCase[] = [
	{ name: 'SCIMMY', key: 'sy', target: peers.scimmy, reset: () => scimReset(peers.scimmy) },
	{ name: 'Better Auth', key: 'ba', target: peers.betterAuth },
	// Not reset: link-collision.integration.test.ts writes to the same peer, perhaps at the same time.
	{ name: 'plain SCIM', key: 'pl', target: peers.plain }
];

/** "Zoë José" with decomposed accents (NFD), as some exports write them. */
const ZOE_NFD = { given: 'Zoe\u0308', family: 'Jose\u0301' };
const ZOE_NFC = { given: 'Zo\u00eb', family: 'Jos\u00e9' };

let owner: string;
beforeAll(async () => {
	owner = await tokenFor('owner');
});

/** A SCIM system for a peer, through the API. */
const scimSystem = (peer: PeerCase): Promise<SystemView> =>
	expectJson(
		api('/api/systems', {
			token: owner,
			body: {
				name: unique(peer.name),
				connector: 'scim',
				baseUrl: peer.target.url,
				region: 'eu',
				credentials: { token: peer.target.token }
			}
		}),
		201
	);

/** A provisioning link, source A to target B; no nightly schedule, so only the test's runs write. */
async function provisionLink(source: SystemView, target: SystemView): Promise<string> {
	const view = await expectJson<LinkView>(
		api('/api/links', {
			token: owner,
			body: {
				name: unique('provision'),
				mode: 'provision',
				systems: { a: source.id, b: target.id },
				match: { person: 'email', group: 'externalId' },
				schedule: { timeZone: 'UTC', hour: 2, enabled: false }
			}
		}),
		201
	);
	return view.config.id;
}

const reconcile = (linkId: string) =>
	expectJson<Reconciliation>(api(`/api/links/${linkId}/reconcile`, { method: 'POST', token: owner }), 200);

/** Starts a real run and waits for its end. */
async function runForReal(linkId: string): Promise<{ summary: RunSummary; details: RunDetails }> {
	const started = await expectJson<RunSummary>(
		api(`/api/links/${linkId}/runs`, { token: owner, body: { dryRun: false } }),
		202
	);
	const summary = await finish(linkId, started.id);
	const details = await expectJson<RunDetails>(api(`/api/links/${linkId}/runs/${started.id}`, { token: owner }), 200);
	return { summary, details };
}

/** What a failed operation said, so a failing assertion shows the server's answer. */
const failures = (details: RunDetails) =>
	details.ops
		.filter((o) => o.outcome?.status === 'failed')
		.map((o) => `${o.op.type} ${o.op.key}: ${o.outcome?.error ?? ''}`);

/** The plan as a reader checks it: each operation's type and what it writes. */
const planned = (rec: Reconciliation) =>
	rec.plan.ops.map((op) => ({
		type: op.type,
		...('values' in op ? { values: op.values } : {}),
		...('record' in op ? { record: op.record } : {})
	}));

/** A source person; `userName` is the sandbox's own (it defaults to the email, unique regardless of case). */
const person = (
	key: string,
	i: number,
	extra: Partial<Person> & { userName?: string } = {}
): Person & { userName?: string } => ({
	id: `${key}-p${i}`,
	externalId: `${key}-E${i}`,
	displayName: `Person ${key} ${i}`,
	givenName: 'Person',
	familyName: `${key} ${i}`,
	email: `${key}.p${i}@example.org`,
	employeeNumber: String(20_000 + i),
	active: true,
	...extra
});

describe.each(CASES)('provisioning from a sandbox into $name', (peer) => {
	// A run-wide prefix as well: Better Auth cannot be emptied, and its ids must not repeat within a run.
	const key = `${peer.key}${crypto.randomUUID().slice(0, 6)}`;
	const zoe = person(key, 0, {
		displayName: `${ZOE_NFD.given} ${ZOE_NFD.family}`,
		givenName: ZOE_NFD.given,
		familyName: ZOE_NFD.family,
		email: `ZOE.JOSE.${key.toUpperCase()}@EXAMPLE.ORG`
	});
	const people = [zoe, person(key, 1), person(key, 2), person(key, 3, { phone: '+31 20 555 0103' })];
	const groups = [
		{ id: `${key}-g0`, externalId: `${key}-G0`, name: `Team ${key} north`, kind: 'community' as const },
		{ id: `${key}-g1`, externalId: `${key}-G1`, name: `Team ${key} south`, kind: 'community' as const }
	];
	const memberships = people.map((p, i) => ({ groupId: groups[i % 2].id, personId: p.id, role: 'member' as const }));

	let source: SystemView;
	let linkId: string;
	/** The target's users made from this case's people, as the target's SCIM API answers them. */
	const targetUsers = async () =>
		(await listResources(peer.target, 'Users')).filter((u) => String(u.externalId ?? '').startsWith(`${key}-`));

	beforeAll(async () => {
		await peer.reset?.();
		source = await sandboxSystem({ people, groups, memberships });
		linkId = await provisionLink(source, await scimSystem(peer));
	});

	it('a first real run writes every person, group and membership', async () => {
		const first = await reconcile(linkId);
		expect(first.conflicts).toEqual([]);
		expect(first.plan.counts.byType).toMatchObject({ 'create-person': 4, 'create-group': 2, 'add-membership': 4 });
		await expectJson<LinkView>(api(`/api/links/${linkId}/enable`, { method: 'POST', token: owner }), 200);

		const { summary, details } = await runForReal(linkId);
		expect(failures(details)).toEqual([]);
		expect(summary).toMatchObject({ status: 'done', tally: { failed: 0, skipped: 0, staged: 0 } });
		expect((await targetUsers()).map((u) => u.externalId).sort()).toEqual(people.map((p) => p.externalId).sort());
	});

	it('the next reconciliation proposes no operation at all', async () => {
		const again = await reconcile(linkId);
		expect(planned(again)).toEqual([]);
		expect(again.conflicts).toEqual([]);
		expect(again.requiresAction).toBe(0);
	});

	it('a name sent in NFD arrives in NFC, an upper-case email lower-cased', async () => {
		const user = (await targetUsers()).find((u) => u.externalId === zoe.externalId);
		expect(user, 'the person was created').toBeDefined();
		expect({
			displayName: user!.displayName,
			givenName: user!.name?.givenName,
			familyName: user!.name?.familyName,
			emails: (user!.emails as { value: string }[] | undefined)?.map((e) => e.value)
		}).toEqual({
			displayName: `${ZOE_NFC.given} ${ZOE_NFC.family}`,
			givenName: ZOE_NFC.given,
			familyName: ZOE_NFC.family,
			emails: [zoe.email!.toLowerCase()]
		});
	});

	it('a changed family name is one update of that field only, and the run applies it', async () => {
		const moved = people[1];
		const update: Op = {
			key: unique('rename'),
			side: 'a',
			step: STEP.people,
			type: 'update-person',
			target: { id: moved.id },
			values: { familyName: 'Renamed' },
			before: { familyName: moved.familyName! }
		};
		expect(await sandboxStub(env, source.id).applyOps([update])).toEqual({ applied: 1, failed: [] });

		const rec = await reconcile(linkId);
		expect(planned(rec)).toEqual([{ type: 'update-person', values: { familyName: 'Renamed' } }]);
		expect(rec.conflicts).toEqual([]);

		const { summary, details } = await runForReal(linkId);
		expect(failures(details)).toEqual([]);
		expect(summary.tally).toMatchObject({ done: 1, failed: 0 });
		const user = (await targetUsers()).find((u) => u.externalId === moved.externalId);
		expect(user?.name?.familyName).toBe('Renamed');
		expect(planned(await reconcile(linkId))).toEqual([]);
	});

	it('two source people whose emails differ only in case are one ambiguous match, and neither is created', async () => {
		const twin = `kim.lee.${key}@example.org`;
		const twins = [
			person(`${key}k`, 0, { email: twin.replace('kim.lee', 'Kim.Lee'), userName: `${key}-kim-a` }),
			person(`${key}k`, 1, { email: twin, userName: `${key}-kim-b` }),
			person(`${key}k`, 2)
		];
		// An empty target: what the preview makes of the source alone.
		await peer.reset?.();
		const twinSource = await sandboxSystem({ people: twins, groups: [], memberships: [] });
		const preview = await reconcile(await provisionLink(twinSource, await scimSystem(peer)));

		expect(preview.conflicts.map((c) => ({ reason: c.reason, ids: c.records.map((r) => r.id).sort() }))).toEqual([
			{ reason: 'ambiguous-match', ids: [twins[0].id, twins[1].id] }
		]);
		const created = preview.plan.ops.flatMap((op) =>
			op.type === 'create-person' ? [op.record.email?.toLowerCase()] : []
		);
		expect(created).toEqual([twins[2].email]);
		expect(preview.requiresAction).toBe(1);
	});
});
