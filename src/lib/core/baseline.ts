/**
 * The baseline after a run: each pair whose operations all succeeded takes its new values; a pair
 * with a failed, skipped or staged operation keeps what it had, so the next run tries again.
 */
import type { Baseline, BaselineEntry, BaselineMember } from './model';
import type { TargetRef } from './ops';
import type { DraftEntry, Plan } from './plan';
import type { OpOutcome } from './runner';

export function commitBaseline(plan: Plan, outcomes: ReadonlyMap<string, OpOutcome>): Baseline {
	const done = (key: string) => outcomes.get(key)?.status === 'done';
	const resolve = (ref: TargetRef): string | undefined => {
		if ('id' in ref) return ref.id;
		const o = outcomes.get(ref.createdBy);
		return o?.status === 'done' ? o.id : undefined;
	};
	const entries: BaselineEntry[] = [...plan.keep];
	// Sync's grant is recorded whatever happened to the pair's other operations: it is what may be revoked.
	const withAccess = (entry: BaselineEntry, draft: DraftEntry): BaselineEntry => {
		if (!draft.access) return entry;
		const granted =
			draft.access.opKey === undefined || done(draft.access.opKey) ? draft.access.granted : entry.access === true;
		const { access: _was, ...rest } = entry;
		return granted ? { ...rest, access: true } : rest;
	};
	// What a person was last told of is kept until a notice is sent, whatever happened to the rest.
	const told = (draft: DraftEntry): string[] | undefined =>
		draft.told ? (done(draft.told.notice) ? undefined : draft.told.communities) : draft.previous?.told;
	const withTold = (entry: BaselineEntry, draft: DraftEntry): BaselineEntry => {
		if (!draft.told) return entry;
		const { told: _was, ...rest } = entry;
		const communities = told(draft);
		return communities ? { ...rest, told: communities } : rest;
	};
	for (const draft of plan.next) {
		const a = resolve(draft.a);
		const b = resolve(draft.b);
		if (a !== undefined && b !== undefined && draft.adoption && done(draft.adoption.opKey)) {
			if (!draft.opKeys.every(done)) {
				entries.push({ kind: draft.kind, a, b, origin: 'adopted', fields: draft.adoption.fields });
				continue;
			}
		}
		if (!draft.opKeys.every(done) || a === undefined || b === undefined) {
			if (draft.previous) entries.push(withTold(withAccess(draft.previous, draft), draft));
			continue;
		}
		if (draft.retire) continue;
		const entry: BaselineEntry = { kind: draft.kind, a, b, origin: draft.origin, fields: draft.fields };
		if (draft.lifecycle && draft.lifecycle.state !== 'active') entry.lifecycle = draft.lifecycle;
		if (draft.previous?.access && !draft.recreates) entry.access = true;
		if (draft.invite && !done(draft.invite)) entry.invite = 'pending';
		const communities = told(draft);
		if (communities) entry.told = communities;
		if (draft.kind === 'group') {
			const members: BaselineMember[] = [];
			for (const m of draft.members ?? []) {
				if (Array.isArray(m)) {
					members.push(m);
					continue;
				}
				if (m.removed) {
					if (!(m.opKey && done(m.opKey)) && m.previous) members.push(m.previous);
					continue;
				}
				const ma = resolve(m.a);
				const mb = resolve(m.b);
				if ((m.opKey && !done(m.opKey)) || ma === undefined || mb === undefined) {
					if (m.previous) members.push(m.previous);
					continue;
				}
				members.push([ma, mb, m.role]);
			}
			entry.members = members;
		}
		entries.push(withAccess(entry, draft));
	}
	return { linkId: plan.linkId, entries };
}
