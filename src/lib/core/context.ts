/** The working state of one reconciliation, shared by the people, group and membership steps. */
import { fnv1a, recordVersion } from './digest';
import { groupFieldSpecs, personFieldSpecs, type FieldSpec, type WritableFields } from './fields';
import type { LifecycleContext } from './lifecycle';
import type {
	BaselineEntry,
	Collision,
	Conflict,
	ConflictReason,
	FieldValues,
	Group,
	LinkConfig,
	Person,
	RecordKind,
	RecordRef,
	Resolution,
	Role,
	Side,
	Situation
} from './model';
import type { FieldConflict } from './diff';
import type { TargetRef } from './ops';
import { PlanBuilder, type DraftEntry, type OpDraft } from './plan';
import type { PreparedResolutions } from './resolutions';
import type { SideIndex } from './side-index';

/**
 * Memberships auto-membership rules added and still own, per side of a link (the rules' journals of
 * that side's system, as plain data). A link never removes them or changes their role: they are the
 * rule's business, and a link that undid them would fight the rule at every snapshot.
 */
export type RuleOwned = Partial<Record<Side, readonly { groupId: string; personId: string }[]>>;

/** Whether a rule owns a membership on a side: a link neither removes it, changes its role, nor undoes it. */
export function ruleOwnership(ruleOwned: RuleOwned): (side: Side, group: TargetRef, person: TargetRef) => boolean {
	const owned: Partial<Record<Side, Set<string>>> = {};
	for (const side of ['a', 'b'] as const)
		if (ruleOwned[side]?.length) owned[side] = new Set(ruleOwned[side].map((m) => `${m.groupId}\u0000${m.personId}`));
	return (side, group, person) =>
		!!owned[side] && 'id' in group && 'id' in person && owned[side].has(`${group.id}\u0000${person.id}`);
}

/** Why a pair stands as it does, beyond its situation, for the preview. */
export const PAIR_NOTES = [
	'first-sync',
	'name-collision',
	'adopt',
	'ignored',
	'restore',
	'anonymize',
	'recreate',
	'staged',
	'resolved',
	'transfer'
] as const;
export type PairNote = (typeof PAIR_NOTES)[number];

export interface PairView {
	kind: RecordKind;
	a?: string;
	b?: string;
	situation: Situation;
	/** Fields that differ (and will be written, unless in conflict). */
	fields?: string[];
	/** The side(s) the plan writes to for this pair. */
	to?: Side | 'both';
	conflictId?: string;
	note?: PairNote;
	/** People: the plan grants or revokes the person's access on the link's access side. */
	access?: 'grant' | 'revoke';
	/**
	 * Provisioning: the person moves between communities (source names), and is sent a transfer
	 * notice once the memberships that make the move are done.
	 */
	transfer?: { from: string[]; to: string[] };
}

/** How a person (or group) on one side is reached on the other, and the key its memberships use. */
export interface PersonLink {
	/** The pair's ids (absent on a side where the record is still to be created). */
	aId?: string;
	bId?: string;
	/** The create operation that makes the record on a side. */
	aNew?: string;
	bNew?: string;
	/** The record is gone on a side: nothing can be written there. */
	aGone?: boolean;
	bGone?: boolean;
	/** In conflict: its memberships wait, and their baseline is carried over as it was. */
	deferred?: boolean;
	/** The operation that removes the person where it survives (gone on the other side). */
	removal?: string;
	/** The record that survives on this side was linked anew (made again on the other side). */
	replacedOn?: Side;
	/** Scratch mark for the membership pass: which group last visited this person. */
	mark: number;
	/**
	 * Scratch for a group read in place (see readInStep in memberships.ts): which group last read
	 * this person's record in each side's list, and the role it found there (undefined: not listed).
	 */
	readA: number;
	roleA: Role | undefined;
	readB: number;
	roleB: Role | undefined;
	/**
	 * The groups a group read in place found the surviving record in, when its removal journals
	 * them (see journalMembers); undefined for every other link.
	 */
	journal: { on: Side; found: { groupId: string; role: Role; place: number }[] } | undefined;
}

export type LinkOptions = Pick<PersonLink, 'aNew' | 'bNew' | 'aGone' | 'bGone' | 'deferred'>;

/** Where a linked person can be written on a side: its id, the create that makes it, or nowhere. */
export function refOn(link: PersonLink, side: Side): TargetRef | undefined {
	const created = side === 'a' ? link.aNew : link.bNew;
	if (created) return { createdBy: created };
	if (side === 'a' ? link.aGone : link.bGone) return undefined;
	const id = side === 'a' ? link.aId : link.bId;
	return id === undefined ? undefined : { id };
}

/** The id of a matched pair's both-changed conflict. */
export const pairConflictId = (kind: RecordKind, a: string, b: string): string =>
	conflictId('both-changed', kind, [
		{ side: 'a', id: a },
		{ side: 'b', id: b }
	]);

/** A membership's key in conflicts: the pair's ids. */
export const linkKey = (link: Pick<PersonLink, 'aId' | 'bId'>): string => `${link.aId ?? ''}|${link.bId ?? ''}`;

/** A conflict's id: the same while the same records conflict for the same reason. */
export function conflictId(
	reason: ConflictReason,
	kind: RecordKind,
	records: readonly { side: Side; id: string }[]
): string {
	const ids = records
		.map((r) => `${r.side}=${r.id}`)
		.sort()
		.join(',');
	return `${reason}:${kind}:${fnv1a(ids)}${fnv1a(ids, 7)}`;
}

/** A matched group pair, held until its memberships are diffed: both decide its situation. */
export interface GroupPairWork {
	a: Group;
	b: Group;
	entry?: BaselineEntry;
	conflictId: string;
	resolution?: Resolution;
	fieldConflicts: FieldConflict[];
	changed: string[];
	merged?: FieldValues;
	fieldOps: OpDraft[];
	opKeys: string[];
	note?: PairNote;
}

/** A group this plan creates on side `to`, to be filled with the source group's members. */
export interface CreatedGroup {
	source: Group;
	from: Side;
	key: string;
	draft: DraftEntry;
}

export class ReconcileContext {
	readonly groupPairs: GroupPairWork[] = [];
	readonly createdGroups: CreatedGroup[] = [];
	/** Provisioning: communities each source person leaves and joins (by source person id). */
	readonly communityMoves = new Map<string, { from: Set<string>; to: Set<string> }>();
	/** Provisioning: the membership operations of each source person's community move. */
	readonly moveOps = new Map<string, string[]>();
	/** Provisioning: each matched pair's view by source person id, so a transfer can mark it. */
	readonly personViews = new Map<string, PairView>();
	readonly builder: PlanBuilder;
	readonly views: PairView[] = [];
	readonly conflicts: Conflict[] = [];
	readonly drafts: DraftEntry[] = [];
	readonly kept: BaselineEntry[] = [];
	readonly personSpecs: FieldSpec<Person>[];
	readonly groupSpecs: FieldSpec<Group>[];
	readonly provision: boolean;
	/**
	 * Person id on a side to its link (absent: not synced). B's index is built on first use: most
	 * runs never look a person up by its B id (only new members on B and records made on A do),
	 * and at 100k its hundred thousand inserts took about 0.1 s.
	 */
	readonly personLinks: Record<Side, Map<string, PersonLink>>;
	/** The removals whose journal of memberships waits for the groups (see journalMembers). */
	readonly journals: {
		on: Side;
		personId: string;
		link: PersonLink;
		into: { groupId: string; role: Role }[];
	}[] = [];
	/** How many links were made naming a record on each side (see linksOneToOne). */
	#linkedOnA = 0;
	#linkedOnB = 0;
	#oneToOne: boolean | undefined;
	/** Links with a B id, in the order made, while B's index is not built (see personLinks). */
	#linksOnB: PersonLink[] | undefined = [];
	/** Views by removal op key, so safety can mark staged pairs. */
	readonly viewByOp = new Map<string, PairView>();
	/** Incremented per group pair by the membership pass (see PersonLink.mark). */
	markSerial = 0;
	/** Target records provisioning leaves alone because no link created or adopted them. */
	readonly untouched = { person: 0, group: 0 };
	/** Whether a rule owns a membership (see ruleOwnership). */
	readonly ruleOwns: (side: Side, group: TargetRef, person: TargetRef) => boolean;
	/** Creates refused last time, by `side\0source id` (see Collision). */
	readonly collisions = new Map<string, Collision>();

	constructor(
		readonly link: LinkConfig,
		readonly sides: Record<Side, SideIndex>,
		readonly resolutions: PreparedResolutions,
		readonly lifecycle: LifecycleContext,
		readonly baseline: readonly BaselineEntry[],
		/** The link's fields both systems hold (see writableFields). */
		readonly fields: WritableFields,
		createdElsewhere?: Set<string>,
		collisions: readonly Collision[] = [],
		ruleOwned: RuleOwned = {}
	) {
		this.ruleOwns = ruleOwnership(ruleOwned);
		for (const c of collisions) this.collisions.set(`${c.side}\u0000${c.source}`, c);
		this.builder = new PlanBuilder(link.id, createdElsewhere);
		const written = new Set(fields.written);
		this.personSpecs = personFieldSpecs(link).filter((spec) => written.has(spec.key));
		this.groupSpecs = groupFieldSpecs(link);
		this.provision = link.mode === 'provision';
		const byA = new Map<string, PersonLink>();
		let byB: Map<string, PersonLink> | undefined;
		this.personLinks = {
			a: byA,
			get b() {
				return (byB ??= buildIndexOnB());
			}
		};
		const buildIndexOnB = () => {
			const index = new Map<string, PersonLink>();
			// In the order made: a later link for the same record replaces the earlier, as a set would.
			for (const link of this.#linksOnB!) index.set(link.bId!, link);
			this.#linksOnB = undefined;
			return index;
		};
	}

	ref(side: Side, kind: RecordKind, record: Person | Group): RecordRef {
		return { side, kind, id: record.id, version: recordVersion(record) };
	}

	conflict(kind: RecordKind, reason: ConflictReason, records: RecordRef[], extra: Partial<Conflict> = {}): Conflict {
		const conflict: Conflict = { id: conflictId(reason, kind, records), kind, reason, records, ...extra };
		this.conflicts.push(conflict);
		return conflict;
	}

	groupPair(
		a: Group,
		b: Group,
		entry: BaselineEntry | undefined,
		conflictId: string,
		resolution: Resolution | undefined
	): GroupPairWork {
		const work: GroupPairWork = {
			a,
			b,
			entry,
			conflictId,
			resolution,
			fieldConflicts: [],
			changed: [],
			fieldOps: [],
			opKeys: []
		};
		this.groupPairs.push(work);
		return work;
	}

	communityMove(personId: string, dir: 'from' | 'to', community: string): void {
		let move = this.communityMoves.get(personId);
		if (!move) this.communityMoves.set(personId, (move = { from: new Set(), to: new Set() }));
		move[dir].add(community);
	}

	moveOp(personId: string, opKey: string): void {
		const keys = this.moveOps.get(personId);
		if (keys) keys.push(opKey);
		else this.moveOps.set(personId, [opKey]);
	}

	baselineOf(kind: RecordKind): BaselineEntry[] {
		return this.baseline.filter((e) => e.kind === kind);
	}

	/** Links a person across the sides under the pair's ids. */
	linkPerson(ids: { a?: string; b?: string }, options?: LinkOptions): PersonLink {
		// One fixed shape for every link: the membership pass reads them in its hottest loop.
		const link: PersonLink = {
			aId: ids.a,
			bId: ids.b,
			aNew: options?.aNew,
			bNew: options?.bNew,
			aGone: options?.aGone,
			bGone: options?.bGone,
			deferred: options?.deferred,
			removal: undefined,
			replacedOn: undefined,
			mark: 0,
			readA: 0,
			roleA: undefined,
			readB: 0,
			roleB: undefined,
			journal: undefined
		};
		this.#oneToOne = undefined;
		if (ids.a) {
			this.personLinks.a.set(ids.a, link);
			this.#linkedOnA++;
		}
		if (ids.b) {
			this.#linkedOnB++;
			if (this.#linksOnB) this.#linksOnB.push(link);
			else this.personLinks.b.set(ids.b, link);
		}
		return link;
	}

	/**
	 * True when no record is linked twice on a side: each id's link is the only link naming it, on
	 * either side. A record made again on the other side, or a pair linked again in conflict, has
	 * two; reading groups in place (see readInStep in memberships.ts) relies on there being one.
	 */
	linksOneToOne(): boolean {
		return (this.#oneToOne ??=
			this.personLinks.a.size === this.#linkedOnA && this.personLinks.b.size === this.#linkedOnB);
	}

	/**
	 * The memberships a removal journals (for undo): filled once the groups are settled (see
	 * fillJournals), from the groups read in place where they were all read so, else by a walk over
	 * the list for the people removed.
	 */
	journalMembers(on: Side, personId: string, link: PersonLink): { groupId: string; role: Role }[] {
		const into: { groupId: string; role: Role }[] = [];
		link.journal = { on, found: [] };
		this.journals.push({ on, personId, link, into });
		return into;
	}

	/** A baseline entry this plan leaves exactly as it is. */
	keep(entry: BaselineEntry): void {
		this.kept.push(entry);
	}

	/**
	 * Turns each kept entry that `extra` answers for into a draft that keeps the pair as it is but
	 * for what `extra` adds (an access grant, a transfer notice still to be recorded).
	 */
	redraftKept(extra: (entry: BaselineEntry) => Partial<DraftEntry> | undefined): void {
		const kept: BaselineEntry[] = [];
		const drafted: DraftEntry[] = [];
		for (const entry of this.kept) {
			const more = extra(entry);
			if (!more) {
				kept.push(entry);
				continue;
			}
			drafted.push({
				kind: entry.kind,
				a: idRef(entry.a),
				b: idRef(entry.b),
				origin: entry.origin,
				fields: entry.fields,
				lifecycle: entry.lifecycle,
				opKeys: [],
				previous: entry,
				...more
			});
		}
		if (drafted.length === 0) return;
		// Copied back one by one: a spread of a large kept list would overflow the call's arguments.
		this.kept.length = 0;
		for (const entry of kept) this.kept.push(entry);
		for (const draft of drafted) this.drafts.push(draft);
	}

	/** The resolution for a pair's both-changed conflict; nothing is computed when there are none. */
	resolutionFor(kind: RecordKind, a: string, b: string): Resolution | undefined {
		return this.resolutions.byConflict.size > 0
			? this.resolutions.byConflict.get(pairConflictId(kind, a, b))
			: undefined;
	}

	view(v: PairView): PairView {
		this.views.push(v);
		return v;
	}
}

export const idRef = (id: string): TargetRef => ({ id });
export const createdRef = (opKey: string): TargetRef => ({ createdBy: opKey });
export const refId = (ref: TargetRef | undefined): string | undefined => (ref && 'id' in ref ? ref.id : undefined);
