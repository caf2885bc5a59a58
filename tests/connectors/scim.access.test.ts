/**
 * Access through the SCIM connector against SCIMMY, whose User schema declares entitlements (as
 * RFC 7643 does): a grant adds the access entitlement, a read shows it, a revoke removes only it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STEP, type Op } from '../../src/lib/core';
import { ScimConnector } from '../../worker/connectors/scim';
import { ACCESS_VALUE } from '../../worker/connectors/scim-access';
import { startScimmy, type ScimmyPeer } from '../support/scim-scimmy';
import { instantClock, unique } from '../support/scim-suite';
import { ops, resolve } from '../support/scim-ops';

let peer: ScimmyPeer;
beforeAll(async () => {
	peer = await startScimmy();
});
afterAll(async () => {
	await peer.close();
});

const connector = () =>
	new ScimConnector({ systemId: 'scimmy-access', baseUrl: peer.url, token: peer.token, clock: instantClock });
const access = (type: 'grant-access' | 'revoke-access', id: string): Op => ({
	key: `${type}:${id}`,
	side: 'b',
	step: STEP.memberships,
	type,
	target: { id }
});

describe('access as a SCIM entitlement', () => {
	it('grants, reads and revokes, leaving other entitlements alone', async () => {
		const c = connector();
		expect((await c.discover()).access).toBe('entitlements');
		const handle = unique('acc');
		const { id } = await c.apply(
			ops.createPerson({ externalId: handle, displayName: `Person ${handle}`, email: `${handle}@example.org` }),
			resolve
		);
		const person = async () => (await c.read()).people.find((p) => p.id === id)!;
		expect((await person()).access).toBeUndefined();

		await c.apply(access('grant-access', id!), resolve);
		expect(peer.users.get(id!)!.entitlements).toEqual([expect.objectContaining({ value: ACCESS_VALUE })]);
		expect((await person()).access).toBe(true);

		const user = peer.users.get(id!)!;
		peer.users.set(id!, {
			...user,
			entitlements: [...(user.entitlements as object[]), { value: 'another-app' }]
		});
		await c.apply(access('revoke-access', id!), resolve);
		expect(peer.users.get(id!)!.entitlements).toEqual([expect.objectContaining({ value: 'another-app' })]);
		expect((await person()).access).toBeUndefined();
	});
});
