/**
 * A SCIM server that declares nothing (no /ResourceTypes, no /Schemas) is assumed to have the
 * enterprise extension: harmless for writes, wrong for a source whose users carry none, whose
 * missing employee numbers would clear the target's. Absent is not empty.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ScimConnector } from '../../worker/connectors/scim';
import { person, provision, run } from '../support/factories';
import { closeScripted, CORE_USER, scripted } from '../support/scim-scripted';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

afterEach(closeScripted);

const user = (n: number, extra: Record<string, unknown> = {}) => ({
	schemas: [CORE_USER],
	id: `u${n}`,
	externalId: `E${n}`,
	userName: `user${n}@example.org`,
	displayName: `User ${n}`,
	emails: [{ value: `user${n}@example.org`, primary: true }],
	active: true,
	...extra
});

/** A server that answers /Users and 404 to everything else, /ResourceTypes and /Schemas included. */
const undeclared = (users: unknown[]): Promise<ScimConnector> =>
	scripted(({ path, list, notFound }) => (path === '/Users' ? list(users) : notFound()), { systemId: 'HR' });

describe('a server that declares nothing', () => {
	it('as an HR source whose users carry no enterprise extension: the target keeps its employee numbers', async () => {
		const hr = await undeclared([user(1), user(2)]);
		const snapshot = await hr.read();
		expect(hr.capabilities().personFields).not.toContain('employeeNumber');
		const r = run(
			provision(),
			{ people: snapshot.people, fields: [...hr.capabilities().personFields] },
			{
				people: [
					person('t1', 'User 1', { externalId: 'E1', email: 'user1@example.org', employeeNumber: '1001' }),
					person('t2', 'User 2', { externalId: 'E2', email: 'user2@example.org', employeeNumber: '1002' })
				]
			}
		);
		expect(r.plan.ops.filter((op) => op.type === 'update-person')).toEqual([]);
	});

	it('one user carrying the extension: employee numbers are provided, and read', async () => {
		const hr = await undeclared([user(1, { [ENTERPRISE]: { employeeNumber: '1001' } }), user(2)]);
		const snapshot = await hr.read();
		expect(hr.capabilities().personFields).toContain('employeeNumber');
		expect(snapshot.people.find((p) => p.id === 'u1')?.employeeNumber).toBe('1001');
	});

	it('an empty directory (a new target) keeps the assumption: employee numbers can be written to it', async () => {
		const target = await undeclared([]);
		await target.read();
		expect(target.capabilities().personFields).toContain('employeeNumber');
	});
});
