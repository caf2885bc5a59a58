/**
 * What the reconcile Web Worker does, exposed through comlink (reconcile.worker.ts is only the
 * expose line, so this module stays importable by Node tests). The worker fetches and parses the
 * large answers (snapshots, plans), writes them to IndexedDB and reconciles: the page only ever
 * receives counts and the rows on screen, so its main thread never blocks on 100k records.
 *
 * Which plan is shown: the edge's reconciliation is the truth whenever it is fresh. While
 * resolutions wait in the outbox (typed offline, or not yet reconciled by the edge), the worker
 * re-reconciles locally with the core's own `reconcile`: the stored snapshots, the baseline the
 * edge's plan was computed against (recovered from that plan), and the edge's accepted resolutions
 * overlaid with the outbox. That local preview stands in front of the edge's plan until the next
 * Reload, so a resolution's effect shows at once, online or not.
 */
import {
	reconcile,
	type Person,
	type Group,
	type LinkConfig,
	type PlanCounts,
	type Reconciliation,
	type Resolution,
	type SituationCounts,
	type StaleResolution,
	type Snapshot,
	type WritableFields,
	type RecordKind,
	PERSON_FIELDS
} from '$lib/core';
import { ApiError, createApi, type Auth } from '$lib/api/client';
import type { LinkView } from '$lib/api/types';
import {
	currentPlan,
	getDb,
	loadSnapshot,
	markStale,
	recall,
	remember,
	saveAcceptedResolutions,
	saveEdgePlan,
	saveLocalPlan,
	saveSnapshot,
	type PlanSource,
	type RostersyncDb,
	type StoredPlan
} from '$lib/db';
import './errors';
import { indexRecords, ReviewModel, type PairDetail, type ReviewFilter, type ReviewRow } from './review';
import { AnswerIndex, answersOf, withNames, type Answer } from './answers';

export interface SnapshotInfo {
	system: string;
	takenAt: string;
	version: string;
	people: number;
	groups: number;
	memberships: number;
}

export interface ReviewSummary {
	linkId: string;
	source: PlanSource;
	at: string;
	versions: { a: string; b: string };
	counts: SituationCounts;
	requiresAction: number;
	planCounts: PlanCounts;
	stale: StaleResolution[];
	applied: string[];
	untouched: { person: number; group: number };
	/** The person fields the link writes, and those left out because a system lacks them. */
	fields: WritableFields;
	snapshots: { a?: SnapshotInfo; b?: SnapshotInfo };
	/** Rows in the list (pairs plus staged-deletion rows). */
	rows: number;
}

/** Fields a system's people carry: standard ones present in its snapshot, and custom field names. */
export interface SystemFields {
	system: string;
	takenAt: string;
	people: number;
	standard: string[];
	custom: string[];
}

export const linkCacheKey = (linkId: string) => `link:${linkId}`;

let database: RostersyncDb | undefined;
const db = () => (database ??= getDb());
const models = new Map<
	string,
	{ at: string; source: PlanSource; model: ReviewModel; snapshots: { a?: SnapshotInfo; b?: SnapshotInfo } }
>();

/** Each link's answers as of the last query: rows and details carry theirs. */
const answerIndexes = new Map<string, AnswerIndex>();

/** Tests point the worker's functions at their own database (fake-indexeddb). */
export function useDatabase(next: RostersyncDb): void {
	database = next;
	models.clear();
	answerIndexes.clear();
}

/** Every answer of the link (outbox and accepted), judged against the plan on screen, with names. */
async function answersNow(linkId: string, m: ReviewModel): Promise<AnswerIndex> {
	const [outbox, accepted] = await Promise.all([
		db().outbox.where('linkId').equals(linkId).toArray(),
		db().resolutions.where('linkId').equals(linkId).toArray()
	]);
	const source = models.get(linkId)?.source ?? 'edge';
	const r = m.reconciliation;
	const name = (side: 'a' | 'b', kind: RecordKind, id: string) => {
		const records = side === 'a' ? m.a : m.b;
		return kind === 'person' ? records.people.get(id)?.displayName : records.groups.get(id)?.name;
	};
	const answers = answersOf(
		outbox,
		accepted.map((x) => x.resolution),
		{ source, applied: r.applied, stale: r.stale }
	).map((x) => withNames(x, name));
	const index = new AnswerIndex(answers);
	answerIndexes.set(linkId, index);
	return index;
}

const withAnswer = <T extends ReviewRow>(row: T, answer: Answer | undefined): T => (answer ? { ...row, answer } : row);

/**
 * Answers this device sent and the edge accepted after its stored plan was pulled, whose conflict
 * that plan still shows: until the edge's next plan is pulled, the local preview shows their
 * effect rather than the conflict they answered.
 */
async function unreflected(linkId: string): Promise<number> {
	const stored = await db().plans.get([linkId, 'edge']);
	if (!stored) return 0;
	const open = new Set(stored.reconciliation.conflicts.map((c) => c.id));
	for (const s of stored.reconciliation.stale) open.delete(s.resolution.conflictId);
	return db()
		.resolutions.where('linkId')
		.equals(linkId)
		.filter((r) => r.acceptedAt !== undefined && r.acceptedAt >= stored.at && open.has(r.conflictId))
		.count();
}

/**
 * The link's review model. This worker writes every plan it shows, so the one in memory is
 * current; `verify` re-reads IndexedDB (on opening a review: another tab may have written since).
 */
async function model(linkId: string, verify = false): Promise<ReviewModel | undefined> {
	const cached = models.get(linkId);
	if (cached && !verify) return cached.model;
	const stored = await currentPlan(db(), linkId);
	if (!stored) {
		models.delete(linkId);
		return undefined;
	}
	if (cached && cached.at === stored.at && cached.source === stored.source) return cached.model;
	const [a, b] = await Promise.all([loadSnapshot(db(), linkId, 'a'), loadSnapshot(db(), linkId, 'b')]);
	return keep(stored, a, b);
}

const infoOf = (s: Snapshot | undefined): SnapshotInfo | undefined =>
	s && {
		system: s.system,
		takenAt: s.takenAt,
		version: s.version,
		people: s.people.length,
		groups: s.groups.length,
		memberships: s.memberships.length
	};

/** Builds the review model from data already in memory (no read back from IndexedDB). */
function keep(stored: StoredPlan, a: Snapshot | undefined, b: Snapshot | undefined): ReviewModel {
	const m = new ReviewModel(stored.reconciliation, indexRecords(a), indexRecords(b));
	models.set(stored.linkId, {
		at: stored.at,
		source: stored.source,
		model: m,
		snapshots: { a: infoOf(a), b: infoOf(b) }
	});
	return m;
}

async function storeSnapshots(linkId: string, snaps: { a: Snapshot; b: Snapshot }): Promise<void> {
	// One side at a time: each is one IndexedDB transaction.
	await saveSnapshot(db(), linkId, 'a', snaps.a);
	await saveSnapshot(db(), linkId, 'b', snaps.b);
}

async function pendingResolutions(linkId: string): Promise<Resolution[]> {
	const accepted = await db().resolutions.where('linkId').equals(linkId).toArray();
	const outbox = await db().outbox.where('linkId').equals(linkId).toArray();
	const byConflict = new Map<string, Resolution>();
	for (const r of accepted) byConflict.set(r.conflictId, r.resolution);
	for (const e of outbox) if (e.state === 'pending') byConflict.set(e.conflictId, e.resolution);
	return [...byConflict.values()];
}

/** Where the ETag of the edge's plan this device keeps is remembered. */
const planTagKey = (linkId: string) => `plan-etag:${linkId}`;

/**
 * Keeps the edge's plan with what it was made from: both snapshots, accepted resolutions, the
 * link; `etag` names that plan (its snapshots change with it) for the next pull.
 */
async function adoptEdgePlan(
	edge: ReturnType<typeof createApi>,
	linkId: string,
	reconciliation: Reconciliation,
	etag?: string
): Promise<void> {
	await db().cache.delete(planTagKey(linkId));
	const [snapshots] = await Promise.all([edge.snapshots(linkId), refreshAroundPlan(edge, linkId)]);
	await storeSnapshots(linkId, snapshots);
	keep(await saveEdgePlan(db(), reconciliation), snapshots.a, snapshots.b);
	if (etag) await remember(db(), planTagKey(linkId), etag);
}

/** What goes with the edge's plan besides its snapshots: the link and the accepted resolutions. */
async function refreshAroundPlan(edge: ReturnType<typeof createApi>, linkId: string): Promise<void> {
	const [resolutions, link] = await Promise.all([edge.resolutions(linkId), edge.link(linkId)]);
	await remember(db(), linkCacheKey(linkId), link);
	await saveAcceptedResolutions(db(), linkId, resolutions);
}

export const api = {
	/**
	 * Reload: the edge reconciles from fresh snapshots and its stored resolutions; this browser
	 * keeps that plan, both snapshots and the accepted resolutions. Pending outbox entries are
	 * previewed on top. Send the outbox first so the edge reconciles with them.
	 */
	async reload(linkId: string, auth: Auth): Promise<ReviewSummary> {
		const edge = createApi({ auth: () => auth });
		const reconciliation = await edge.reconcile(linkId);
		await adoptEdgePlan(edge, linkId, reconciliation);
		return (await api.previewIfPending(linkId, false)) ?? (await api.summary(linkId))!;
	},

	/**
	 * First open: the edge's current plan without recomputing it (viewers may not reconcile).
	 * Returns undefined when the link has no plan yet.
	 */
	async pull(linkId: string, auth: Auth): Promise<ReviewSummary | undefined> {
		const edge = createApi({ auth: () => auth });
		// The plan this device holds is named to the edge, which sends nothing when it is current
		// (a 10k-person plan and its snapshots are megabytes on a phone's connection).
		const held = (await db().plans.get([linkId, 'edge']))
			? (await recall<string>(db(), planTagKey(linkId)))?.value
			: undefined;
		let answer;
		try {
			answer = await edge.planIfChanged(linkId, held);
		} catch (e) {
			if (e instanceof ApiError && e.status === 404) return undefined;
			throw e;
		}
		if (answer) await adoptEdgePlan(edge, linkId, answer.value, answer.etag);
		else await refreshAroundPlan(edge, linkId);
		return (await api.previewIfPending(linkId, false)) ?? (await api.summary(linkId))!;
	},

	/** Re-reconciles locally when resolutions wait in the outbox; otherwise shows the edge's plan. */
	async previewIfPending(linkId: string, verify = true): Promise<ReviewSummary | undefined> {
		const pending = await db()
			.outbox.where('linkId')
			.equals(linkId)
			.filter((e) => e.state === 'pending')
			.count();
		if (pending > 0 || (await unreflected(linkId)) > 0) return api.preview(linkId);
		if (models.get(linkId)?.source === 'local' || (await db().plans.get([linkId, 'local']))) {
			await db().plans.delete([linkId, 'local']);
			models.delete(linkId);
			verify = true;
		}
		return api.summary(linkId, verify);
	},

	/** The core's reconcile over what this browser stored: works offline. */
	async preview(linkId: string): Promise<ReviewSummary | undefined> {
		const link = (await recall<LinkView>(db(), linkCacheKey(linkId)))?.value.config as LinkConfig | undefined;
		const [a, b] = await Promise.all([loadSnapshot(db(), linkId, 'a'), loadSnapshot(db(), linkId, 'b')]);
		if (!link || !a || !b) return api.summary(linkId);
		const baseline = { linkId, entries: (await db().baselines.get(linkId))?.entries ?? [] };
		const reconciliation = reconcile({
			link,
			a,
			b,
			baseline,
			resolutions: await pendingResolutions(linkId),
			now: Date.now()
		});
		keep(await saveLocalPlan(db(), reconciliation), a, b);
		await markStale(db(), linkId, reconciliation.stale);
		return api.summary(linkId);
	},

	async summary(linkId: string, verify = false): Promise<ReviewSummary | undefined> {
		const m = await model(linkId, verify);
		const held = models.get(linkId);
		if (!m || !held) return undefined;
		const r = m.reconciliation;
		return {
			linkId,
			source: held.source,
			at: held.at,
			versions: r.versions,
			counts: r.counts,
			requiresAction: r.requiresAction,
			planCounts: r.plan.counts,
			stale: r.stale,
			applied: r.applied,
			untouched: r.untouched,
			fields: r.fields,
			snapshots: held.snapshots,
			rows: m.rows.length
		};
	},

	/** Filters the list; returns how many rows match. */
	async query(linkId: string, filter: ReviewFilter): Promise<number> {
		const m = await model(linkId);
		if (!m) return 0;
		await answersNow(linkId, m);
		return m.query(filter);
	},

	async rows(linkId: string, start: number, count: number): Promise<ReviewRow[]> {
		const m = await model(linkId);
		if (!m) return [];
		const answers = answerIndexes.get(linkId) ?? (await answersNow(linkId, m));
		return m.slice(start, count).map((row) => withAnswer(row, answers.forPair(row)));
	},

	async detail(linkId: string, i: number): Promise<PairDetail | undefined> {
		const m = await model(linkId);
		const detail = m?.detail(i);
		if (!m || !detail) return undefined;
		const answers = await answersNow(linkId, m);
		const answer = answers.forPair(detail.row);
		return answer ? { ...detail, row: withAnswer(detail.row, answer), answer } : detail;
	},

	/** Every answer of the link and where it stands (the outbox list, tests). */
	async answers(linkId: string): Promise<Answer[]> {
		const m = await model(linkId);
		return m ? (await answersNow(linkId, m)).answers.slice() : [];
	},

	async rowOfConflict(linkId: string, conflictId: string): Promise<number | undefined> {
		return (await model(linkId))?.rowOfConflict(conflictId);
	},

	async rowOfRecords(
		linkId: string,
		kind: RecordKind,
		aId: string | undefined,
		bId: string | undefined
	): Promise<number | undefined> {
		return (await model(linkId))?.rowOfRecords(kind, aId, bId);
	},

	async search(linkId: string, side: 'a' | 'b', kind: RecordKind, text: string): Promise<(Person | Group)[]> {
		return (await model(linkId))?.search(side, kind, text) ?? [];
	},

	/** Reads a system's snapshot through the edge and lists the person fields it carries. */
	async systemFields(systemId: string, auth: Auth): Promise<SystemFields> {
		const snapshot = await createApi({ auth: () => auth }).systemSnapshot(systemId);
		return fieldsOf(snapshot);
	},

	/** Saves a snapshot through the app's own store (the benchmark measures this path). */
	async saveSnapshot(linkId: string, side: 'a' | 'b', snapshot: Snapshot): Promise<void> {
		await saveSnapshot(db(), linkId, side, snapshot);
	}
};

export type ReconcileApi = typeof api;

/** Standard person fields present in a snapshot (matchable ones first) and its custom field names. */
export function fieldsOf(snapshot: Snapshot): SystemFields {
	const standard = new Set<string>();
	const custom = new Set<string>();
	for (const p of snapshot.people) {
		if (p.externalId) standard.add('externalId');
		for (const f of PERSON_FIELDS) {
			const v = p[f];
			if (v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0)) standard.add(f);
		}
		if (p.custom) for (const k of Object.keys(p.custom)) custom.add(k);
	}
	const order = ['externalId', ...PERSON_FIELDS];
	return {
		system: snapshot.system,
		takenAt: snapshot.takenAt,
		people: snapshot.people.length,
		standard: order.filter((f) => standard.has(f)),
		custom: [...custom].sort()
	};
}
