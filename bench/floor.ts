/**
 * The floor: the work no reconciliation can avoid. Index both sides and the baseline by id, then
 * compare every field and every membership of the already-paired records once. No normalization,
 * no matching passes, no plan.
 */
import type { Drifted } from './generate';
import { DEFAULT_PERSON_FIELDS, getPersonField, type Person, type Role } from '../src/lib/core';

export function floor({ a, b, baseline }: Drifted): number {
	const peopleA = new Map<string, Person>();
	for (const p of a.people) peopleA.set(p.id, p);
	const peopleB = new Map<string, Person>();
	for (const p of b.people) peopleB.set(p.id, p);
	const index = (ms: typeof a.memberships) => {
		const out = new Map<string, Map<string, Role>>();
		let last: string | undefined;
		let g: Map<string, Role> | undefined;
		for (const m of ms) {
			if (m.groupId !== last) {
				last = m.groupId;
				g = out.get(m.groupId);
				if (!g) out.set(m.groupId, (g = new Map()));
			}
			g!.set(m.personId, m.role);
		}
		return out;
	};
	const membersA = index(a.memberships);
	const membersB = index(b.memberships);
	const partnerOfA = new Map<string, string>();
	for (const e of baseline.entries) if (e.kind === 'person') partnerOfA.set(e.a, e.b);

	let differences = 0;
	for (const e of baseline.entries) {
		if (e.kind === 'person') {
			const pa = peopleA.get(e.a);
			const pb = peopleB.get(e.b);
			if (!pa || !pb) continue;
			for (const f of DEFAULT_PERSON_FIELDS) {
				const va = getPersonField(pa, f);
				if (va !== getPersonField(pb, f) || va !== e.fields[f]) differences++;
			}
		} else {
			const ma = membersA.get(e.a);
			const mb = membersB.get(e.b);
			if (!ma || !mb) continue;
			for (const [pa, role] of ma) {
				const pb = partnerOfA.get(pa);
				if (pb === undefined || mb.get(pb) !== role) differences++;
			}
			if (mb.size !== ma.size) differences++;
			for (const m of e.members ?? []) if (ma.get(m[0]) !== m[2]) differences++;
		}
	}
	return differences;
}
