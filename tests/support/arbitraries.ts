/** Generated directories and edits for the core's properties (tests/core/properties, parts). */
import { fc } from '@fast-check/vitest';
import {
	Directory,
	makeLink,
	reconcile,
	ReconcileError,
	type Baseline,
	type LinkConfig,
	type Reconciliation,
	type Resolution,
	type Snapshot
} from '../../src/lib/core';
import { NOW } from './factories';

export const OPEN = { count: 1_000_000, percent: 100 };
export const limits = { person: OPEN, group: OPEN, membership: OPEN };
/** Creation limits that never stage (the properties are about reconciling, not the limits). */
export const OPEN_CREATIONS = {
	person: { count: 1_000_000, percent: 100_000 },
	group: { count: 1_000_000, percent: 100_000 }
};

const NAMES = ['Ann', 'Bo', 'Cy', 'Di', 'Ed'];
const arbPersonFields = fc.record(
	{
		displayName: fc.constantFrom(...NAMES),
		email: fc.constantFrom('ann@x.org', 'bo@x.org', 'cy@x.org', 'di@x.org', 'ed@x.org', 'fay@x.org'),
		phone: fc.constantFrom('+31 1', '+31 2'),
		memberType: fc.constantFrom('staff' as const, 'student' as const),
		buildings: fc.subarray(['N', 'S'], { minLength: 1 }),
		externalId: fc.constantFrom('E1', 'E2', 'E3', 'E4')
	},
	{ requiredKeys: ['displayName'] }
);

export const arbSide = (prefix: string) =>
	fc
		.record({
			people: fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 5 }), arbPersonFields), {
				selector: (t) => t[0],
				maxLength: 6
			}),
			groups: fc.uniqueArray(
				fc.tuple(
					fc.integer({ min: 0, max: 2 }),
					fc.constantFrom('Ops', 'Fire', 'Medics'),
					fc.option(fc.constantFrom('G1', 'G2', 'G3'), { nil: undefined })
				),
				{ selector: (t) => t[0], maxLength: 3 }
			),
			memberships: fc.array(fc.tuple(fc.nat(), fc.nat(), fc.constantFrom('member' as const, 'manager' as const)), {
				maxLength: 10
			})
		})
		.map(({ people, groups, memberships }) => {
			const ps = people.map(([i, f]) => ({ id: `${prefix}p${i}`, active: true, ...f }));
			const gs = groups.map(([i, name, externalId]) => ({
				id: `${prefix}g${i}`,
				name,
				kind: 'group' as const,
				...(externalId ? { externalId } : {})
			}));
			const ms = new Map<string, { groupId: string; personId: string; role: 'member' | 'manager' }>();
			if (ps.length > 0 && gs.length > 0) {
				for (const [gi, pi, role] of memberships) {
					const m = { groupId: gs[gi % gs.length].id, personId: ps[pi % ps.length].id, role };
					ms.set(`${m.groupId}|${m.personId}`, m);
				}
			}
			return { people: ps, groups: gs, memberships: [...ms.values()] };
		});

/** Edits people make between two runs. */
export const arbEdits = fc.array(
	fc.record({
		side: fc.constantFrom('a' as const, 'b' as const),
		what: fc.constantFrom('rename', 'remove', 'email', 'member', 'unmember', 'add'),
		n: fc.nat(),
		name: fc.constantFrom(...NAMES)
	}),
	{ maxLength: 6 }
);

export function edit(
	dirs: Record<'a' | 'b', Directory>,
	edits: { side: 'a' | 'b'; what: string; n: number; name: string }[]
) {
	edits.forEach((e, i) => {
		const dir = dirs[e.side];
		const people = [...dir.people.keys()].sort();
		const groups = [...dir.groups.keys()].sort();
		const pid = people[e.n % Math.max(1, people.length)];
		const gid = groups[e.n % Math.max(1, groups.length)];
		switch (e.what) {
			case 'rename':
				if (pid) dir.people.set(pid, { ...dir.people.get(pid)!, displayName: `${e.name} ${i}` });
				break;
			case 'email':
				if (pid) dir.people.set(pid, { ...dir.people.get(pid)!, email: `${e.name.toLowerCase()}${i}@y.org` });
				break;
			case 'remove':
				if (pid)
					dir.apply({
						key: 'x',
						type: 'remove-person',
						side: e.side,
						step: 5,
						target: { id: pid },
						soft: false,
						before: dir.people.get(pid)!,
						beforeMembers: []
					});
				break;
			case 'member':
				if (pid && gid)
					dir.apply({
						key: 'x',
						type: 'add-membership',
						side: e.side,
						step: 2,
						group: { id: gid },
						person: { id: pid },
						role: 'manager'
					});
				break;
			case 'unmember':
				if (pid && gid) dir.members.get(gid)?.delete(pid);
				break;
			case 'add':
				dir.people.set(`${e.side}new${i}`, {
					id: `${e.side}new${i}`,
					displayName: e.name,
					email: `${e.name.toLowerCase()}@x.org`,
					active: true
				});
				break;
		}
	});
}

export const LINKS: LinkConfig[] = [
	makeLink({
		id: 'T',
		name: 'two-way',
		mode: 'two-way',
		systems: { a: 'A', b: 'B' },
		limits,
		creationLimits: OPEN_CREATIONS
	}),
	makeLink({
		id: 'N',
		name: 'two-way by name',
		mode: 'two-way',
		systems: { a: 'A', b: 'B' },
		limits,
		creationLimits: OPEN_CREATIONS,
		match: { person: 'externalId', group: 'name' },
		removeMode: 'delete'
	}),
	makeLink({
		id: 'P',
		name: 'provision',
		mode: 'provision',
		systems: { a: 'A', b: 'B' },
		limits,
		creationLimits: OPEN_CREATIONS
	})
];

/** Reconciles, or undefined when the core refuses the input (an emptied side): that is not a plan. */
export function tryReconcile(
	link: LinkConfig,
	a: Snapshot,
	b: Snapshot,
	baseline: Baseline,
	resolutions?: Resolution[]
): Reconciliation | undefined {
	try {
		return reconcile({ link, a, b, baseline, resolutions, now: NOW });
	} catch (e) {
		if (e instanceof ReconcileError) return undefined;
		throw e;
	}
}
