/**
 * Operation builders for connector tests: the plan's operations, minus the planning.
 * Every operation targets side b with a fresh key; `resolve` accepts existing ids only.
 */
import type { FieldValues, Group, Person, Role } from '$lib/core/model';
import { STEP, type Op, type TargetRef } from '$lib/core/ops';

let keys = 0;
const base = (step: number) => ({ key: `test-${++keys}`, side: 'b' as const, step });
const ref = (id: string): TargetRef => ({ id });

const somebody = (id: string): Person => ({ id, displayName: 'Somebody', active: true });

export const ops = {
	createPerson: (record: Omit<Person, 'id' | 'active'> & { active?: boolean }): Op => ({
		...base(STEP.people),
		type: 'create-person',
		record: { active: true, ...record }
	}),
	updatePerson: (id: string, values: FieldValues): Op => ({
		...base(STEP.people),
		type: 'update-person',
		target: ref(id),
		values,
		before: {}
	}),
	adoptPerson: (id: string): Op => ({ ...base(STEP.people), type: 'adopt-person', target: ref(id) }),
	removePerson: (id: string, soft: boolean): Op => ({
		...base(STEP.peopleRemovals),
		type: 'remove-person',
		target: ref(id),
		soft,
		before: somebody(id),
		beforeMembers: []
	}),
	restorePerson: (id: string): Op => ({ ...base(STEP.people), type: 'restore-person', target: ref(id) }),
	anonymizePerson: (id: string, values: FieldValues): Op => ({
		...base(STEP.peopleRemovals),
		type: 'anonymize-person',
		target: ref(id),
		values,
		before: somebody(id)
	}),
	createGroup: (record: Omit<Group, 'id'>): Op => ({ ...base(STEP.groups), type: 'create-group', record }),
	updateGroup: (id: string, values: FieldValues): Op => ({
		...base(STEP.groups),
		type: 'update-group',
		target: ref(id),
		values,
		before: {}
	}),
	removeGroup: (id: string): Op => ({
		...base(STEP.groupRemovals),
		type: 'remove-group',
		target: ref(id),
		before: { id, name: 'Some group', kind: 'group' },
		beforeMembers: []
	}),
	addMembership: (group: string, person: string, role: Role = 'member'): Op => ({
		...base(STEP.memberships),
		type: 'add-membership',
		group: ref(group),
		person: ref(person),
		role
	}),
	setRole: (group: string, person: string, role: Role): Op => ({
		...base(STEP.memberships),
		type: 'set-role',
		group: ref(group),
		person: ref(person),
		role,
		before: role === 'manager' ? 'member' : 'manager'
	}),
	removeMembership: (group: string, person: string, before: Role = 'member'): Op => ({
		...base(STEP.membershipRemovals),
		type: 'remove-membership',
		group: ref(group),
		person: ref(person),
		before
	}),
	invite: (person: string): Op => ({ ...base(STEP.notices), type: 'invite', person: ref(person) })
};

/** Resolves existing ids; a `createdBy` reference is a test mistake here. */
export function resolve(target: TargetRef): string {
	if ('id' in target) return target.id;
	throw new Error(`unresolved reference to the record created by ${target.createdBy}`);
}
