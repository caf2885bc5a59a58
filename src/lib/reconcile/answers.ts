/**
 * Where each answer (a resolution) stands, and which pairs of the review it belongs to. An answer
 * is shown on every pair whose records it was made against, so it stays visible after the conflict
 * it answered has turned into an update, a create or an ignored record.
 */
import {
	CONFLICT_REASONS,
	type ConflictReason,
	type RecordKind,
	type Resolution,
	type Side,
	type StaleResolution
} from '$lib/core';
import type { OutboxEntry, PlanSource, RecordName } from '$lib/db/schema';

export const ANSWER_STATES = ['waiting', 'sent', 'applied', 'stale', 'refused'] as const;
/**
 * `waiting`: on this device, not sent yet. `sent`: the edge accepted and holds it. `applied`: the
 * edge's current plan carries it out (the next run does what it says). `stale`: a record changed
 * since it was made; it needs another look. `refused`: the edge refused it (the reason is kept).
 */
export type AnswerState = (typeof ANSWER_STATES)[number];

export type { RecordName };

/** One answer and where it stands. */
export interface Answer {
	conflictId: string;
	resolution: Resolution;
	state: AnswerState;
	reason?: ConflictReason;
	/** changed-vs-removed: the side the record was removed from (what "keep" and "remove" mean). */
	removedSide?: Side;
	/** The records it names, with their names (from the answer itself, else the snapshots). */
	who: RecordName[];
	/** For a stale answer: what changed. For a refused one: the edge's reason. */
	changed?: StaleResolution['changed'];
	error?: string;
}

/** The plan on screen, as far as answers are concerned. */
export interface PlanAnswers {
	source: PlanSource;
	applied: readonly string[];
	stale: readonly StaleResolution[];
}

/**
 * Every answer of a link with its state: the outbox first (a newer answer than the one the edge
 * holds), then the resolutions the edge accepted, judged against the plan on screen.
 */
export function answersOf(
	outbox: readonly OutboxEntry[],
	accepted: readonly Resolution[],
	plan: PlanAnswers
): Answer[] {
	const out = new Map<string, Answer>();
	const staleInPlan = new Map(plan.stale.map((s) => [s.resolution.conflictId, s]));
	const applied = new Set(plan.applied);
	for (const r of accepted) {
		const stale = staleInPlan.get(r.conflictId);
		const state: AnswerState = stale
			? 'stale'
			: plan.source === 'edge' && applied.has(r.conflictId)
				? 'applied'
				: 'sent';
		const reason = reasonOf(r.conflictId);
		out.set(r.conflictId, {
			conflictId: r.conflictId,
			resolution: r,
			state,
			reason,
			removedSide: reason === 'changed-vs-removed' ? removedSideOf(r) : undefined,
			who: [],
			changed: stale?.changed
		});
	}
	for (const e of outbox) {
		const state: AnswerState = e.state === 'pending' ? 'waiting' : e.state === 'stale' ? 'stale' : 'refused';
		out.set(e.conflictId, {
			conflictId: e.conflictId,
			resolution: e.resolution,
			state,
			reason: e.conflict?.reason,
			removedSide: e.conflict?.removedSide,
			who: e.who ?? [],
			changed: e.state === 'stale' ? e.changed : undefined,
			error: e.state === 'rejected' ? e.lastError : undefined
		});
	}
	return [...out.values()];
}

/** Conflict ids start with their reason (`changed-vs-removed:person:…`, src/lib/core/context.ts). */
export function reasonOf(conflictId: string): ConflictReason | undefined {
	const reason = conflictId.split(':')[0];
	return (CONFLICT_REASONS as readonly string[]).includes(reason) ? (reason as ConflictReason) : undefined;
}

/** A changed-vs-removed answer names only the surviving record: the other side is where it was removed. */
function removedSideOf(r: Resolution): Side | undefined {
	const side = r.against[0]?.side;
	return side === 'a' ? 'b' : side === 'b' ? 'a' : undefined;
}

const recordKey = (side: Side, kind: RecordKind, id: string) => `${side}\u0000${kind}\u0000${id}`;

/** Finds the answer that belongs to a pair: by its conflict, or by the records it was made against. */
export class AnswerIndex {
	readonly #byConflict = new Map<string, Answer>();
	readonly #byRecord = new Map<string, Answer>();

	constructor(readonly answers: readonly Answer[]) {
		for (const answer of answers) {
			this.#byConflict.set(answer.conflictId, answer);
			const kind = answer.resolution.against[0]?.kind;
			for (const ref of answer.resolution.against) this.#byRecord.set(recordKey(ref.side, ref.kind, ref.id), answer);
			const link = answer.resolution.link;
			if (link && kind) {
				this.#byRecord.set(recordKey('a', kind, link.a), answer);
				this.#byRecord.set(recordKey('b', kind, link.b), answer);
			}
		}
	}

	get size(): number {
		return this.answers.length;
	}

	/** The answer shown on a pair, if any. */
	forPair(pair: { kind: RecordKind; conflictId?: string; aId?: string; bId?: string }): Answer | undefined {
		if (pair.conflictId) {
			const byConflict = this.#byConflict.get(pair.conflictId);
			if (byConflict) return byConflict;
		}
		return (
			(pair.aId !== undefined ? this.#byRecord.get(recordKey('a', pair.kind, pair.aId)) : undefined) ??
			(pair.bId !== undefined ? this.#byRecord.get(recordKey('b', pair.kind, pair.bId)) : undefined)
		);
	}
}

/** Fills in the names an answer lacks from a lookup (the snapshots), keeping those it carries. */
export function withNames(
	answer: Answer,
	nameOf: (side: Side, kind: RecordKind, id: string) => string | undefined
): Answer {
	const known = new Map(answer.who.map((w) => [recordKey(w.side, w.kind, w.id), w]));
	const refs: { side: Side; kind: RecordKind; id: string }[] = [...answer.resolution.against];
	const kind = answer.resolution.against[0]?.kind;
	if (answer.resolution.link && kind)
		refs.push({ side: 'a', kind, id: answer.resolution.link.a }, { side: 'b', kind, id: answer.resolution.link.b });
	const who: RecordName[] = [...answer.who];
	for (const ref of refs) {
		const key = recordKey(ref.side, ref.kind, ref.id);
		if (known.has(key)) continue;
		const name = nameOf(ref.side, ref.kind, ref.id);
		if (name === undefined) continue;
		const entry = { side: ref.side, kind: ref.kind, id: ref.id, name };
		known.set(key, entry);
		who.push(entry);
	}
	return who.length === answer.who.length ? answer : { ...answer, who };
}

/** The names on screen when a pair is answered: both records of the pair and every candidate. */
export function namesOnScreen(detail: {
	row: { kind: RecordKind; aId?: string; bId?: string; aName?: string; bName?: string };
	candidates: {
		ref: { side: Side; kind: RecordKind; id: string };
		record?: { displayName: string } | { name: string };
	}[];
}): RecordName[] {
	const out = new Map<string, RecordName>();
	const add = (side: Side, kind: RecordKind, id: string | undefined, name: string | undefined) => {
		if (id === undefined || name === undefined) return;
		out.set(recordKey(side, kind, id), { side, kind, id, name });
	};
	const { row } = detail;
	add('a', row.kind, row.aId, row.aName);
	add('b', row.kind, row.bId, row.bName);
	for (const c of detail.candidates)
		add(
			c.ref.side,
			c.ref.kind,
			c.ref.id,
			c.record && ('displayName' in c.record ? c.record.displayName : c.record.name)
		);
	return [...out.values()];
}
