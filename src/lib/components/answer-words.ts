/**
 * An answer in words: what it does and to whom ("Keep Ada Berg: created again in Team Manager"),
 * never the core's choice names ("take-a"), and where it stands.
 */
import type { ConflictReason, RecordKind, Resolution, Side } from '$lib/core';
import type { RecordName } from '$lib/db/schema';
import { reasonOf, type AnswerState } from '$lib/reconcile/answers';
import { fieldLabel } from './labels';

/** What the answer was made to: the conflict's reason and, for changed-vs-removed, where it was removed. */
export interface AnswerContext {
	reason?: ConflictReason;
	removedSide?: Side;
}

const list = (names: string[]): string =>
	names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;

/** What an answer does, naming the records and the systems. */
export function answerWords(
	resolution: Resolution,
	context: AnswerContext,
	systems: { a: string; b: string },
	who: readonly RecordName[]
): string {
	const nameOf = (side: Side, kind: RecordKind, id: string) =>
		who.find((w) => w.side === side && w.kind === kind && w.id === id)?.name ?? id;
	const refs = resolution.against;
	const kind = refs[0]?.kind ?? 'person';
	const named = (side: Side, id: string) => `${nameOf(side, kind, id)} (${systems[side]})`;
	// One name for a pair: both sides usually carry the same one; say both when they differ.
	const pairName = () => {
		const names = [...new Set(refs.map((r) => nameOf(r.side, r.kind, r.id)))];
		return names.length > 0 ? names.join(' / ') : 'this record';
	};
	const choice = resolution.choice;
	if (choice === 'approve-deletes') return 'Approve the staged removals';
	if (choice === 'approve-creates') return 'Approve the staged creations, and their invitations';
	if (choice === 'link' && resolution.link)
		return `Link ${named('a', resolution.link.a)} with ${named('b', resolution.link.b)}: one ${kind === 'person' ? 'person' : 'group'}, synced`;
	if (choice === 'create-new') {
		const names = refs.map((r) => named(r.side, r.id));
		return `Create as new: ${list(names)}, each added to the other system`;
	}
	if (choice === 'ignore') {
		const names = refs.map((r) => named(r.side, r.id));
		return `Ignore ${list(names)}: sync leaves ${names.length === 1 ? 'it' : 'them'} alone`;
	}
	if (choice === 'per-field') {
		const fields = Object.entries(resolution.fields ?? {}).map(
			([field, side]) => `${fieldLabel(field).toLowerCase()} from ${systems[side]}`
		);
		return `${pairName()}: ${fields.length ? list(fields) : 'field by field'}`;
	}
	const side: Side = choice === 'take-a' ? 'a' : 'b';
	// The conflict's id names its reason; a changed-vs-removed answer is made against the survivor only.
	const reason = context.reason ?? reasonOf(resolution.conflictId);
	const removed: Side | undefined = context.removedSide ?? (refs[0] ? (refs[0].side === 'a' ? 'b' : 'a') : undefined);
	if (reason === 'changed-vs-removed' && removed) {
		const kept: Side = removed === 'a' ? 'b' : 'a';
		return side === kept
			? `Keep ${pairName()}: created again in ${systems[removed]}`
			: `Remove ${pairName()} from ${systems[kept]} too`;
	}
	return `${pairName()}: use ${systems[side]}'s values`;
}

export const ANSWER_STATE_LABEL: Record<AnswerState, string> = {
	waiting: 'Waiting to be sent',
	sent: 'Sent',
	applied: 'Applied',
	stale: 'Stale',
	refused: 'Refused'
};

/** What a state means for the person who answered. */
export function answerStateText(state: AnswerState, online: boolean, error?: string): string {
	switch (state) {
		case 'waiting':
			return online ? 'On this device, being sent to the edge.' : 'On this device: sent when the connection returns.';
		case 'sent':
			return 'The edge holds this answer.';
		case 'applied':
			return "The edge's plan carries it out at the next run.";
		case 'stale':
			return 'A record changed since: look again and answer.';
		case 'refused':
			return `The edge refused it${error ? `: ${error}` : '.'}`;
	}
}

/** What changed under a stale answer, by name: "Ada Berg in Team Manager changed". */
export function changedWords(
	changed: readonly { then: { side: Side; kind: RecordKind; id: string }; now?: unknown }[],
	systems: { a: string; b: string },
	who: readonly RecordName[]
): string {
	return changed
		.map(({ then, now }) => {
			const name = who.find((w) => w.side === then.side && w.kind === then.kind && w.id === then.id)?.name ?? then.id;
			return `${name} in ${systems[then.side]} ${now ? 'changed' : 'is gone'}`;
		})
		.join('; ');
}
