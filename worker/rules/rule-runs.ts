/**
 * What one rule run does, whatever started it: read the system (or take the snapshot the caller
 * already read), plan (apply the rule, turn it off with removal, or undo a run), store the plan,
 * apply it through the system's connector with each outcome journaled as it comes, and end the run.
 * Plain functions over the store and a connector, so the RulesDO only wires them to its alarm.
 */
import {
	finalStatus,
	planRule,
	planRuleOff,
	planRuleUndo,
	pruneRuleJournal,
	runPlan,
	type Op,
	type OpOutcome,
	type Rule,
	type Snapshot
} from '$lib/core';
import type { RunError } from '$lib/api/types';
import { ConnectorError, type Connector } from '../connectors/types';
import type { RulesStore, StoredRule } from './rules-store';

export interface RunContext {
	store: RulesStore;
	connector: Connector;
	/** Operations in flight at once. */
	concurrency: number;
}

export const coreRule = (r: StoredRule): Rule => ({
	id: r.id,
	name: r.name,
	system: r.systemId,
	groupId: r.groupId,
	scope: r.scope,
	buildings: r.buildings,
	memberTypes: r.memberTypes,
	role: r.role,
	enabled: r.enabled
});

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** A failure as the run shows it: the system that could not be read, or the rule's own problem. */
export function runError(e: unknown, systemId: string): RunError {
	if (e instanceof ConnectorError) return { code: 'source-failed', message: e.message, system: e.system };
	if (e instanceof Error && /is not in/.test(e.message))
		return { code: 'invalid', message: e.message, system: systemId };
	return { code: 'internal', message: message(e) };
}

/** The operations a run is to apply, planned on `snapshot` (the rule's journal pruned first). */
export function planFor(
	store: RulesStore,
	rule: StoredRule,
	runId: string,
	snapshot: Snapshot
): { ops: Op[]; irreversible?: { key: string; reason: string }[] } {
	const run = store.run(runId)!;
	const journal = pruneRuleJournal(store.journal(rule.id), snapshot, rule.groupId);
	store.setJournal(rule.id, rule.groupId, journal);
	const r = coreRule(rule);
	if (run.trigger === 'disable') return { ops: planRuleOff(r, snapshot, journal, true).ops };
	if (run.trigger === 'undo' && run.undoOf) {
		const undone = store.runOps(run.undoOf);
		return planRuleUndo(r, { id: run.undoOf, ...undone }, snapshot, journal);
	}
	return { ops: planRule({ ...r, enabled: true }, snapshot, journal).ops };
}

/** The memberships of `snapshot` once the done operations of a run are applied (for the next rule). */
export function afterOps(snapshot: Snapshot, ops: readonly Op[], outcomes: ReadonlyMap<string, OpOutcome>): Snapshot {
	const changed = new Map<string, Op>();
	for (const op of ops) {
		if (outcomes.get(op.key)?.status !== 'done' || !('group' in op) || !('id' in op.group)) continue;
		if (!('person' in op) || !('id' in op.person)) continue;
		changed.set(`${op.group.id}\u0000${op.person.id}`, op);
	}
	if (changed.size === 0) return snapshot;
	const memberships = snapshot.memberships.filter((m) => !changed.has(`${m.groupId}\u0000${m.personId}`));
	for (const op of changed.values())
		if ((op.type === 'add-membership' || op.type === 'set-role') && 'id' in op.group && 'id' in op.person)
			memberships.push({ groupId: op.group.id, personId: op.person.id, role: op.role });
	return { ...snapshot, memberships };
}

/**
 * Plans (once) and applies one run to its end. Returns the snapshot as the run left it. A run
 * from a snapshot or the schedule that finds nothing to do is dropped: it is not history.
 */
export async function executeRun(ctx: RunContext, runId: string, snapshot: Snapshot): Promise<Snapshot> {
	const { store } = ctx;
	const summary = store.run(runId);
	if (!summary || summary.status !== 'running') return snapshot;
	const rule = store.rule(summary.ruleId);
	if (!rule) {
		store.finishRun(runId, 'failed', { code: 'invalid', message: `The rule ${summary.ruleId} is gone.` });
		return snapshot;
	}
	if (!store.planned(runId)) {
		let planned;
		try {
			planned = planFor(store, rule, runId, snapshot);
		} catch (e) {
			store.finishRun(runId, 'failed', runError(e, rule.systemId));
			return snapshot;
		}
		if (planned.ops.length === 0 && (summary.trigger === 'snapshot' || summary.trigger === 'schedule')) {
			store.dropRun(runId);
			return snapshot;
		}
		const names = new Map(snapshot.people.map((p) => [p.id, p.displayName]));
		store.planRun(runId, planned.ops, names);
		if (summary.dryRun) {
			store.finishRun(runId, 'done');
			return snapshot;
		}
	}
	const { ops, outcomes } = store.runOps(runId);
	try {
		await runPlan(ops, outcomes, {
			apply: {
				a: async () => {
					throw new Error('a rule writes only to its own system');
				},
				b: (op, resolve) => ctx.connector.apply(op, resolve)
			},
			concurrency: ctx.concurrency,
			onOutcome: (outcome, op) => store.recordOutcome(runId, rule.id, rule.groupId, op, outcome)
		});
	} catch (e) {
		store.finishRun(runId, 'failed', runError(e, rule.systemId));
		return afterOps(snapshot, ops, outcomes);
	}
	const tally = store.run(runId)!.tally;
	store.finishRun(runId, finalStatus(tally));
	return afterOps(snapshot, ops, outcomes);
}
