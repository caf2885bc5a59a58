/**
 * Undo: the inverse of a run's successful operations, from their journaled before-values, in
 * reverse order. Notices cannot be unsent and anonymization cannot be reversed: those are listed
 * as not undoable instead of pretended.
 */
import { ruleOwnership, type RuleOwned } from './context';
import type { BaselineEntry, BaselineMember, Role, Side } from './model';
import { STEP, type Op, type TargetRef } from './ops';
import type { OpDraft } from './plan';
import { PlanBuilder } from './plan';
import type { OpOutcome } from './runner';

export interface UndoPlan {
	ops: Op[];
	/** Operations that cannot be reversed, with why. */
	irreversible: { key: string; reason: string }[];
}

export function planUndo(
	linkId: string,
	ops: readonly Op[],
	outcomes: ReadonlyMap<string, OpOutcome>,
	/** Memberships auto-membership rules own now: the link's undo leaves them as the rule made them. */
	ruleOwned: RuleOwned = {}
): UndoPlan {
	const builder = new PlanBuilder(`undo:${linkId}`);
	const irreversible: UndoPlan['irreversible'] = [];
	const ruleOwns = ruleOwnership(ruleOwned);
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
		if (
			(op.type === 'add-membership' || op.type === 'set-role' || op.type === 'remove-membership') &&
			ruleOwns(side, fixed(op.group), fixed(op.person))
		) {
			irreversible.push({ key: op.key, reason: 'the membership belongs to an auto-membership rule now' });
			continue;
		}
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

/**
 * The ids an undo's re-creations got, by side: a hard removal is undone by creating the record
 * again, asking for its old id (`restoreId`), which a system may not keep (SCIM servers assign
 * ids). null: the re-creation did not happen.
 */
export type RecreatedIds = Record<Side, Map<string, string | null>>;

export function recreatedIds(undo: Iterable<{ op: Op; outcome?: OpOutcome }>): RecreatedIds {
	const out: RecreatedIds = { a: new Map(), b: new Map() };
	for (const { op, outcome } of undo) {
		if ((op.type !== 'create-person' && op.type !== 'create-group') || op.restoreId === undefined) continue;
		out[op.side].set(op.restoreId, outcome?.status === 'done' ? (outcome.id ?? op.restoreId) : null);
	}
	return out;
}

/**
 * A baseline entry the undone run had removed, as the undo puts it back: under the ids its records
 * were re-created with. Undefined when one of its records was not re-created: the entry would name
 * a record that is gone, and the next run would take that for a removal to pass on, so the pair
 * is new again instead. A member not re-created is left out of its group's entry for the same reason.
 */
export function restoredEntry(entry: BaselineEntry, recreated: RecreatedIds): BaselineEntry | undefined {
	const id = (side: Side, was: string): string | null => (recreated[side].has(was) ? recreated[side].get(was)! : was);
	const a = id('a', entry.a);
	const b = id('b', entry.b);
	if (a === null || b === null) return undefined;
	if (!entry.members) return a === entry.a && b === entry.b ? entry : { ...entry, a, b };
	const members: BaselineMember[] = [];
	for (const [ma, mb, role] of entry.members) {
		const x = id('a', ma);
		const y = id('b', mb);
		if (x !== null && y !== null) members.push([x, y, role]);
	}
	return { ...entry, a, b, members };
}

/** One change a run made to the baseline: an entry it inserted or deleted (an update is both). */
export interface BaselineChange {
	action: 'ins' | 'del';
	entry: BaselineEntry;
}

/**
 * The baseline changes that revert a run, given its changes (newest first) and its undo's
 * operations with their outcomes. A pair goes back only as far as the undo's own operations on it
 * succeeded: a record the undo could not remove or change back is still as the run left it, so
 * the pair the run wrote stays (without it, the next plan would adopt a record sync made, and the
 * run, marked undone, could not be undone again). A group kept so loses the members whose removal
 * the undo did make, and gets back those it re-added.
 */
export function revertChanges(
	changes: readonly BaselineChange[],
	undo: readonly { op: Op; outcome?: OpOutcome }[]
): { remove: BaselineEntry[]; put: BaselineEntry[] } {
	const recreated = recreatedIds(undo);
	const stuck = new Set<string>();
	/** People whose access the undo could not give back or take back: sync's grant stays as the run left it. */
	const access = new Set<string>();
	/** Memberships the undo changed back: side, group and person id to the role it left (null: none). */
	const members = new Map<string, Role | null>();
	for (const { op, outcome } of undo) {
		const done = outcome?.status === 'done';
		if (
			!done &&
			(op.type === 'remove-person' ||
				op.type === 'remove-group' ||
				op.type === 'update-person' ||
				op.type === 'update-group') &&
			'id' in op.target
		)
			stuck.add(`${op.side}:${op.target.id}`);
		if (!done && (op.type === 'grant-access' || op.type === 'revoke-access') && 'id' in op.target)
			access.add(`${op.side}:${op.target.id}`);
		if (
			done &&
			(op.type === 'add-membership' || op.type === 'remove-membership' || op.type === 'set-role') &&
			'id' in op.group &&
			'id' in op.person
		)
			members.set(`${op.side}:${op.group.id}:${op.person.id}`, op.type === 'remove-membership' ? null : op.role);
	}
	const pairOf = (e: BaselineEntry) => `${e.kind}:${e.a}:${e.b}`;
	const kept = new Map<string, { entry: BaselineEntry; before?: BaselineEntry }>();
	/** The records the kept pairs name, by kind and side. */
	const holds = new Set<string>();
	/** The entries the run wrote and the undo takes out, by pair. */
	const written = new Map<string, BaselineEntry>();
	const remove: BaselineEntry[] = [];
	const put: BaselineEntry[] = [];
	for (const { action, entry } of changes) {
		if (action === 'ins') {
			if (stuck.has(`a:${entry.a}`) || stuck.has(`b:${entry.b}`)) {
				kept.set(pairOf(entry), { entry });
				holds.add(`${entry.kind}:a:${entry.a}`).add(`${entry.kind}:b:${entry.b}`);
			} else {
				remove.push(entry);
				written.set(pairOf(entry), entry);
			}
			continue;
		}
		const stays = kept.get(pairOf(entry));
		if (stays) {
			stays.before = entry;
			continue;
		}
		// A pair the run replaced (a record made again) stays replaced while the new one is kept.
		if (holds.has(`${entry.kind}:a:${entry.a}`) || holds.has(`${entry.kind}:b:${entry.b}`)) continue;
		const restored = restoredEntry(entry, recreated);
		if (!restored) continue;
		if (!access.has(`a:${entry.a}`) && !access.has(`b:${entry.b}`)) {
			put.push(restored);
			continue;
		}
		const { access: _had, ...rest } = restored;
		put.push(written.get(pairOf(entry))?.access ? { ...rest, access: true } : rest);
	}
	for (const { entry, before } of kept.values()) {
		if (entry.kind !== 'group') continue;
		const undone = (m: BaselineMember) => members.get(`a:${entry.a}:${m[0]}`) ?? members.get(`b:${entry.b}:${m[1]}`);
		const changed = (m: BaselineMember) => members.has(`a:${entry.a}:${m[0]}`) || members.has(`b:${entry.b}:${m[1]}`);
		const now: BaselineMember[] = [];
		const seen = new Set<string>();
		for (const m of entry.members ?? []) {
			seen.add(`${m[0]}:${m[1]}`);
			if (!changed(m)) now.push(m);
			else if (undone(m)) now.push([m[0], m[1], undone(m)!]);
		}
		for (const m of before?.members ?? [])
			if (!seen.has(`${m[0]}:${m[1]}`) && changed(m) && undone(m)) now.push([m[0], m[1], undone(m)!]);
		if (now.length === (entry.members ?? []).length && now.every((m, i) => m === entry.members![i])) continue;
		remove.push(entry);
		put.push({ ...entry, members: now });
	}
	return { remove, put };
}
