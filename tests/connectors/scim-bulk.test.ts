/**
 * How a BulkResponse is read back onto the operations that were sent: each operation takes its own
 * answer, never another record's. The wire is a function here so an answer can be exactly what
 * a careless server sends (PATCH answers without a location, in another order).
 */
import { describe, expect, it } from 'vitest';
import type { TargetRef } from '$lib/core/ops';
import { ConnectorError } from '../../worker/connectors/types';
import { applyBulk, forgetBulk, type BulkWrites } from '../../worker/connectors/scim-bulk';
import { ops } from '../support/scim-ops';

const resolve = (r: TargetRef) => ('id' in r ? r.id : '');

function writes(answer: (body: { Operations: { method: string; path: string }[] }) => unknown): BulkWrites {
	return {
		systemId: `bulk-${Math.random()}`,
		usersPath: '/Users',
		groupsPath: '/Groups',
		groups: true,
		bulk: { maxOperations: 10, maxPayloadBytes: 1_000_000 },
		profile: {
			enterprise: false,
			userExtAttributes: [],
			fieldMap: {},
			attributeTypes: {},
			defaultGroupKind: 'group'
		},
		request: async (_method, _path, init) => answer(init.body as { Operations: { method: string; path: string }[] }),
		error: (init) => new ConnectorError({ system: 'Bulk peer', ...init })
	};
}

describe('settling a BulkResponse', () => {
	it("an update whose answer names no location does not take another record's answer whose id ends like its own", async () => {
		forgetBulk();
		const two = ops.updatePerson('2', { displayName: 'Two' });
		const twelve = ops.updatePerson('12', { displayName: 'Twelve' });
		const out = await applyBulk(
			writes(() => ({
				schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkResponse'],
				Operations: [
					// The answer for /Users/2: refused, and (as some servers do) without a location.
					{ method: 'PATCH', status: '400', response: { detail: 'invalid phone' } },
					{ method: 'PATCH', status: '200', location: 'https://peer.example/scim/v2/Users/12' }
				]
			})),
			[two, twelve],
			resolve
		);
		expect(out.get(twelve.key)).toEqual({});
		const refused = out.get(two.key);
		expect(refused).toBeInstanceOf(ConnectorError);
		expect((refused as ConnectorError).status).toBe(400);
	});

	it('a location that is not valid percent-encoding settles nothing wrongly and throws nothing', async () => {
		forgetBulk();
		const create = ops.createPerson({ displayName: 'New', email: 'new@bulk.example', externalId: 'N1' });
		const out = await applyBulk(
			writes((body) => ({
				schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkResponse'],
				Operations: body.Operations.map((o) => ({
					...o,
					status: '201',
					location: 'https://peer.example/scim/v2/Users/%zz'
				}))
			})),
			[create],
			resolve
		);
		// Created, but its id cannot be read: the create is looked up when applied alone.
		expect(out.has(create.key)).toBe(false);
	});
});
