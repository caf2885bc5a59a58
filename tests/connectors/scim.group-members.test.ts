/**
 * SCIM servers that leave `members` out of their Groups list (RFC 7643 §7: `returned: "request"`;
 * AWS IAM Identity Center does, and others for large groups). Absent is not empty: the read asks
 * for the members of such a group, and never says it has none when the server holds some.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ScimConnector } from '../../worker/connectors/scim';
import { closeScripted, CORE_GROUP, CORE_USER, SCIM_ERROR, scripted } from '../support/scim-scripted';

/**
 * Where the server shows a group's members: in the list (as most do), on the group itself, only
 * when asked for by name, or nowhere (an empty group, whose empty attribute is left out too).
 */
type Shows = 'in-list' | 'on-the-group' | 'on-request' | 'nowhere';

afterEach(closeScripted);

const users = [1, 2].map((n) => ({
	schemas: [CORE_USER],
	id: `u${n}`,
	userName: `user${n}@example.org`,
	displayName: `User ${n}`,
	active: true
}));

/** A server whose group g1 holds u1 and u2 (none when `shows` is nowhere); the requests it got. */
async function start(shows: Shows, refusesAttributes = false): Promise<{ c: ScimConnector; requests: string[] }> {
	const members = shows === 'nowhere' ? [] : [{ value: 'u1' }, { value: 'u2' }];
	const group = { schemas: [CORE_GROUP], id: 'g1', displayName: 'Staff' };
	const requests: string[] = [];
	const c = await scripted(({ path, url, send, list, notFound }) => {
		requests.push(`${path}${url.search}`);
		const asked = url.searchParams.get('attributes');
		if (asked !== null && refusesAttributes)
			return send(400, {
				schemas: [SCIM_ERROR],
				status: '400',
				scimType: 'invalidSyntax',
				detail: 'no attributes here'
			});
		const withMembers = asked?.split(',').includes('members') || shows === 'in-list';
		if (path === '/ServiceProviderConfig') return send(200, { patch: { supported: true } });
		if (path === '/ResourceTypes')
			return list([
				{ name: 'User', endpoint: '/Users', schema: CORE_USER },
				{ name: 'Group', endpoint: '/Groups', schema: CORE_GROUP }
			]);
		if (path === '/Users') return list(users);
		if (path === '/Groups') return list([withMembers && members.length > 0 ? { ...group, members } : group]);
		if (path === '/Groups/g1')
			return send(
				200,
				(withMembers || shows === 'on-the-group') && members.length > 0
					? { ...group, members }
					: asked
						? { schemas: [CORE_GROUP], id: 'g1' }
						: group
			);
		return notFound();
	});
	return { c, requests };
}

const BOTH = [
	{ groupId: 'g1', personId: 'u1', role: 'member' },
	{ groupId: 'g1', personId: 'u2', role: 'member' }
];

describe('a group whose members the list leaves out', () => {
	it.each<[Shows, typeof BOTH]>([
		['in-list', BOTH],
		['on-the-group', BOTH],
		['on-request', BOTH],
		['nowhere', []]
	])('members shown %s: the read holds the members the server holds', async (shows, memberships) => {
		const { c } = await start(shows);
		const snapshot = await c.read();
		expect(snapshot.groups).toEqual([{ id: 'g1', name: 'Staff', kind: 'group' }]);
		expect(snapshot.memberships).toEqual(memberships);
	});

	it('a server that lists members is asked nothing more', async () => {
		const { c, requests } = await start('in-list');
		await c.read();
		expect(requests.filter((r) => r.startsWith('/Groups/'))).toEqual([]);
	});

	it('asks the group itself first, then for its members by name', async () => {
		const { c, requests } = await start('on-request');
		await c.read();
		expect(requests.filter((r) => r.startsWith('/Groups/'))).toEqual(['/Groups/g1', '/Groups/g1?attributes=members']);
	});

	it('a server refusing `attributes` on a group: the group as it showed itself, no error', async () => {
		const { c } = await start('nowhere', true);
		const snapshot = await c.read();
		expect(snapshot.groups.map((g) => g.id)).toEqual(['g1']);
		expect(snapshot.memberships).toEqual([]);
	});
});
