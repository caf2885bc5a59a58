/**
 * Rules read buildings and member type through the system's people map: an owner points them at
 * other attributes (here the sandbox's own extension attributes, with the district's words for
 * staff), and the preview reads people through it. Only owners set it; it is validated.
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RulePreview } from '$lib/api/rules';
import type { SystemView } from '../../worker/account/account-do';
import { createSandbox } from '../../worker/sandbox/provision';
import { USER_EXT } from '../../worker/sandbox/scim-resources';
import { ORIGIN, api, expectJson, tokenFor, unique } from './support';

let owner: string;
let reviewer: string;
beforeAll(async () => {
	[owner, reviewer] = await Promise.all([tokenFor('owner'), tokenFor('reviewer')]);
});

describe('the people map', () => {
	it('maps building and member type to other attributes, and rules read them', async () => {
		const id = unique('sys-map');
		const person = (n: string, position: string, school: string) => ({
			id: `${id}-${n}`,
			externalId: `${id}-${n}`,
			displayName: n,
			active: true,
			custom: { position, school }
		});
		await createSandbox(env, {
			id,
			name: 'Mapped district',
			region: 'eu',
			origin: ORIGIN,
			customAttributes: ['position', 'school'],
			records: {
				people: [person('Ada', 'Teacher', 'north'), person('Cy', 'Pupil', 'north'), person('Di', 'Teacher', 'south')],
				groups: [{ id: `${id}-g`, name: 'North staff', kind: 'message-group' }],
				memberships: []
			}
		});
		const rule = {
			name: 'North staff',
			groupId: `${id}-g`,
			scope: 'buildings',
			buildings: ['north'],
			memberTypes: ['staff'],
			role: 'member'
		};
		const before = await expectJson<RulePreview>(
			api(`/api/systems/${id}/rules/preview`, { token: reviewer, body: rule }),
			200
		);
		expect(before.warnings.map((w) => w.code)).toEqual(['field-unmapped', 'matches-nobody']);

		const peopleMap = {
			building: `${USER_EXT}:school`,
			memberType: `${USER_EXT}:position`,
			staff: ['teacher'],
			student: ['pupil']
		};
		await expectJson(api(`/api/systems/${id}`, { method: 'PATCH', token: reviewer, body: { peopleMap } }), 403);
		const bad = await expectJson(
			api(`/api/systems/${id}`, {
				method: 'PATCH',
				token: owner,
				body: { peopleMap: { ...peopleMap, student: ['Teacher'] } }
			}),
			400
		);
		expect(bad.message).toContain('both staff and student');
		await expectJson(
			api(`/api/systems/${id}`, { method: 'PATCH', token: owner, body: { peopleMap: { colour: 'x' } } }),
			400
		);
		const saved = await expectJson<SystemView>(
			api(`/api/systems/${id}`, { method: 'PATCH', token: owner, body: { peopleMap } }),
			200
		);
		expect(saved.peopleMap).toEqual(peopleMap);

		// Previews reuse a recent read, but not one made under the old map.
		const after = await expectJson<RulePreview>(
			api(`/api/systems/${id}/rules/preview`, { token: reviewer, body: { ...rule, name: 'again' } }),
			200
		);
		expect(after).toMatchObject({ wanted: 1, joining: 1, warnings: [] });
		expect(after.people).toEqual([expect.objectContaining({ name: 'Ada', memberType: 'staff', buildings: ['north'] })]);

		// An empty map goes back to where Rostersync reads by default.
		const cleared = await expectJson<SystemView>(
			api(`/api/systems/${id}`, { method: 'PATCH', token: owner, body: { peopleMap: {} } }),
			200
		);
		expect(cleared.peopleMap).toBeUndefined();
	});
});
