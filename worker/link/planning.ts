/**
 * Reading both systems and reconciling them with the stored baseline and resolutions: the one
 * path behind the reconcile route, enabling, re-checking resolutions and every run.
 *
 * Both snapshots are scanned page by page into the link's SQLite, then reconciled in parts (the
 * core's parts.ts): each part's people, their memberships and every group are read back, reconciled
 * with the core's own `reconcile`, and its answer is written to the plan's rows before the next
 * part is read. So a 100k-person link fits the Worker's 128 MB.
 */
import { accessField } from '../connectors/scim-access';
import {
	assertCounts,
	type BaselineMember,
	PartitionIndex,
	PartMerger,
	partCount,
	reconcile,
	ReconcileError,
	resolutionsByPart,
	type LinkConfig,
	type Collision,
	type Resolution,
	shrinkage,
	type Shrinkage,
	type Side,
	type SideCounts,
	type SituationCounts,
	type Snapshot,
	type StaleResolution
} from '$lib/core';
import type { RuleOwned } from '$lib/core';
import type { Connector } from '../connectors/types';
import { ConnectorError } from '../connectors/types';
import type { PlanMeta } from './plan-store';
import type { LinkStore } from './store';
import type { SideInfo } from './snapshots';
import type { RunError, StagedDeletes } from './types';
import type { PlanSummary } from '$lib/api/link-change';

export { thresholdKind } from './plan-store';

/** A system could not be read, or what it returned cannot be reconciled (an empty source). */
export class SourceError extends Error {
	constructor(
		readonly detail: RunError,
		options?: { cause?: unknown }
	) {
		super(detail.message, options);
		this.name = 'SourceError';
	}
}

export interface PlanningDeps {
	store: LinkStore;
	config: LinkConfig;
	connector(systemId: string): Promise<Connector>;
	now(): number;
	/** People per part (default PEOPLE_PER_PART). */
	peoplePerPart?: number;
	/**
	 * Memberships the systems' auto-membership rules own: the plan never removes them nor changes
	 * their role, so a link never fights a rule.
	 */
	ruleOwned?(): Promise<RuleOwned>;
}

/**
 * About 5,000 people per part keeps a part's records, indexes and answer to a few MB, while the
 * parts' fixed cost (every group, read again per part) stays small next to the people.
 */
export const PEOPLE_PER_PART = 5000;

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Rows written per transaction when a connector can only read whole (a CSV export). */
const WHOLE_READ_SLICE = 5000;

/**
 * Both systems, scanned into the link's SQLite at once. Any failure is a SourceError naming the
 * system; the other side's scan is stopped and waited for first, so nothing writes after it.
 */
async function scanBoth(deps: PlanningDeps, index: PartitionIndex): Promise<Record<Side, SideInfo>> {
	const stop = new AbortController();
	// The side that failed first: the other one's failure is then only our own abort.
	let first: Side | undefined;
	const scan = async (side: Side): Promise<SideInfo> => {
		const system = deps.config.systems[side];
		try {
			const connector = await deps.connector(system);
			const writer = deps.store.snapshots.writer(side, system, index);
			let takenAt: string;
			if (connector.scan) takenAt = (await connector.scan(writer, stop.signal)).takenAt;
			else {
				const snap: Snapshot = await connector.read(stop.signal);
				for (let i = 0; i < snap.people.length; i += WHOLE_READ_SLICE)
					writer.people(snap.people.slice(i, i + WHOLE_READ_SLICE));
				writer.groups(snap.groups, []);
				for (let i = 0; i < snap.memberships.length; i += WHOLE_READ_SLICE)
					writer.groups([], snap.memberships.slice(i, i + WHOLE_READ_SLICE));
				takenAt = snap.takenAt;
			}
			// Discovered by the read: what this system holds decides which fields the plan may carry.
			const caps = connector.capabilities();
			const access = accessField(caps.access);
			return writer.finish(takenAt, [
				...caps.personFields,
				...caps.customFields.map((name) => `custom:${name}`),
				...(access ? [access] : [])
			]);
		} catch (e) {
			first ??= side;
			stop.abort();
			const what = e instanceof ConnectorError ? `${e.code}: ${e.message}` : message(e);
			throw new SourceError(
				{
					code: 'source-failed',
					system,
					message: `System ${system} could not be read (${what}); nothing was written.`
				},
				{ cause: e }
			);
		}
	};
	const [a, b] = await Promise.allSettled([scan('a'), scan('b')]);
	const failed = {
		a: a.status === 'rejected' ? a.reason : undefined,
		b: b.status === 'rejected' ? b.reason : undefined
	};
	if (first) throw failed[first];
	return { a: (a as PromiseFulfilledResult<SideInfo>).value, b: (b as PromiseFulfilledResult<SideInfo>).value };
}

const asSourceError = (deps: PlanningDeps, e: unknown): unknown => {
	if (!(e instanceof ReconcileError)) return e;
	const system = e.code === 'empty-source' ? deps.config.systems.a : undefined;
	return new SourceError(
		{
			code: e.code === 'invalid-input' ? 'invalid' : 'source-failed',
			message: e.message,
			...(system ? { system } : {})
		},
		{ cause: e }
	);
};

export interface PlannedLink {
	meta: PlanMeta;
	/** Resolutions whose records changed since they were made (not applied). */
	stale: StaleResolution[];
}

/**
 * Reads both systems, reconciles them part by part with the baseline and `resolutions`, and
 * stores the answer as the link's current plan. An unreadable or empty side is a SourceError,
 * thrown before anything of the plan is written.
 */
export function planLink(
	deps: PlanningDeps,
	options: {
		resolutions?: readonly Resolution[];
		/** The plan is for a real run: its counts become the guard's reference. */
		accept?: boolean;
		then?: (planned: PlannedLink) => void;
	} = {}
): Promise<PlannedLink> {
	return deps.store.exclusive(async () => {
		const planned = await planNow(deps, options.resolutions ?? deps.store.resolutions(), options.accept ?? false);
		// Still under the lock: what `then` reads (the plan's rows) is this plan's.
		options.then?.(planned);
		return planned;
	});
}

/**
 * A change of settings previewed: the plan under `candidate` and then, from a second read, the
 * plan under the current settings again, which stays the link's current plan (as a Reload would
 * leave it). Both summaries, or why the changed settings could not be planned (a system could not
 * be read, the pre-flight guard refused the counts under the changed limits). A failure of the
 * second plan is thrown, as a Reload's would be.
 */
export function previewPlans(
	deps: PlanningDeps,
	candidate: LinkConfig
): Promise<{ before: PlanSummary; after?: PlanSummary; afterError?: RunError }> {
	return deps.store.exclusive(async () => {
		const resolutions = deps.store.resolutions();
		let after: PlanSummary | undefined;
		let afterError: RunError | undefined;
		try {
			await planNow({ ...deps, config: candidate }, resolutions, false);
			after = planSummary(deps.store);
		} catch (e) {
			if (!(e instanceof SourceError)) throw e;
			afterError = e.detail;
		}
		await planNow(deps, resolutions, false);
		return { before: planSummary(deps.store), ...(after ? { after } : {}), ...(afterError ? { afterError } : {}) };
	});
}

/** The current plan in numbers (see PlanSummary). */
function planSummary(store: LinkStore): PlanSummary {
	const meta = store.planMeta()!;
	const head = store.getMeta<{ counts: SituationCounts }>('plan-head')!;
	return { counts: head.counts, plan: meta.counts, requiresAction: requiresAction(store, meta), staged: meta.staged };
}

/** The last reconciliation's read failed (see ReadFailure); cleared by the next good read. */
export const READ_FAILURE = 'read-failure';

/** Why the latest read of the link's systems failed, and when: the review shows it beside the last good plan. */
export type ReadFailure = RunError & { at: string };

/** The counts the pre-flight guard compares with: the last real run's, or what an owner confirmed. */
export const ACCEPTED_COUNTS = 'accepted-counts';
/** Counts the guard refused, waiting for an owner to confirm them (see confirmCounts). */
export const SHRUNK_COUNTS = 'shrunk-counts';

export interface ShrunkCounts {
	counts: Record<Side, SideCounts>;
	fell: Shrinkage[];
}

const countsOnly = (info: Record<Side, SideInfo>): Record<Side, SideCounts> => {
	const only = (s: SideInfo): SideCounts => ({
		system: s.system,
		people: s.people,
		groups: s.groups,
		memberships: s.memberships
	});
	return { a: only(info.a), b: only(info.b) };
};

const KIND_WORDS = { person: 'people', group: 'groups', membership: 'memberships' } as const;

/**
 * The pre-flight guard (the core's shrinkage): a side that lost more than the link's limit since
 * the last run fails the run before any write, naming the counts, until an owner confirms them.
 * A plan made for a real run makes its counts the new reference.
 */
function guardCounts(store: LinkStore, config: LinkConfig, info: Record<Side, SideInfo>, accept: boolean): void {
	const fell = shrinkage(config, store.getMeta<Record<Side, SideCounts>>(ACCEPTED_COUNTS), info);
	if (fell.length > 0) {
		store.setMeta(SHRUNK_COUNTS, { counts: countsOnly(info), fell } satisfies ShrunkCounts);
		const what = fell
			.map((f) => `${f.system} has ${f.after} ${KIND_WORDS[f.kind]} where it had ${f.before}`)
			.join('; ');
		throw new SourceError({
			code: 'shrunk',
			message: `Fewer records than the link's limit allows since the last run: ${what}. Nothing was written; an owner confirms these counts if they are right.`,
			shrunk: fell
		});
	}
	store.setMeta(SHRUNK_COUNTS, undefined);
	if (accept) store.setMeta(ACCEPTED_COUNTS, countsOnly(info));
}

/** An owner confirms the counts the guard refused: they become the reference. False: nothing waits. */
export function confirmCounts(store: LinkStore): boolean {
	const waiting = store.getMeta<ShrunkCounts>(SHRUNK_COUNTS);
	if (!waiting) return false;
	store.setMeta(ACCEPTED_COUNTS, waiting.counts);
	store.setMeta(SHRUNK_COUNTS, undefined);
	return true;
}

/** Creates a system refused because a record there holds a unique value (see the core's Collision). */
const COLLISIONS = 'collisions';
/** Kept at most: a collision is one person waiting for an answer, and they are few. */
const MAX_COLLISIONS = 5000;

/** Records a refused create, so the next reconciliation shows a conflict instead of retrying it. */
export function noteCollision(store: LinkStore, collision: Collision): void {
	const list = (store.getMeta<Collision[]>(COLLISIONS) ?? []).filter(
		(c) => !(c.side === collision.side && c.source === collision.source)
	);
	list.push(collision);
	store.setMeta(COLLISIONS, list.slice(-MAX_COLLISIONS));
}

/**
 * The collisions that still stand: their person is still in the source's snapshot and not yet
 * paired. Those that no longer stand are forgotten, so a person who comes back is created afresh.
 */
function liveCollisions(store: LinkStore): Collision[] {
	const list = store.getMeta<Collision[]>(COLLISIONS) ?? [];
	if (list.length === 0) return list;
	const live = list.filter((c) => {
		const from = c.side === 'a' ? 'b' : 'a';
		return store.snapshots.has(from, c.source) && !store.baseline.pairs(from, c.source);
	});
	if (live.length !== list.length) store.setMeta(COLLISIONS, live);
	return live;
}

/** Lets the isolate breathe between steps: progress requests are answered, no task runs for long. */
const yieldToEvents = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

async function planNow(deps: PlanningDeps, resolutions: readonly Resolution[], accept: boolean): Promise<PlannedLink> {
	const { store, config } = deps;
	const index = new PartitionIndex(config);
	let info: Record<Side, SideInfo>;
	try {
		info = await scanBoth(deps, index);
		try {
			assertCounts(config, info, store.baseline.had());
		} catch (e) {
			throw asSourceError(deps, e);
		}
		guardCounts(store, config, info, accept);
	} catch (e) {
		// The last good reads stay current, and with them the plan made from them: the review
		// keeps showing both, with a note saying what could not be read and when.
		store.snapshots.discard();
		if (e instanceof SourceError && e.detail.code !== 'shrunk')
			store.setMeta(READ_FAILURE, { at: new Date(deps.now()).toISOString(), ...e.detail } satisfies ReadFailure);
		throw e;
	}
	store.snapshots.promote();
	store.setMeta(READ_FAILURE, undefined);
	// The tables hold another read now: until this plan is made they match none.
	store.setMeta('snapshots', undefined);
	for (const { a, b } of store.baseline.personPairs()) index.pair(a, b);
	for (const r of resolutions) if (r.link) index.pair(r.link.a, r.link.b);
	await yieldToEvents();

	const count = partCount(Math.max(info.a.people, info.b.people), deps.peoplePerPart ?? PEOPLE_PER_PART);
	store.snapshots.assignParts('a', (id) => index.partOf('a', id, count));
	await yieldToEvents();
	store.snapshots.assignParts('b', (id) => index.partOf('b', id, count));
	await yieldToEvents();
	store.baseline.assignParts((a) => index.partOf('a', a, count));
	await yieldToEvents();

	store.plan.begin();
	try {
		return await planParts(deps, resolutions, index, info, count);
	} catch (e) {
		// Half a plan is no plan: the link shows none until the next reconciliation.
		store.plan.begin();
		throw e;
	}
}

async function planParts(
	deps: PlanningDeps,
	resolutions: readonly Resolution[],
	index: PartitionIndex,
	info: Record<Side, SideInfo>,
	count: number
): Promise<PlannedLink> {
	const { store, config } = deps;
	const memberPart = (m: BaselineMember) => index.memberPart(m, count);
	const merger = new PartMerger(config, resolutions, store.baseline.ownedCounts(), store.plan);
	const groups = { a: store.snapshots.groups('a'), b: store.snapshots.groups('b') };
	const snapshot = (side: Side, part: number): Snapshot => ({
		system: info[side].system,
		takenAt: info[side].takenAt,
		version: info[side].version,
		people: store.snapshots.people(side, part),
		groups: groups[side],
		memberships: store.snapshots.memberships(side, part),
		...(info[side].fields ? { fields: info[side].fields } : {})
	});
	const createdElsewhere = new Set<string>();
	const byPart = resolutionsByPart(resolutions, index, count);
	// One instant for every part: removals of one reconciliation carry the same time.
	const now = deps.now();
	const collisions = liveCollisions(store);
	const ruleOwned = (await deps.ruleOwned?.()) ?? {};
	for (let part = 0; part < count; part++) {
		// A part is read, reconciled and written in separate tasks, so a request waits for at most
		// one of them, never for the whole part (5,000 people: most of a second on a loaded isolate).
		const a = snapshot('a', part);
		await yieldToEvents();
		const b = snapshot('b', part);
		const entries = store.baseline.ofPart(part, memberPart);
		await yieldToEvents();
		let rec;
		try {
			rec = reconcile({
				link: config,
				a,
				b,
				baseline: { linkId: config.id, entries },
				resolutions: byPart[part],
				now,
				part: { createdElsewhere },
				collisions,
				ruleOwned
			});
		} catch (e) {
			throw asSourceError(deps, e);
		}
		await yieldToEvents();
		store.transaction(() => {
			merger.add(part, rec);
			store.plan.flush();
		});
		await yieldToEvents();
	}
	const merged = store.transaction(() => {
		const m = merger.finish();
		store.plan.flush();
		return m;
	});
	const meta = store.plan.finish(merged, memberPart, now);
	store.setMeta('snapshots', info);
	return { meta, stale: merged.stale };
}

/**
 * Conflicts still needing a person: threshold conflicts the owner approved or rejected are settled
 * at once (their id names exactly the removals decided on); the others wait for the next reconcile.
 */
export function requiresAction(store: LinkStore, meta: PlanMeta): number {
	let decided = 0;
	for (const id of meta.thresholds) if (thresholdDecision(store, id)) decided++;
	return Math.max(0, meta.requiresAction - decided);
}

/** An owner's decision on a threshold conflict: approve-deletes/-creates, or reject (stored as ignore). */
export function thresholdDecision(store: LinkStore, id: string): StagedDeletes['decision'] {
	const r = store.resolution(id);
	if (r?.choice === 'approve-deletes' || r?.choice === 'approve-creates') return 'approved';
	if (r?.choice === 'ignore') return 'rejected';
	return undefined;
}
