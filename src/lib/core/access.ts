/**
 * Access for synced people: after people sync, a link grants its synced people access on one side
 * (nobody, everyone synced, or the members of chosen groups; a person's own answer from the review
 * over the rule), and revokes it when they no longer qualify or are removed. Like provisioning's
 * provenance, sync revokes only the access it granted (the baseline's `access`): access someone gave
 * by hand is never taken away.
 */
import type { ReconcileContext } from './context';
import { idRef } from './context';
import type { AccessConfig, BaselineEntry, Person } from './model';
import { otherSide } from './model';
import { STEP, type Op, type TargetRef } from './ops';
import { membersOf } from './side-index';

/**
 * How a system records access, as its snapshot's `fields` say: a per-person flag (`access:flag`:
 * the sandbox's attribute, a SCIM entitlement or role), or the account's `active` state
 * (`access:active`). A snapshot without `fields` holds every field: the flag.
 */
export const ACCESS_FIELDS = { flag: 'access:flag', active: 'access:active' } as const;
export type AccessVia = keyof typeof ACCESS_FIELDS;

export function accessVia(fields: readonly string[] | undefined): AccessVia | undefined {
	if (!fields) return 'flag';
	if (fields.includes(ACCESS_FIELDS.flag)) return 'flag';
	if (fields.includes(ACCESS_FIELDS.active)) return 'active';
	return undefined;
}

/** The access settings of a link that names none: nobody, on side B. */
export const NO_ACCESS: AccessConfig = { side: 'b', grant: 'nobody', groups: [], people: {} };

/** Whether a person has access on a system that records it as `via`. */
export const hasAccess = (p: Person | undefined, via: AccessVia): boolean =>
	p === undefined ? false : via === 'active' ? p.active : p.access === true;

/** A pair's ids, as access decides on it (a side being created has no id yet). */
export interface AccessPair {
	a?: string;
	b?: string;
}

/** The review's answer for this pair, else the link's rule. `inGroups` tells group membership. */
export function wantsAccess(config: AccessConfig, pair: AccessPair, inGroups: () => boolean): boolean {
	const own =
		(pair.a !== undefined ? config.people[`a:${pair.a}`] : undefined) ??
		(pair.b !== undefined ? config.people[`b:${pair.b}`] : undefined);
	if (own !== undefined) return own;
	switch (config.grant) {
		case 'nobody':
			return false;
		case 'everyone':
			return true;
		case 'groups':
			return inGroups();
	}
}

/** What to do for one pair: the operation, if any, and whether sync's grant stands afterwards. */
export type AccessStep = { op?: 'grant-access' | 'revoke-access'; granted: boolean };

/**
 * The decision for one pair. `had`: sync granted it before; `has`: the person has access now;
 * `wants`: the rule (or the review) grants it; `removing`: the pair is being removed.
 * Returns undefined when nothing changes.
 */
export function accessStep(facts: {
	had: boolean;
	has: boolean;
	wants: boolean;
	removing: boolean;
}): AccessStep | undefined {
	const wants = facts.wants && !facts.removing;
	if (wants && !facts.has) return { op: 'grant-access', granted: true };
	if (!wants && facts.had) return facts.has ? { op: 'revoke-access', granted: false } : { granted: false };
	return undefined;
}

const REMOVALS = new Set<Op['type']>(['remove-person', 'anonymize-person']);

/**
 * Plans the grants and revocations of one reconciliation, after people and groups (a group's
 * members include the people this plan creates on the other side). Nothing is planned when the
 * access side records no access.
 */
export function planAccess(ctx: ReconcileContext, via: AccessVia | undefined): void {
	const config = ctx.link.access ?? NO_ACCESS;
	if (!via) return;
	// Nobody is to have access and sync granted none before: nothing to plan, and the indexes
	// below would cost a 100k-person reconciliation a second for nothing (the usual case).
	if (
		config.grant === 'nobody' &&
		!Object.values(config.people).some(Boolean) &&
		!ctx.drafts.some((d) => d.previous?.access === true) &&
		!ctx.kept.some((e) => e.access === true)
	)
		return;
	const side = config.side;
	const other = otherSide(side);
	const chosen = config.grant === 'groups' ? config.groups : [];
	// The chosen groups as their pairs name them on the other side, where new people already are members.
	const chosenOther: string[] = [];
	if (chosen.length > 0)
		for (const e of ctx.baseline) if (e.kind === 'group' && chosen.includes(e[side])) chosenOther.push(e[other]);
	const inGroups = (ids: AccessPair) => () =>
		(ids[side] !== undefined && chosen.some((g) => membersOf(ctx.sides[side], g).has(ids[side]!))) ||
		(ids[other] !== undefined && chosenOther.some((g) => membersOf(ctx.sides[other], g).has(ids[other]!)));

	const views = new Map<string, (typeof ctx.views)[number]>();
	for (const v of ctx.views) {
		if (v.kind !== 'person') continue;
		if (v.a !== undefined) views.set(`a:${v.a}`, v);
		if (v.b !== undefined) views.set(`b:${v.b}`, v);
	}
	const opsByKey = new Map(ctx.builder.ops.map((op) => [op.key, op]));

	const decide = (
		ref: TargetRef | undefined,
		ids: AccessPair,
		had: boolean,
		removing: boolean,
		removal?: Op
	): { step: AccessStep; opKey?: string } | undefined => {
		if (!ref) return undefined;
		const record = 'id' in ref ? ctx.sides[side].people.get(ref.id) : undefined;
		// A record that is gone on the access side has nothing left to grant or revoke.
		if ('id' in ref && !record) return had ? { step: { granted: false } } : undefined;
		const wants = wantsAccess(config, ids, inGroups(ids));
		const step = accessStep({ had, has: hasAccess(record, via), wants, removing });
		if (!step) return undefined;
		if (!step.op) return { step };
		// The `active` state is the access: a removal's deactivation takes it away, and only once it is done.
		if (step.op === 'revoke-access' && via === 'active' && removing)
			return { step: { granted: false }, opKey: removal?.key };
		// A grant to someone whose creation the limits staged waits with it; a revocation with its removal.
		const waits =
			step.op === 'grant-access' ? 'createdBy' in ref && opsByKey.get(ref.createdBy)?.staged : removal?.staged;
		const opKey = ctx.builder.add({
			type: step.op,
			side,
			step: step.op === 'grant-access' ? STEP.memberships : STEP.membershipRemovals,
			target: ref,
			...(waits ? { staged: true } : {})
		});
		const view = views.get(ids.a !== undefined ? `a:${ids.a}` : `b:${ids.b}`);
		if (view) view.access = step.op === 'grant-access' ? 'grant' : 'revoke';
		return { step, opKey };
	};

	for (const draft of ctx.drafts) {
		if (draft.kind !== 'person') continue;
		// A removal's revocation goes with it: staged when the limits stage it (the access stays until
		// an owner approves), recorded only once it is done. A pair already removed stays without access.
		const removal = draft.opKeys.map((k) => opsByKey.get(k)).find((op) => op !== undefined && REMOVALS.has(op.type));
		const removing = removal !== undefined || (draft.lifecycle !== undefined && draft.lifecycle.state !== 'active');
		const ids = { a: idOf(draft.a), b: idOf(draft.b) };
		// A record made again on the access side starts without the access the deleted one had; a kept
		// record there (its partner is the one made again) keeps what sync granted it.
		const had = draft.previous?.access === true && draft.recreates !== side;
		const decided = decide(draft[side], ids, had, removing, removal);
		if (decided) draft.access = { granted: decided.step.granted, opKey: decided.opKey };
		else if (had && draft.recreates) draft.access = { granted: true };
	}

	ctx.redraftKept((entry) => {
		if (entry.kind !== 'person' || entry.lifecycle?.state === 'anonymized' || deferred(ctx, entry)) return undefined;
		const removing = entry.lifecycle !== undefined && entry.lifecycle.state !== 'active';
		const decided = decide(idRef(entry[side]), { a: entry.a, b: entry.b }, entry.access === true, removing);
		return decided ? { access: { granted: decided.step.granted, opKey: decided.opKey } } : undefined;
	});
}

const idOf = (ref: TargetRef): string | undefined => ('id' in ref ? ref.id : undefined);

/** A pair in conflict waits for a person: its access too. */
const deferred = (ctx: ReconcileContext, entry: BaselineEntry): boolean =>
	ctx.personLinks.a.get(entry.a)?.deferred === true || ctx.personLinks.b.get(entry.b)?.deferred === true;

/** Who gains and who loses access in a plan (the preview's counts). */
export function accessCounts(ops: readonly Op[]): { gain: number; lose: number } {
	let gain = 0;
	let lose = 0;
	for (const op of ops) {
		if (op.staged) continue;
		if (op.type === 'grant-access') gain++;
		else if (op.type === 'revoke-access') lose++;
	}
	return { gain, lose };
}
