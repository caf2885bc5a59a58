/**
 * Memberships, diffed per group pair as sets with roles, then each group pair settled: its name
 * and its members decide together whether it is in sync, updated, or in conflict.
 *
 * The pass walks the baseline's members first (nearly all of them, in a steady state), marking
 * each person as seen for this group, and only then the members the baseline did not know.
 * Marks on the person links replace per-group sets: no allocation for members that did not change.
 */
import { createdRef, linkKey, refOn, type GroupPairWork, type PersonLink, type ReconcileContext } from './context';
import { mergeMember, type FieldConflict } from './diff';
import type { BaselineMember, Role, Side } from './model';
import { otherSide } from './model';
import { STEP, type TargetRef } from './ops';
import type { DraftMember, OpDraft } from './plan';
import { chosenSide } from './resolutions';
import { membersOf, stretchOf } from './side-index';

interface MemberWork {
	/** `mover`: the source person whose community move this operation is part of (provisioning). */
	ops: { draft: OpDraft; member?: DraftMember; mover?: string }[];
	/** Members whose baseline changes (null: dropped from it). */
	changes: Map<PersonLink, DraftMember | null>;
	/** Baseline members whose people are no longer paired the same way: dropped. */
	stale: number;
	/** The live link of each baseline member, in order (undefined: stale). */
	links: (PersonLink | undefined)[];
	conflicts: FieldConflict[];
}

const newWork = (): MemberWork => ({ ops: [], changes: new Map(), stale: 0, conflicts: [], links: [] });

/** The live link of a baseline member, if its two people are still paired with each other. */
function linkOf(ctx: ReconcileContext, m: BaselineMember): PersonLink | undefined {
	const link = ctx.personLinks.a.get(m[0]);
	if (link && link.bId === m[1]) return link;
	// A record kept on A whose B record is made again is linked anew on A; the old pairing (its B
	// record gone) is still found from B, and its membership leaves once the record is made again.
	const old = link && ctx.personLinks.b.get(m[1]);
	return old && old.aId === m[0] ? old : undefined;
}

/** A baseline member's live link, recorded for the merge (the caller marks it as seen for this group). */
function visitBase(ctx: ReconcileContext, work: MemberWork, m: BaselineMember): PersonLink | undefined {
	const link = linkOf(ctx, m);
	work.links.push(link);
	if (!link) work.stale++;
	return link;
}

function memberOp(
	side: Side,
	group: TargetRef,
	person: TargetRef,
	now: Role | undefined,
	want: Role | undefined
): OpDraft {
	if (want === undefined)
		return { type: 'remove-membership', side, step: STEP.membershipRemovals, group, person, before: now! };
	if (now === undefined) return { type: 'add-membership', side, step: STEP.memberships, group, person, role: want };
	return { type: 'set-role', side, step: STEP.memberships, group, person, role: want, before: now };
}

function draftMember(link: PersonLink, role: Role, previous?: BaselineMember): DraftMember | undefined {
	const a = refOn(link, 'a');
	const b = refOn(link, 'b');
	return a && b ? { a, b, role, previous } : undefined;
}

/**
 * A baseline member this plan removes: it leaves the baseline only once its removal is done. A
 * removal staged behind a limit, or one that failed, keeps the member as sync last wrote it, so
 * the next run neither re-adds it on the other side nor forgets that sync owns it.
 */
const removedMember = (previous: BaselineMember): DraftMember => ({
	a: { id: previous[0] },
	b: { id: previous[1] },
	role: previous[2],
	previous,
	removed: true
});

/** A side's list members the baseline walk does not reach: their links, and the roles listed. */
interface Unreached {
	links: PersonLink[];
	roles: Role[];
}

/**
 * Reads a group's members on one side in place, in step with the baseline's: a system lists a
 * group's members in the order they were added, and the baseline keeps that order, so most
 * members are found where the baseline expects them, with no index of the group. Each person's
 * link takes the role found (see PersonLink.readA); a baseline member not where expected is taken
 * as not listed. That holds only if the list names no person twice and names no baseline member
 * out of step, which the links tell: each record's link is read at most once per group. Anything
 * else answers undefined, and the caller indexes the group instead. Answers the listed members
 * the baseline walk does not reach, in list order: those the baseline does not hold, and those
 * whose baseline member no longer pairs them.
 */
function readInStep(
	ctx: ReconcileContext,
	side: Side,
	groupId: string,
	base: readonly BaselineMember[],
	links: readonly (PersonLink | undefined)[],
	serial: number
): Unreached | undefined {
	const stretch = stretchOf(ctx.sides[side], groupId);
	if (!stretch) return undefined;
	const listed = ctx.sides[side].memberships;
	const at = side === 'a' ? 0 : 1;
	const index = ctx.personLinks[side];
	const unreached: Unreached = { links: [], roles: [] };
	let j = stretch.start;
	const read = (link: PersonLink, role: Role | undefined): boolean => {
		if ((side === 'a' ? link.readA : link.readB) === serial) return false;
		if (side === 'a') {
			link.readA = serial;
			link.roleA = role;
		} else {
			link.readB = serial;
			link.roleB = role;
		}
		return true;
	};
	/** Removed people found listed here, whose removal journals their groups (see fillJournals). */
	let journaled: { link: PersonLink; role: Role }[] | undefined;
	const found = (link: PersonLink, role: Role) => {
		if (link.journal?.on === side) (journaled ??= []).push({ link, role });
	};
	for (let i = 0; i < base.length; i++) {
		const id = base[i][at];
		// A live link is the one link naming its records on both sides (see linksOneToOne).
		const live = links[i];
		const own = live ?? index.get(id);
		const role = j < stretch.end && listed[j].personId === id ? listed[j++].role : undefined;
		if (!own) continue;
		if (!read(own, role)) return undefined;
		if (role === undefined) continue;
		found(own, role);
		if (!live) {
			unreached.links.push(own);
			unreached.roles.push(role);
		}
	}
	for (; j < stretch.end; j++) {
		const own = index.get(listed[j].personId);
		if (!own) continue;
		if (!read(own, listed[j].role)) return undefined;
		found(own, listed[j].role);
		unreached.links.push(own);
		unreached.roles.push(listed[j].role);
	}
	// Read whole: what it found stands.
	stretch.readInStep = true;
	for (const { link, role } of journaled ?? []) link.journal!.found.push({ groupId, role, place: stretch.place });
	return unreached;
}

/** The role a group read in place found for a link's record on a side (see readInStep). */
const roleRead = (link: PersonLink, side: Side, serial: number): Role | undefined =>
	side === 'a' ? (link.readA === serial ? link.roleA : undefined) : link.readB === serial ? link.roleB : undefined;

/** Two-way: three-way merge of each member against the baseline. */
function diffTwoWay(ctx: ReconcileContext, pair: GroupPairWork): MemberWork {
	const work = newWork();
	const base = pair.entry?.members ?? [];
	const authority = ctx.link.authority.fields.members ?? ctx.link.authority.default;
	const groupRef = { a: { id: pair.a.id }, b: { id: pair.b.id } };
	const serial = ++ctx.markSerial;

	const consider = (link: PersonLink, ra: Role | undefined, rb: Role | undefined, previous?: BaselineMember) => {
		// The person is gone on one side: its memberships go with its removal on the other, no merge
		// to make. A member sync wrote leaves the baseline only once that removal is done; while it
		// is staged, failed or not planned, the member stays as sync last wrote it.
		if (link.aGone || link.bGone) {
			work.changes.set(link, previous ? { ...removedMember(previous), opKey: link.removal } : null);
			return;
		}
		const field = `member:${linkKey(link)}`;
		const m = mergeMember(
			ra,
			rb,
			previous?.[2],
			authority,
			pair.resolution ? chosenSide(pair.resolution, field) : undefined
		);
		if (m.kind === 'conflict') {
			work.conflicts.push({ field, base: previous?.[2] ?? null, a: ra ?? null, b: rb ?? null });
			return;
		}
		if (m.kind === 'same') {
			if (m.value !== previous?.[2])
				work.changes.set(link, m.value ? (draftMember(link, m.value, previous) ?? null) : null);
			return;
		}
		const to = otherSide(m.from);
		const person = refOn(link, to);
		// Not writable there (its record is gone on that side): the baseline keeps what it had.
		if (!person) return;
		// A rule's membership there is the rule's: the link neither removes it nor changes its role.
		if ((to === 'a' ? ra : rb) !== undefined && ctx.ruleOwns(to, groupRef[to], person)) return;
		const member = m.value ? draftMember(link, m.value, previous) : previous ? removedMember(previous) : undefined;
		work.ops.push({ draft: memberOp(to, groupRef[to], person, to === 'a' ? ra : rb, m.value), member });
		work.changes.set(link, member ?? null);
	};

	for (let i = 0; i < base.length; i++) visitBase(ctx, work, base[i]);
	// Read in place where both lists allow it; else each side's members indexed.
	let unreached: Record<Side, Unreached> | undefined;
	if (ctx.linksOneToOne()) {
		const a = readInStep(ctx, 'a', pair.a.id, base, work.links, serial);
		const b = a && readInStep(ctx, 'b', pair.b.id, base, work.links, serial);
		if (b) unreached = { a, b };
	}
	const aMembers = unreached ? undefined : membersOf(ctx.sides.a, pair.a.id);
	const bMembers = unreached ? undefined : membersOf(ctx.sides.b, pair.b.id);
	const roleOnA = (link: PersonLink, id: string | undefined) =>
		aMembers ? (id === undefined ? undefined : aMembers.get(id)) : roleRead(link, 'a', serial);
	const roleOnB = (link: PersonLink, id: string | undefined) =>
		bMembers ? (id === undefined ? undefined : bMembers.get(id)) : roleRead(link, 'b', serial);
	let seenA = 0;
	let seenB = 0;
	let linksA = 0;
	let linksB = 0;

	for (let i = 0; i < base.length; i++) {
		const m = base[i];
		const link = work.links[i];
		if (!link) continue;
		const first = link.mark !== serial;
		link.mark = serial;
		const ra = roleOnA(link, m[0]);
		const rb = roleOnB(link, m[1]);
		// A gone person's surviving record may be linked anew (made again on the other side): its
		// membership is then the new link's, for the walk over the live members below to find.
		if (!link.aGone && !link.bGone) {
			if (ra !== undefined) seenA++;
			if (rb !== undefined) seenB++;
		}
		// Distinct links whose record's live link is this one: the walk would skip each of them. A
		// removal's surviving record, left out of seenA/seenB, would otherwise send every group it
		// is in on that walk for nothing.
		if (first) {
			if (ra !== undefined && link.replacedOn !== 'a') linksA++;
			if (rb !== undefined && link.replacedOn !== 'b') linksB++;
		}
		if (link.deferred || (ra === m[2] && rb === m[2])) continue;
		consider(link, ra, rb, m);
	}
	// The live members the baseline walk did not reach: those it does not hold, or no longer pairs.
	const reachA = (link: PersonLink, ra: Role) => {
		if (link.mark === serial) return;
		link.mark = serial;
		const rb = roleOnB(link, link.bId);
		if (rb !== undefined) {
			seenB++;
			if (link.replacedOn !== 'b') linksB++;
		}
		if (!link.deferred) consider(link, ra, rb);
	};
	const reachB = (link: PersonLink, rb: Role) => {
		if (link.mark === serial) return;
		link.mark = serial;
		if (!link.deferred) consider(link, roleOnA(link, link.aId), rb);
	};
	if (unreached) {
		for (let k = 0; k < unreached.a.links.length; k++) reachA(unreached.a.links[k], unreached.a.roles[k]);
		for (let k = 0; k < unreached.b.links.length; k++) reachB(unreached.b.links[k], unreached.b.roles[k]);
		return work;
	}
	// forEach, not for-of: no [key, value] pair allocated per member.
	if (seenA < aMembers!.size && linksA < aMembers!.size) {
		aMembers!.forEach((ra, pa) => {
			const link = ctx.personLinks.a.get(pa);
			if (link) reachA(link, ra);
		});
	}
	if (seenB < bMembers!.size && linksB < bMembers!.size) {
		bMembers!.forEach((rb, pb) => {
			const link = ctx.personLinks.b.get(pb);
			if (link) reachB(link, rb);
		});
	}
	return work;
}

/** Provisioning: the source's members, written to the target; only sync's own memberships are removed. */
function diffProvision(
	ctx: ReconcileContext,
	sourceId: string,
	target: TargetRef,
	owned: readonly BaselineMember[] | undefined,
	community?: string
): MemberWork {
	const work = newWork();
	const sourceMembers = membersOf(ctx.sides.a, sourceId);
	const targetMembers = 'id' in target ? membersOf(ctx.sides.b, target.id) : new Map<string, Role>();
	const serial = ++ctx.markSerial;
	let seen = 0;
	for (const m of owned ?? []) {
		const link = visitBase(ctx, work, m);
		if (!link) continue;
		link.mark = serial;
		const want = sourceMembers.get(m[0]);
		const now = targetMembers.get(m[1]);
		if (community) ctx.communityMove(m[0], 'from', community);
		if (want !== undefined) {
			seen++;
			if (community) ctx.communityMove(m[0], 'to', community);
		}
		if (link.deferred) continue;
		if (want === now) {
			if (want !== m[2]) work.changes.set(link, want ? (draftMember(link, want, m) ?? null) : null);
			continue;
		}
		const targetPerson = refOn(link, 'b') ?? { id: m[1] };
		// A rule's membership is the rule's: the link neither removes it nor changes its role.
		if (now !== undefined && ctx.ruleOwns('b', target, targetPerson)) continue;
		const member = want ? draftMember(link, want, m) : removedMember(m);
		work.ops.push({
			draft: memberOp('b', target, targetPerson, now, want),
			member,
			mover: community === undefined ? undefined : m[0]
		});
		work.changes.set(link, member ?? null);
	}
	if (seen < sourceMembers.size) {
		for (const [pa, want] of sourceMembers) {
			const link = ctx.personLinks.a.get(pa);
			const person = link && refOn(link, 'b');
			if (!link || !person || link.mark === serial) continue;
			link.mark = serial;
			if (community) ctx.communityMove(pa, 'to', community);
			if (link.deferred) continue;
			const now = link.bId === undefined ? undefined : targetMembers.get(link.bId);
			// Already there on its own (any role): a manual membership, which stays the target's business.
			if (now !== undefined) continue;
			const member = draftMember(link, want);
			work.ops.push({
				draft: memberOp('b', target, person, undefined, want),
				member,
				mover: community === undefined ? undefined : pa
			});
			work.changes.set(link, member ?? null);
		}
	}
	return work;
}

function emit(ctx: ReconcileContext, work: MemberWork): string[] {
	const keys: string[] = [];
	for (const op of work.ops) {
		const key = ctx.builder.add(op.draft);
		if (op.member) op.member.opKey = key;
		if (op.mover !== undefined) ctx.moveOp(op.mover, key);
		keys.push(key);
	}
	return keys;
}

/** The group's members after the plan: the baseline's, with this plan's changes. */
function mergedMembers(
	base: readonly BaselineMember[] | undefined,
	work: MemberWork
): (DraftMember | BaselineMember)[] {
	const out: (DraftMember | BaselineMember)[] = [];
	base?.forEach((m, i) => {
		const link = work.links[i];
		if (link && !work.changes.has(link)) out.push(m);
	});
	for (const change of work.changes.values()) if (change) out.push(change);
	return out;
}

function settlePair(ctx: ReconcileContext, pair: GroupPairWork, syncMembers: boolean): void {
	const { a, b, entry } = pair;
	const work = !syncMembers
		? newWork()
		: ctx.provision
			? diffProvision(ctx, a.id, { id: b.id }, entry?.members, a.kind === 'community' ? a.name : undefined)
			: diffTwoWay(ctx, pair);
	const conflicts = [...pair.fieldConflicts, ...work.conflicts];
	if (conflicts.length > 0) {
		ctx.conflict('group', 'both-changed', [ctx.ref('a', 'group', a), ctx.ref('b', 'group', b)], { fields: conflicts });
		ctx.view({
			kind: 'group',
			a: a.id,
			b: b.id,
			situation: 'conflict',
			fields: conflicts.map((c) => c.field),
			conflictId: pair.conflictId
		});
		if (entry) ctx.keep(entry);
		return;
	}
	if (pair.resolution) ctx.resolutions.applied.add(pair.conflictId);
	const opKeys = [...pair.opKeys, ...pair.fieldOps.map((op) => ctx.builder.add(op))];
	const memberKeys = emit(ctx, work);
	const toSides = new Set<Side>([...pair.fieldOps.map((o) => o.side), ...work.ops.map((o) => o.draft.side)]);
	const changed = [...pair.changed, ...(work.ops.length > 0 ? ['members'] : [])];
	ctx.view({
		kind: 'group',
		a: a.id,
		b: b.id,
		situation: opKeys.length + memberKeys.length > 0 ? 'update' : 'in-sync',
		fields: changed.length > 0 ? changed : undefined,
		to: toSides.size === 2 ? 'both' : toSides.size === 1 ? [...toSides][0] : undefined,
		note: pair.resolution ? 'resolved' : pair.note
	});
	if (entry && opKeys.length === 0 && work.changes.size === 0 && work.stale === 0 && !pair.merged)
		return ctx.keep(entry);
	ctx.drafts.push({
		kind: 'group',
		a: { id: a.id },
		b: { id: b.id },
		origin: entry?.origin ?? (ctx.provision ? 'adopted' : 'matched'),
		fields: pair.merged ?? entry?.fields ?? {},
		members: mergedMembers(entry?.members, work),
		opKeys,
		previous: entry
	});
}

/** Fills a group this plan creates with the members its source group has. */
function fillCreated(
	ctx: ReconcileContext,
	from: Side,
	sourceId: string,
	key: string,
	members: (DraftMember | BaselineMember)[]
): void {
	const to = otherSide(from);
	for (const [personId, role] of membersOf(ctx.sides[from], sourceId)) {
		const link = ctx.personLinks[from].get(personId);
		const member = link && !link.deferred ? draftMember(link, role) : undefined;
		if (!member) continue;
		member.opKey = ctx.builder.add({
			type: 'add-membership',
			side: to,
			step: STEP.memberships,
			group: createdRef(key),
			person: member[to],
			role
		});
		members.push(member);
	}
}

/**
 * Transfer notices: a synced person whose communities changed (not a newcomer) is told. The move
 * is from the communities they were last told of: the entry's `told` when a run moved them without
 * telling them (stopped, or given up, before the notice), else those the baseline holds them in.
 */
function planTransfers(ctx: ReconcileContext): void {
	const owed = owedNotices(ctx);
	const notices = new Map<string, { notice: string; communities: string[] }>();
	const people = owed.size > 0 ? new Set([...ctx.communityMoves.keys(), ...owed.keys()]) : ctx.communityMoves.keys();
	for (const personId of people) {
		const move = ctx.communityMoves.get(personId);
		const told = owed.get(personId);
		const before = told ? new Set(told) : (move?.from ?? new Set<string>());
		const now = move?.to ?? new Set<string>();
		if (before.size === 0) continue;
		const link = ctx.personLinks.a.get(personId);
		const person = link && refOn(link, 'b');
		// In conflict, the person's memberships wait (see diffProvision), and so does the notice.
		if (!person || link.deferred || !ctx.sides.a.people.has(personId)) continue;
		const from = [...before].filter((c) => !now.has(c)).sort();
		const to = [...now].filter((c) => !before.has(c)).sort();
		if (from.length === 0 && to.length === 0) continue;
		const after = [...(ctx.moveOps.get(personId) ?? [])];
		const notice = ctx.builder.add({
			type: 'notify-transfer',
			side: 'b',
			step: STEP.transfers,
			person,
			from,
			to,
			after
		});
		notices.set(personId, { notice, communities: [...before].sort() });
		// The pair itself is otherwise in sync: the move and its notice are what happens to it.
		const view = ctx.personViews.get(personId);
		if (view && view.situation !== 'conflict') {
			view.situation = 'update';
			view.to = view.to === 'a' || view.to === 'both' ? 'both' : 'b';
			view.note ??= 'transfer';
			view.transfer = { from, to };
		}
	}
	if (notices.size > 0) rememberNotices(ctx, notices);
}

/** The source people whose entry holds the communities they were last told of. */
function owedNotices(ctx: ReconcileContext): Map<string, string[]> {
	const owed = new Map<string, string[]>();
	for (const entry of ctx.kept) if (entry.kind === 'person' && entry.told) owed.set(entry.a, entry.told);
	for (const draft of ctx.drafts) {
		const entry = draft.previous;
		if (draft.kind === 'person' && entry?.told) owed.set(entry.a, entry.told);
	}
	return owed;
}

/**
 * Puts each notice on its person's draft, so the entry holds the communities it tells of the move
 * from until it is sent; an entry the plan would keep as it is becomes a draft for that.
 */
function rememberNotices(
	ctx: ReconcileContext,
	notices: ReadonlyMap<string, { notice: string; communities: string[] }>
): void {
	for (const draft of ctx.drafts) {
		const notice = draft.kind === 'person' && 'id' in draft.a ? notices.get(draft.a.id) : undefined;
		if (notice) draft.told = notice;
	}
	// Kept as it is, so not in conflict and with no invitation pending (that would be planned).
	ctx.redraftKept((entry) => {
		const notice = entry.kind === 'person' ? notices.get(entry.a) : undefined;
		return notice ? { told: notice } : undefined;
	});
}

export function settleGroups(ctx: ReconcileContext): void {
	const syncMembers = ctx.link.kinds.includes('person') && ctx.link.kinds.includes('group');
	for (const pair of ctx.groupPairs) settlePair(ctx, pair, syncMembers);
	if (!syncMembers) return;
	for (const created of ctx.createdGroups) {
		const members: (DraftMember | BaselineMember)[] = [];
		if (ctx.provision) {
			const work = diffProvision(
				ctx,
				created.source.id,
				createdRef(created.key),
				undefined,
				created.source.kind === 'community' ? created.source.name : undefined
			);
			emit(ctx, work);
			members.push(...mergedMembers(undefined, work));
		} else {
			fillCreated(ctx, created.from, created.source.id, created.key, members);
		}
		created.draft.members = members;
	}
	if (ctx.provision) planTransfers(ctx);
}
