/**
 * What a run or an undo would do, for the owner to confirm first: the core's previews (counts per
 * type, the first operations, what cannot be reversed) with the names of the records they concern.
 * Nothing here writes to a system.
 */
import { collectNames, type NameLookup } from '$lib/api/run-names';
import { groupIrreversible, previewOps, type Op, type OpOutcome, type Side, type UndoPlan } from '$lib/core';
import type { RunPreview, StagedSummary, UndoPreview } from '$lib/api/types';
import { nameLookup } from './names';
import type { PlanMeta } from './plan-store';
import type { LinkStore } from './store';

/** Operations a preview lists (the counts cover them all). */
export const PREVIEW_LIMIT = 100;

type Known = Record<'people' | 'groups', Record<Side, Record<string, string>>>;

const createdName = (op: Op | undefined): string | undefined =>
	op?.type === 'create-person' ? op.record.displayName : op?.type === 'create-group' ? op.record.name : undefined;

/** A look-up that tries what the operations themselves say before the latest reads. */
function lookupWith(base: NameLookup, known: Known, created: (key: string) => string | undefined): NameLookup {
	return {
		person: (side, id) => known.people[side][id] ?? base.person(side, id),
		group: (side, id) => known.groups[side][id] ?? base.group(side, id),
		created: (key) => created(key) ?? base.created(key)
	};
}

/**
 * What undoing `runId` does: `undo` is the core's plan from the run's successful operations
 * (`ops`, `outcomes`). The records the run created are named from its creates (the latest read
 * may predate them); what it cannot reverse is named by the run's own operations.
 */
export function undoPreview(
	store: LinkStore,
	sql: SqlStorage,
	runId: string,
	undo: UndoPlan,
	ops: readonly Op[],
	outcomes: ReadonlyMap<string, OpOutcome>
): UndoPreview {
	const byKey = new Map(ops.map((op) => [op.key, op]));
	const irreversible = groupIrreversible(
		undo.irreversible.flatMap((i) => {
			const op = byKey.get(i.key);
			return op ? [{ type: op.type, reason: i.reason }] : [];
		})
	);
	const preview = previewOps(undo.ops, { limit: PREVIEW_LIMIT, irreversible });
	const known: Known = { people: { a: {}, b: {} }, groups: { a: {}, b: {} } };
	for (const op of ops) {
		const id = outcomes.get(op.key)?.id;
		if (op.type === 'create-person' && id) known.people[op.side][id] = op.record.displayName;
		else if (op.type === 'create-group' && id) known.groups[op.side][id] = op.record.name;
		else if (op.type === 'remove-person' && op.before.displayName)
			known.people[op.side][op.before.id] = op.before.displayName;
		else if (op.type === 'remove-group') known.groups[op.side][op.before.id] = op.before.name;
	}
	const undoByKey = new Map(undo.ops.map((op) => [op.key, op]));
	const lookup = lookupWith(nameLookup(sql, store.journal, runId), known, (key) => createdName(undoByKey.get(key)));
	return { runId, ...preview, names: collectNames(preview.ops, lookup) };
}

/** What a run of the current plan (just reconciled: `meta`) would do. */
export function runPreview(
	store: LinkStore,
	sql: SqlStorage,
	meta: PlanMeta,
	staged: StagedSummary[],
	requiresAction: number
): RunPreview {
	const { ops, more, irreversible } = store.plan.preview(PREVIEW_LIMIT);
	const empty: Known = { people: { a: {}, b: {} }, groups: { a: {}, b: {} } };
	const lookup = lookupWith(nameLookup(sql, store.journal, ''), empty, (key) => createdName(store.plan.opByKey(key)));
	return {
		counts: meta.counts,
		ops,
		more,
		irreversible,
		names: collectNames(ops, lookup),
		versions: meta.versions,
		computedAt: new Date(meta.computedAt).toISOString(),
		requiresAction,
		staged
	};
}

/** Names for the first operations of a staged set (the sheet lists those). */
export function stagedNames(store: LinkStore, sql: SqlStorage, ops: readonly Op[]) {
	const listed = ops.slice(0, PREVIEW_LIMIT);
	const byKey = new Map(ops.map((op) => [op.key, op]));
	const empty: Known = { people: { a: {}, b: {} }, groups: { a: {}, b: {} } };
	const lookup = lookupWith(nameLookup(sql, store.journal, ''), empty, (key) =>
		createdName(byKey.get(key) ?? store.plan.opByKey(key))
	);
	return collectNames(listed, lookup);
}
