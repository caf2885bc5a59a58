/**
 * A run, phase by phase, each phase small enough for one alarm invocation:
 *
 *   prepare  read both systems, reconcile (core), store the plan's operations in the journal and
 *            the baseline drafts; a source that cannot be read fails the run before any write
 *   apply    one slice: the next pending operations through the core's runPlan, every outcome
 *            persisted before the next write goes out, until N operations or M ms, or until an
 *            owner's stop (then nothing more is applied, and the commit follows)
 *   commit   the core's commitBaseline over the drafts, a chunk per transaction (undo runs:
 *            the undone run's baseline changes reverted instead)
 *
 * Crash safety: an operation is marked started before it is applied (the Durable Object's output
 * gate holds the request until that write is durable) and its outcome is written when it settles.
 * On resume, a started operation without outcome is looked for in the target first when applying
 * it twice could duplicate it (see recovery.ts); everything else is idempotent.
 */
import {
	commitBaseline,
	finalStatus,
	dependenciesOf,
	resolver,
	revertChanges,
	runPlan,
	type BaselineEntry,
	type BatchApplier,
	type BatchPolicy,
	type DraftEntry,
	type LinkConfig,
	type Op,
	type OpOutcome,
	type Side,
	type Snapshot,
	type TargetRef
} from '$lib/core';
import type { RuleOwned } from '$lib/core';
import type { Connector } from '../connectors/types';
import { isEdgeDelivered } from '../connectors/types';
import { noteCollision, planLink, SourceError } from './planning';
import { needsCheck, recoveredOutcome } from './recovery';
import type { LinkStore, Notice } from './store';
import type { RunError } from './types';

export interface SliceLimits {
	/** Operations started per slice. */
	ops: number;
	/** Wall-clock milliseconds per slice. */
	ms: number;
}

export interface EngineDeps {
	store: LinkStore;
	config: LinkConfig;
	now(): number;
	connector(systemId: string): Promise<Connector>;
	slice: SliceLimits;
	/** Operations in flight at once within a step. */
	concurrency: number;
	/** Baseline drafts committed per transaction. */
	commitChunk?: number;
	/** People reconciled per part (see planning.ts). */
	peoplePerPart?: number;
	/** false: every operation is written alone, whatever the systems take (a baseline for the bench). */
	batching?: boolean;
	/** Memberships the systems' rules own, which the plan leaves alone (see planning.ts). */
	ruleOwned?(): Promise<RuleOwned>;
}

/** Operations marked started per write (see applySlice). */
const MARK_AHEAD = 64;

/** What a phase left to do: more of the same (or the next phase), or nothing. */
export type Step = 'continue' | 'finished';

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** How a run came to its end, beside its operations' outcomes (see the core's finalStatus). */
export interface Ending {
	/** The run itself failed, for this reason. */
	error?: RunError;
	/** It ended before its plan was stored. */
	beforePlan?: boolean;
}

/** Ends a run with the status its outcomes and its ending call for (the core decides it). */
export function endRun(deps: Pick<EngineDeps, 'store' | 'now'>, runId: string, ending: Ending = {}): void {
	const { store } = deps;
	const run = store.journal.run(runId);
	if (!run) return;
	const status = finalStatus(run.tally, {
		error: ending.error !== undefined,
		beforePlan: ending.beforePlan,
		stopRequested: run.stopRequested !== undefined
	});
	store.journal.finishRun(runId, status, deps.now(), ending.error);
}

/** Reads, reconciles and stores the plan of a run. Failures end the run with nothing written. */
export async function prepare(deps: EngineDeps, runId: string, dryRun: boolean): Promise<Step> {
	const { store } = deps;
	// Stopped before it read anything: there is no plan to journal, and nothing was written.
	if (store.journal.stopRequested(runId)) {
		endRun(deps, runId, { beforePlan: true });
		return 'finished';
	}
	try {
		await planLink(deps, {
			accept: !dryRun,
			then: ({ meta }) => store.journal.planRunFromCurrent(runId, !dryRun, meta.counts, dryRun ? 'finished' : 'apply')
		});
	} catch (e) {
		const error: RunError = e instanceof SourceError ? e.detail : { code: 'internal', message: message(e) };
		endRun(deps, runId, { error, beforePlan: true });
		return 'finished';
	}
	if (dryRun) {
		endRun(deps, runId);
		return 'finished';
	}
	return 'continue';
}

/** Applies the next slice of a run's operations. 'finished' when none is left to apply. */
export async function applySlice(deps: EngineDeps, runId: string): Promise<Step> {
	const { store, config } = deps;
	const startedAt = deps.now();
	const rows = store.journal.pending(runId, deps.slice.ops);
	if (rows.length === 0) return 'finished';

	const ops = rows.map((r) => r.op);
	const outcomes = store.journal.outcomes(runId, ops.flatMap(dependenciesOf));
	const resolve = resolver(outcomes);

	const connectors = new Map<Side, Promise<Connector>>();
	const connectorOf = (side: Side) => {
		let c = connectors.get(side);
		if (!c) {
			c = deps.connector(config.systems[side]);
			// A failed look-up is tried again by the next operation.
			c.catch(() => connectors.delete(side));
			connectors.set(side, c);
		}
		return c;
	};

	// Operations cut off by a crash: settle those whose effect is already in the target.
	const cutOff = rows.filter((r) => r.started && needsCheck(r.op));
	if (cutOff.length > 0) {
		const targets = new Map<Side, Snapshot>();
		const made = createdIds(store.journal.doneOps(runId));
		const claimed = (side: Side, kind: 'person' | 'group') => (id: string) =>
			made[side].has(id) || store.baseline.holds(kind, side, id);
		for (const { op } of cutOff) {
			if (!targets.has(op.side)) targets.set(op.side, await (await connectorOf(op.side)).read());
			const kind = op.type === 'create-group' ? 'group' : 'person';
			const outcome = recoveredOutcome(op, targets.get(op.side)!, resolve, claimed(op.side, kind));
			if (!outcome) continue;
			if (outcome.id) made[op.side].add(outcome.id);
			outcomes.set(op.key, outcome);
			store.journal.recordOutcome(runId, outcome);
		}
	}

	// Operations are marked started a batch ahead, in one write: the output gate then holds one
	// batch's first request for that write instead of every request for its own (a started op
	// that was never applied is checked once more on resume, against records no other create of
	// the run made: see recoveredOutcome).
	const position = new Map(ops.map((op, i) => [op.key, i]));
	const marked = new Set<string>();
	const markAhead = (from: number) => {
		const keys: string[] = [];
		for (let i = from; i < ops.length && keys.length < MARK_AHEAD; i++) {
			const op = ops[i];
			if (!marked.has(op.key) && !op.staged && !isEdgeDelivered(op) && !outcomes.has(op.key)) keys.push(op.key);
		}
		store.journal.markStarted(runId, keys);
		for (const k of keys) marked.add(k);
	};

	let started = 0;
	const attempted = new Set<string>();
	const applier = (side: Side) => async (op: Op, res: (ref: TargetRef) => string) => {
		started++;
		// Notices go to the outbox with their outcome (one transaction): nothing to send here.
		if (isEdgeDelivered(op)) return {};
		if (!marked.has(op.key)) markAhead(position.get(op.key)!);
		attempted.add(op.key);
		return (await connectorOf(side)).apply(op, res);
	};

	// A batch is marked started whole, in one write, before its request goes out.
	const markAll = (keys: string[]) => {
		const fresh = keys.filter((k) => !marked.has(k));
		store.journal.markStarted(runId, fresh);
		for (const k of fresh) marked.add(k);
	};
	const batching: Partial<Record<Side, BatchPolicy>> = {};
	const applyBatch: Partial<Record<Side, BatchApplier>> = {};
	if (deps.batching !== false)
		for (const side of new Set(ops.map((op) => op.side))) {
			let connector: Connector;
			try {
				connector = await connectorOf(side);
				if (!connector.batching || !connector.applyBatch) continue;
				await connector.discover();
			} catch {
				continue; // the operations meet the same failure alone, each with its outcome
			}
			batching[side] = connector.batching!();
			applyBatch[side] = async (batch, res) => {
				started += batch.length;
				markAll(batch.map((op) => op.key));
				for (const op of batch) attempted.add(op.key);
				return connector.applyBatch!(batch, res);
			};
		}

	await runPlan(ops, outcomes, {
		apply: { a: applier('a'), b: applier('b') },
		applyBatch,
		batching,
		concurrency: deps.concurrency,
		onOutcome: (outcome, op) => {
			if (outcome.collision && op.type === 'create-person' && op.from)
				noteCollision(store, { side: op.side, source: op.from, ...outcome.collision });
			return store.journal.recordOutcome(
				runId,
				outcome,
				outcome.status === 'done' ? noticeFor(deps, runId, op, resolve) : undefined
			);
		},
		// A stop is honoured here, between operations: those in flight finish and are journaled.
		shouldYield: () =>
			started >= deps.slice.ops || deps.now() - startedAt >= deps.slice.ms || store.journal.stopRequested(runId)
	});
	// The slice ended on its own: what was marked ahead but never sent is not cut off.
	store.journal.unmarkStarted(
		runId,
		[...marked].filter((key) => !attempted.has(key))
	);
	// A stopped run has nothing more to apply: what did not start stays without outcome, so the
	// commit keeps the baseline of its pairs as it was.
	if (store.journal.stopRequested(runId)) return 'finished';
	return store.journal.pending(runId, 1).length > 0 ? 'continue' : 'finished';
}

/** The outbox row for a notice operation that succeeded. */
function noticeFor(deps: EngineDeps, runId: string, op: Op, resolve: (ref: TargetRef) => string): Notice | undefined {
	if (op.type !== 'invite' && op.type !== 'notify-transfer') return undefined;
	const person = resolve(op.person);
	const payload: Record<string, unknown> = {};
	if (op.type === 'notify-transfer') Object.assign(payload, { from: op.from, to: op.to });
	// The invitation goes to the person this run created: its name and address are in the create.
	const creator = 'createdBy' in op.person ? deps.store.journal.op(runId, op.person.createdBy) : undefined;
	if (creator?.type === 'create-person')
		Object.assign(payload, { displayName: creator.record.displayName, email: creator.record.email });
	return {
		runId,
		key: op.key,
		type: op.type,
		system: deps.config.systems[op.side],
		person,
		payload,
		createdAt: deps.now()
	};
}

/** Every key a draft's commit looks at: its operations and the creates its ids may wait for. */
function keysOf(draft: DraftEntry): string[] {
	const keys = [...draft.opKeys];
	if (draft.access?.opKey) keys.push(draft.access.opKey);
	if (draft.invite) keys.push(draft.invite);
	if (draft.told) keys.push(draft.told.notice);
	const ref = (r: TargetRef) => {
		if ('createdBy' in r) keys.push(r.createdBy);
	};
	ref(draft.a);
	ref(draft.b);
	for (const m of draft.members ?? []) {
		if (Array.isArray(m)) continue;
		if (m.opKey) keys.push(m.opKey);
		ref(m.a);
		ref(m.b);
	}
	return keys;
}

/**
 * Drafts per commit step. Each step is one task on the isolate's thread (2,000 drafts held it for
 * most of a second while twenty people polled); one alarm commits one chunk.
 */
const COMMIT_CHUNK = 500;

/**
 * Commits the next chunk of a run's baseline drafts with the core's commitBaseline: each pair
 * whose operations all succeeded takes its new values; the others keep what they had. A chunk and
 * the cursor that says it is done are written in one transaction, so a crash repeats nothing.
 */
export function commitSlice(deps: EngineDeps, runId: string): Step {
	const { store } = deps;
	const cursorKey = `commit:${runId}`;
	const after = store.getMeta<number>(cursorKey) ?? -1;
	const chunk = store.journal.drafts(runId, after, deps.commitChunk ?? COMMIT_CHUNK);
	if (chunk.length === 0) return 'finished';
	const drafts = chunk.map((c) => c.draft);
	const outcomes = store.journal.outcomes(runId, drafts.flatMap(keysOf));
	const committed = commitBaseline(
		{
			linkId: deps.config.id,
			versions: { a: '', b: '' },
			ops: [],
			counts: { total: 0, staged: 0, byType: {}, bySide: { a: 0, b: 0 } },
			keep: [],
			next: drafts
		},
		outcomes
	);
	const previous = new Set<BaselineEntry>();
	for (const d of drafts) if (d.previous) previous.add(d.previous);
	const kept = new Set(committed.entries.filter((e) => previous.has(e)));
	store.transaction(() => {
		for (const p of previous) {
			if (kept.has(p)) continue;
			store.baseline.delete(p);
			store.baseline.recordChange(runId, 'del', p);
		}
		for (const e of committed.entries) {
			if (previous.has(e)) continue;
			store.baseline.insert(e);
			store.baseline.recordChange(runId, 'ins', e);
		}
		store.setMeta(cursorKey, chunk[chunk.length - 1].seq);
	});
	return 'continue';
}

/**
 * Reverts the baseline changes of an undone run with the core's revertChanges: each pair as far as
 * the undo's operations on it succeeded, removed entries back under the ids the undo re-created
 * their records with. Call inside a transaction.
 */
function revertBaseline(store: LinkStore, undoneRunId: string, undoRunId: string): void {
	const { remove, put } = revertChanges(
		[...store.baseline.changes(undoneRunId)],
		[...store.journal.entries(undoRunId)]
	);
	for (const entry of remove) store.baseline.delete(entry);
	for (const entry of put) store.baseline.insert(entry);
}

/** Ends a run that applied its operations: commits, then records how it ended. */
export function finishApplied(deps: EngineDeps, runId: string, undoOf: string | undefined): Step {
	const { store } = deps;
	if (undoOf) {
		// The revert and the end of the run in one transaction: a crash between them cannot revert twice.
		store.transaction(() => {
			revertBaseline(store, undoOf, runId);
			endRun(deps, runId);
		});
		return 'finished';
	}
	store.journal.setPhase(runId, 'commit');
	if (commitSlice(deps, runId) === 'continue') return 'continue';
	commitDone(deps, runId);
	endRun(deps, runId);
	return 'finished';
}

function commitDone(deps: EngineDeps, runId: string): void {
	deps.store.journal.dropDrafts(runId);
	deps.store.setMeta(`commit:${runId}`, undefined);
}

/**
 * A run given up because its steps kept failing still commits what it did: the operations done
 * before the failures are in the systems, and a baseline without them would have the next plan
 * adopt the records it made. Whatever did not happen keeps its pair as it was, as in any commit.
 */
export function commitGivenUp(deps: EngineDeps, runId: string): void {
	while (commitSlice(deps, runId) === 'continue');
	commitDone(deps, runId);
}

/** The records a run's done creates made, by side. */
function createdIds({ ops, outcomes }: { ops: Op[]; outcomes: Map<string, OpOutcome> }): Record<Side, Set<string>> {
	const made: Record<Side, Set<string>> = { a: new Set(), b: new Set() };
	for (const op of ops) {
		const id = outcomes.get(op.key)?.id;
		if ((op.type === 'create-person' || op.type === 'create-group') && id) made[op.side].add(id);
	}
	return made;
}
