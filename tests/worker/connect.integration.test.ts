/**
 * The edge's connectors (connectorFor) read a SCIM system page by page: planning streams a large
 * directory into SQLite rather than holding it whole, and the system still records what was read.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Group, Membership, Person } from '$lib/core';
import { account } from '../../worker/account/account-do';
import { connectorFor } from '../../worker/systems/connect';
import { roster, sandboxSystem } from '../support/links';

describe('connectorFor', () => {
	it('scans a SCIM system into a sink (never whole) and records the snapshot it read', async () => {
		const records = roster('cf', 250, 5);
		const system = await sandboxSystem(records);
		const connector = await connectorFor(env, system.id);
		expect(connector.scan).toBeTypeOf('function');
		const pages: number[] = [];
		const got = { people: [] as Person[], groups: [] as Group[], memberships: [] as Membership[] };
		await connector.scan!({
			restart: () => {
				pages.length = 0;
				got.people = [];
			},
			people: (list) => {
				pages.push(list.length);
				got.people.push(...list);
			},
			groups: (list, memberships) => {
				got.groups.push(...list);
				got.memberships.push(...memberships);
			}
		});
		expect(got.people).toHaveLength(250);
		const stored = await account(env).getConnection(system.id);
		expect(stored?.system.lastSnapshot).toMatchObject({
			people: 250,
			groups: records.groups.length,
			memberships: records.memberships.length
		});
	});
});
