/**
 * Groups: matched by identifier (two-way links may also match by name). Provisioning matches by
 * identifier only, never changes an existing group, and removes groups gone from the source.
 */
import {
	conflictId,
	createdRef,
	idRef,
	pairConflictId,
	type PairNote,
	type PairView,
	type ReconcileContext
} from './context';
import { diffRecord } from './diff';
import { readValues, toLocal } from './fields';
import { match, type MatchPass } from './match';
import type { BaselineEntry, Group, Side } from './model';
import { otherSide } from './model';
import { normalize, ruleFor } from './normalize';
import { STEP } from './ops';
import { chosenSide } from './resolutions';
import { membersOf } from './side-index';

const identifier = (g: Group) => normalize(g.externalId, ruleFor('externalId'));
const nameKey = (g: Group) => `${g.kind}\u0000${normalize(g.name)}`;

function groupPasses(ctx: ReconcileContext): MatchPass<Group>[] {
	const passes: MatchPass<Group>[] = [{ name: 'externalId', key: identifier }];
	if (!ctx.provision && ctx.link.match.group === 'name') {
		// Two groups of one name that both carry identifiers, and different ones, are not the same group.
		passes.push({
			name: 'name',
			key: nameKey,
			compatible: (a, b) => !a.externalId || !b.externalId || identifier(a) === identifier(b)
		});
	}
	return passes;
}

function planCreate(
	ctx: ReconcileContext,
	source: Group,
	from: Side,
	note?: PairNote,
	/** The pairing whose group on the other side this create remakes (see DraftEntry.recreates). */
	replaces?: BaselineEntry
): void {
	const to = otherSide(from);
	const record: Omit<Group, 'id'> = { name: source.name, kind: source.kind };
	if (source.externalId) record.externalId = source.externalId;
	const key = ctx.builder.add({ type: 'create-group', side: to, step: STEP.groups, record });
	const refs = from === 'a' ? { a: idRef(source.id), b: createdRef(key) } : { a: createdRef(key), b: idRef(source.id) };
	const draft = {
		kind: 'group' as const,
		...refs,
		origin: 'created' as const,
		fields: readValues(source, ctx.groupSpecs, from),
		members: [],
		opKeys: [key],
		...(replaces ? { previous: replaces, recreates: to } : {})
	};
	ctx.drafts.push(draft);
	ctx.createdGroups.push({ source, from, key, draft });
	ctx.view({ kind: 'group', [from]: source.id, situation: 'create', to, note });
}

function planRemoval(ctx: ReconcileContext, entry: BaselineEntry, survivor: Group, on: Side): void {
	const members = membersOf(ctx.sides[on], survivor.id);
	if (ctx.provision && survivor.kind === 'community') {
		for (const [aPerson] of entry.members ?? []) ctx.communityMove(aPerson, 'from', survivor.name);
	}
	if (ctx.provision && ctx.link.groupRemoval[survivor.kind] === 'strip') {
		// Keep the group, take away only the memberships sync made; the group is no longer synced.
		let view: PairView | undefined;
		for (const [aPerson, bPerson, role] of entry.members ?? []) {
			const personId = on === 'a' ? aPerson : bPerson;
			if (members.get(personId) === undefined) continue;
			const key = ctx.builder.add({
				type: 'remove-membership',
				side: on,
				step: STEP.membershipRemovals,
				group: idRef(survivor.id),
				person: idRef(personId),
				before: role
			});
			view ??= ctx.view({ kind: 'group', [on]: survivor.id, situation: 'remove', to: on });
			ctx.viewByOp.set(key, view);
		}
		return;
	}
	const beforeMembers = [...members].map(([personId, role]) => ({ personId, role }));
	const key = ctx.builder.add({
		type: 'remove-group',
		side: on,
		step: STEP.groupRemovals,
		target: idRef(survivor.id),
		before: survivor,
		beforeMembers
	});
	ctx.viewByOp.set(key, ctx.view({ kind: 'group', [on]: survivor.id, situation: 'remove', to: on }));
	// The entry goes once the removal succeeds; a failed removal keeps it for the next run.
	ctx.drafts.push({
		kind: 'group',
		a: idRef(entry.a),
		b: idRef(entry.b),
		origin: entry.origin,
		fields: entry.fields,
		members: [],
		opKeys: [key],
		previous: entry,
		retire: true
	});
}

export function reconcileGroups(ctx: ReconcileContext): void {
	const { sides, resolutions, link } = ctx;
	const m = match<Group>({
		a: sides.a.groups,
		b: sides.b.groups,
		baseline: ctx.baselineOf('group'),
		forced: resolutions.forced.group,
		excluded: resolutions.excluded.group,
		passes: groupPasses(ctx),
		collisionKey: nameKey
	});

	for (const { a, b, entry } of m.pairs) {
		const opKeys: string[] = [];
		let note: PairNote | undefined;
		if (ctx.provision && !entry) {
			opKeys.push(ctx.builder.add({ type: 'adopt-group', side: 'b', step: STEP.groups, target: idRef(b.id) }));
			note = 'adopt';
		}
		const resolution = ctx.resolutionFor('group', a.id, b.id);
		const id = pairConflictId('group', a.id, b.id);
		const diff = diffRecord(
			ctx.groupSpecs,
			a,
			b,
			entry?.fields,
			(f) => link.authority.fields[f] ?? link.authority.default,
			(f) => chosenSide(resolution, f)
		);
		const pair = ctx.groupPair(a, b, entry, id, resolution);
		if (diff) {
			pair.fieldConflicts = diff.conflicts;
			pair.changed = diff.changed;
			pair.merged = diff.merged;
			if (diff.conflicts.length === 0) {
				for (const [to, values, target] of [
					['a', diff.toA, a],
					['b', diff.toB, b]
				] as const) {
					if (Object.keys(values).length === 0) continue;
					const before = { name: target.name };
					pair.fieldOps.push({
						type: 'update-group',
						side: to,
						step: STEP.groups,
						target: idRef(target.id),
						values: toLocal(values, ctx.groupSpecs, to),
						before
					});
				}
			}
			if (diff.firstSync && diff.changed.length > 0) note ??= 'first-sync';
		}
		pair.opKeys.push(...opKeys);
		pair.note = note;
	}

	for (const { entry, a, b } of m.broken) {
		if (!a && !b) continue;
		const survivor = (a ?? b)!;
		const side: Side = a ? 'a' : 'b';
		if (ctx.provision && side === 'a') {
			planCreate(ctx, survivor, 'a', 'recreate', entry);
			continue;
		}
		if (!ctx.provision) {
			const changed = ctx.groupSpecs.some(
				(s) => s.key in entry.fields && s.read(survivor, side) !== entry.fields[s.key]
			);
			if (changed) {
				const records = [ctx.ref(side, 'group', survivor)];
				const id = conflictId('changed-vs-removed', 'group', records);
				const choice = chosenSide(resolutions.byConflict.get(id), '*');
				if (!choice) {
					ctx.conflict('group', 'changed-vs-removed', records, { removedSide: otherSide(side) });
					ctx.view({ kind: 'group', [side]: survivor.id, situation: 'conflict', conflictId: id });
					ctx.keep(entry);
					continue;
				}
				resolutions.applied.add(id);
				if (choice === side) {
					planCreate(ctx, survivor, side, 'recreate', entry);
					continue;
				}
			}
		}
		planRemoval(ctx, entry, survivor, side);
	}

	for (const group of m.ambiguous) {
		const records = [...group.a.map((g) => ctx.ref('a', 'group', g)), ...group.b.map((g) => ctx.ref('b', 'group', g))];
		const conflict = ctx.conflict('group', 'ambiguous-match', records);
		ctx.view({ kind: 'group', a: group.a[0]?.id, b: group.b[0]?.id, situation: 'conflict', conflictId: conflict.id });
	}

	for (const c of m.collisions) {
		if (ctx.provision) {
			// Communities and functions match by identifier only: a same-named one is still new.
			for (const g of c.a) planCreate(ctx, g, 'a', 'name-collision');
			ctx.untouched.group += c.b.length;
			continue;
		}
		const records = [...c.a.map((g) => ctx.ref('a', 'group', g)), ...c.b.map((g) => ctx.ref('b', 'group', g))];
		const conflict = ctx.conflict('group', 'name-collision', records);
		ctx.view({
			kind: 'group',
			a: c.a[0]?.id,
			b: c.b[0]?.id,
			situation: 'conflict',
			conflictId: conflict.id,
			note: 'name-collision'
		});
	}

	for (const [side, list] of [
		['a', m.onlyA],
		['b', m.onlyB]
	] as const) {
		for (const g of list) {
			if (resolutions.ignored.group[side].has(g.id)) {
				ctx.view({ kind: 'group', [side]: g.id, situation: 'in-sync', note: 'ignored' });
				continue;
			}
			if (ctx.provision && side === 'b') {
				ctx.untouched.group++;
				continue;
			}
			planCreate(ctx, g, side);
		}
	}
}
