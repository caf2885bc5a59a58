/**
 * Undo: the inverse of a run's successful operations, from their journaled before-values, in
 * reverse order. Notices cannot be unsent and anonymization cannot be reversed: those are listed
 * as not undoable instead of pretended.
 */
import type { Role } from './model';
import { STEP, type Op, type TargetRef } from './ops';
import type { OpDraft } from './plan';
import { PlanBuilder } from './plan';
import type { OpOutcome } from './runner';

export interface UndoPlan {
	ops: Op[];
	/** Operations that cannot be reversed, with why. */
	irreversible: { key: string; reason: string }[];
}

export function planUndo(linkId: string, ops: readonly Op[], outcomes: ReadonlyMap<string, OpOutcome>): UndoPlan {
	const builder = new PlanBuilder(`undo:${linkId}`);
	const irreversible: UndoPlan['irreversible'] = [];
	const fixed = (ref: TargetRef): TargetRef => {
		if ('id' in ref) return ref;
		const id = outcomes.get(ref.createdBy)?.id;
		if (!id) throw new Error(`cannot undo: ${ref.createdBy} has no recorded id`);
		return { id };
	};
	const add = (d: OpDraft) => builder.add(d);
	const done = ops.filter((op) => outcomes.get(op.key)?.status === 'done').reverse();
	for (const op of done) {
		const side = op.side;
		switch (op.type) {
			case 'create-person': {
				const id = outcomes.get(op.key)!.id!;
				add({
					type: 'remove-person',
					side,
					step: STEP.peopleRemovals,
					target: { id },
					soft: false,
					before: { ...op.record, id },
					beforeMembers: []
				});
				break;
			}
			case 'create-group': {
				const id = outcomes.get(op.key)!.id!;
				add({
					type: 'remove-group',
					side,
					step: STEP.groupRemovals,
					target: { id },
					before: { ...op.record, id },
					beforeMembers: []
				});
				break;
			}
			case 'update-person':
			case 'update-group':
				add({
					type: op.type,
					side,
					step: op.step,
					target: fixed(op.target),
					values: op.before,
					before: op.values
				} as OpDraft);
				break;
			case 'remove-person': {
				if (op.soft) {
					add({
						type: 'update-person',
						side,
						step: STEP.people,
						target: fixed(op.target),
						values: { active: op.before.active ? 'true' : 'false' },
						before: { active: 'false' }
					});
					break;
				}
				const { id, ...record } = op.before;
				const key = add({ type: 'create-person', side, step: STEP.people, record, restoreId: id });
				for (const m of op.beforeMembers) {
					add({
						type: 'add-membership',
						side,
						step: STEP.memberships,
						group: { id: m.groupId },
						person: { createdBy: key },
						role: m.role
					});
				}
				break;
			}
			case 'remove-group': {
				const { id, ...record } = op.before;
				const key = add({ type: 'create-group', side, step: STEP.groups, record, restoreId: id });
				for (const m of op.beforeMembers) {
					add({
						type: 'add-membership',
						side,
						step: STEP.memberships,
						group: { createdBy: key },
						person: { id: m.personId },
						role: m.role
					});
				}
				break;
			}
			case 'restore-person':
				add({
					type: 'remove-person',
					side,
					step: STEP.peopleRemovals,
					target: fixed(op.target),
					soft: true,
					before: { id: '', displayName: '', active: true },
					beforeMembers: []
				});
				break;
			case 'add-membership':
				add({
					type: 'remove-membership',
					side,
					step: STEP.membershipRemovals,
					group: fixed(op.group),
					person: fixed(op.person),
					before: op.role
				});
				break;
			case 'set-role':
				add({
					type: 'set-role',
					side,
					step: STEP.memberships,
					group: fixed(op.group),
					person: fixed(op.person),
					role: op.before,
					before: op.role
				});
				break;
			case 'remove-membership':
				add({
					type: 'add-membership',
					side,
					step: STEP.memberships,
					group: fixed(op.group),
					person: fixed(op.person),
					role: op.before as Role
				});
				break;
			case 'grant-access':
			case 'revoke-access':
				add({
					type: op.type === 'grant-access' ? 'revoke-access' : 'grant-access',
					side,
					step: op.type === 'grant-access' ? STEP.membershipRemovals : STEP.memberships,
					target: fixed(op.target)
				});
				break;
			case 'anonymize-person':
				irreversible.push({ key: op.key, reason: 'anonymization is irreversible by design' });
				break;
			case 'invite':
			case 'notify-transfer':
				irreversible.push({ key: op.key, reason: 'a notice that was sent cannot be unsent' });
				break;
			case 'adopt-person':
			case 'adopt-group':
				// Adoption only changed our provenance; undoing the run's baseline covers it.
				break;
		}
	}
	return { ops: builder.ordered(), irreversible };
}
