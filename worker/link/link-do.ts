import { DurableObject } from 'cloudflare:workers';
import type { IncidentPayload, IncidentPush, IncidentRecord } from '$lib/core/incidents';
import { IncidentPushes, type Received } from './incidents';
import { recordWriterFor } from '../systems/records';
import {
	countOps,
	isUndoBarrier,
	linkChangeIssues,
	opsDigest,
	parseLinkConfig,
	parseResolutions,
	patchedLink,
	planUndo,
	SIDES,
	scheduleMoved,
	stopRefusal,
	undoRefusal,
	ValidationError,
	type LinkConfig,
	type Op,
	type OpOutcome,
	type Resolution,
	type UndoPlan,
	type Side,
	type StaleResolution
} from '$lib/core';
import { flag, type Env } from '../env';
import type { TaggedAnswer } from '../http';
import { PackedAnswers } from './packed-answers';
import type { Connector } from '../connectors/types';
import { connectorFor } from '../systems/connect';
import { applyRulesAfterLinkRun, ruleOwnedFor } from '../rules/fan-out';
import { applySlice, commitGivenUp, endRun, finishApplied, prepare, type EngineDeps, type SliceLimits } from './engine';
import {
	PEOPLE_PER_PART,
	planLink,
	previewPlans,
	requiresAction,
	SourceError,
	thresholdDecision,
	confirmCounts,
	SHRUNK_COUNTS,
	READ_FAILURE,
	type ReadFailure,
	type ShrunkCounts
} from './planning';
import { arm, ensureAlarm, tick, type ActiveRun, type RunDriverDeps } from './run-driver';
import { nightlyOn } from './schedule';
import { changesPlan, linkChanges } from '$lib/core/link-change';
import { nextDailyRun } from '$lib/core';
import type { LinkChangePreview } from '$lib/api/link-change';
import { collectNames } from '$lib/api/run-names';
import { nameLookup } from './names';
import { runPreview, stagedNames, undoPreview } from './previews';
import { thresholdAction } from './plan-store';
import { noticeList, planRestore, removedPeople } from './provisioning';
import type { NoticeView, RemovedPerson, RunPreview, UndoPreview } from '$lib/api/types';
import { LinkStore, type Notice, type PlanMeta } from './store';
import type { SideInfo } from './snapshots';
import {
	ok,
	refuse,
	type LinkView,
	type Result,
	type RunDetails,
	type RunProgress,
	type RunSummary,
	type StagedDeletes,
	type StartedBy
} from './types';

/** What the link's Durable Object takes from outside: the clock, the systems, the slice sizes. */
export interface LinkDeps {
	now(): number;
	/** The connector of one of the link's systems. */
	connector(systemId: string, config: LinkConfig): Promise<Connector>;
	slice: SliceLimits;
	/** Operations in flight at once (each connector also bounds its own requests). */
	concurrency: number;
	/** A slice that throws is retried this many times (with backoff) before the run fails. */
	maxAttempts: number;
	/** People reconciled per part (see planning.ts): smaller parts, less memory, more work. */
	peoplePerPart: number;
	/** Operations a system takes together go together (see the core's planBatches). */
	batching?: boolean;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * One Durable Object per link (named by the link id). It keeps the link's state in its SQLite
 * storage (worker/link/store.ts): configuration, baseline, snapshot versions, the current plan,
 * resolutions, staged deletes, runs with every operation's outcome, the journal undo reads, and
 * the outbox of notices. It serializes runs (one at a time) and applies them in slices continued
 * by its alarm, which it shares with the nightly schedule. Decisions are made elsewhere: the
 * core's (reconciling, how a run ends, which changes and undoes are allowed) and the run driver's
 * (worker/link/run-driver.ts: what the alarm does); this class wires storage and connectors into them.
 */
export class LinkDO extends DurableObject<Env> {
	/** Replaceable by tests (a fake clock, a failing connector, smaller slices). */
	deps: LinkDeps;
	private readonly store: LinkStore;
	private config?: LinkConfig;
	/** The alarm work in progress in this instance, so two alarm calls never overlap. */
	private busy?: Promise<void>;
	/** The plan and its snapshots gzipped, kept while their tag is current. */
	readonly #packed = new PackedAnswers();
	/** The schema migrations this instance's start applied: none, unless the code brought new ones. */
	migrated: readonly string[] = [];

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.deps = {
			now: () => Date.now(),
			connector: (systemId, config) => connectorFor(env, systemId, { removeMode: config.removeMode }),
			slice: { ops: 1000, ms: 10_000 },
			concurrency: 8,
			maxAttempts: 5,
			peoplePerPart: PEOPLE_PER_PART,
			batching: env.WRITE_BATCHING === undefined || flag(env.WRITE_BATCHING)
		};
		this.store = new LinkStore(ctx.storage, '');
		// No request is delivered until the tables exist and the configuration is in memory.
		ctx.blockConcurrencyWhile(async () => {
			this.migrated = this.store.migrate();
			this.load();
			// A link that was already there was upgraded; a new one only made its tables.
			if (this.migrated.length > 0 && this.config)
				console.log(JSON.stringify({ event: 'migrated', link: this.config?.id, migrations: this.migrated }));
		});
	}

	private load(): void {
		this.config = this.store.config();
		this.store.linkId = this.config?.id ?? '';
	}

	// ---- incident pushes (worker/link/incidents.ts) ---------------------------------------------

	#incidents?: IncidentPushes;
	private get incidents(): IncidentPushes {
		return (this.#incidents ??= new IncidentPushes({
			sql: this.ctx.storage.sql,
			config: () => this.config,
			write: async (systemId, record, key) => (await recordWriterFor(this.env, systemId)).write(record, key),
			now: () => this.deps.now()
		}));
	}

	/** Stores the sealed webhook secret (the edge issued it; the link never sees it open). */
	async setIncidentSecret(sealed: string): Promise<Result<null>> {
		if (!this.config) return notFound();
		this.store.setMeta('incidentSecret', sealed);
		return ok(null);
	}

	async incidentSecret(): Promise<string | undefined> {
		return this.store.getMeta<string>('incidentSecret');
	}

	/** A closed incident, validated and signed at the edge: recorded once, written, retried. */
	async receiveIncident(payload: IncidentPayload): Promise<Result<Received>> {
		if (!this.config) return notFound();
		const received = await this.incidents.receive(payload);
		await this.armPushes();
		return ok(received);
	}

	async incidentPushes(limit = 100): Promise<IncidentPush[]> {
		return this.incidents.list(Math.max(1, Math.min(limit, 500)));
	}

	async incidentPush(key: string): Promise<{ push: IncidentPush; record: IncidentRecord } | null> {
		const push = this.incidents.get(key);
		return push ? { push, record: this.incidents.record(key)! } : null;
	}

	/** An owner sends a push again now (the same idempotency key: the target writes it once). */
	async resendIncident(key: string, by: string): Promise<Result<IncidentPush>> {
		if (!this.config) return notFound();
		const push = await this.incidents.resend(key, by);
		if (!push) return refuse('not-found', `Link "${this.config.id}" has no incident push "${key}".`);
		await this.armPushes();
		return ok(push);
	}

	/** Brings the one alarm forward to the next push retry, if that comes first. */
	private async armPushes(): Promise<void> {
		const due = this.incidents.nextDue();
		if (due === undefined) return;
		const current = await this.ctx.storage.getAlarm();
		if (current === null || due < current) await this.ctx.storage.setAlarm(due);
	}

	/** The driver's alarm, never later than the next push retry. */
	private async setAlarm(at: number | null): Promise<void> {
		const due = this.incidents.nextDue();
		const when = at === null ? (due ?? null) : due === undefined ? at : Math.min(at, due);
		if (when === null) await this.ctx.storage.deleteAlarm();
		else await this.ctx.storage.setAlarm(when);
	}

	private get active(): ActiveRun | undefined {
		return this.store.getMeta<ActiveRun>('activeRun');
	}

	// ---- the link -----------------------------------------------------------------------------

	/** Stores a new link's configuration (validated by the core). Refused if this link exists. */
	async create(input: unknown): Promise<Result<LinkView>> {
		if (this.config) return refuse('conflict', `Link "${this.config.id}" already exists.`);
		let config: LinkConfig;
		try {
			config = parseLinkConfig(input);
		} catch (e) {
			return invalid(e);
		}
		this.store.setMeta('config', config);
		this.load();
		await this.arm();
		return ok(this.view());
	}

	/** The link with its status, or null when there is no such link. */
	async get(): Promise<LinkView | null> {
		return this.config ? this.view() : null;
	}

	/** The configuration `patch` asks for, checked: `id` and `systems` fixed, `mode` only before the first sync. */
	private changed(patch: Record<string, unknown>): Result<{ current: LinkConfig; config: LinkConfig }> {
		const current = this.config;
		if (!current) return notFound();
		const issues = linkChangeIssues(current, patch, { synced: this.store.baseline.size() > 0 });
		if (issues.length > 0)
			return refuse('invalid', `Invalid link change: ${issues.map((i) => `${i.field} ${i.message}`).join('; ')}`, {
				issues
			});
		try {
			return ok({ current, config: parseLinkConfig(patchedLink(current, patch)) });
		} catch (e) {
			return invalid(e);
		}
	}

	/**
	 * Changes the configuration. A change that can change the plan (see the core's changesPlan)
	 * plans again under it, so the review shows what the link will now do; when the systems cannot
	 * be read, the plan made under the old settings is dropped rather than shown as this link's.
	 */
	async update(patch: Record<string, unknown>): Promise<Result<LinkView>> {
		const checked = this.changed(patch);
		if (!checked.ok) return checked;
		const { current, config } = checked.value;
		this.store.setMeta('config', config);
		this.load();
		if (scheduleMoved(current, config)) this.store.setMeta('nextRunAt', undefined);
		await this.arm();
		if (changesPlan(linkChanges(current, config)) && this.store.planMeta()) {
			try {
				await planLink(this.engine(config));
			} catch (e) {
				if (!(e instanceof SourceError)) throw e;
				await this.store.exclusive(async () => this.store.plan.begin());
			}
		}
		return ok(this.view());
	}

	/**
	 * What `patch` would change, applying nothing: the settings that differ, the next nightly run
	 * before and after, and, when the plan can change, the plan under the current settings and
	 * under the changed ones, made from the same systems one after the other (previewPlans).
	 */
	async previewUpdate(patch: Record<string, unknown>): Promise<Result<LinkChangePreview>> {
		const checked = this.changed(patch);
		if (!checked.ok) return checked;
		const { current, config } = checked.value;
		const changes = linkChanges(current, config);
		const now = this.deps.now();
		const stored = this.store.getMeta<number>('nextRunAt');
		const before = nightlyOn(current)
			? (stored ?? nextDailyRun(now, current.schedule.timeZone, current.schedule.hour))
			: undefined;
		const after = nightlyOn(config)
			? scheduleMoved(current, config)
				? nextDailyRun(now, config.schedule.timeZone, config.schedule.hour)
				: before
			: undefined;
		const preview: LinkChangePreview = {
			config,
			changes,
			nextRunAt: {
				...(before !== undefined ? { before: iso(before) } : {}),
				...(after !== undefined ? { after: iso(after) } : {})
			}
		};
		if (!changesPlan(changes)) return ok(preview);
		try {
			const plans = await previewPlans(this.engine(current), config);
			if (plans.after) preview.plan = { before: plans.before, after: plans.after };
			if (plans.afterError) preview.planError = plans.afterError;
		} catch (e) {
			if (!(e instanceof SourceError)) throw e;
			preview.planError = e.detail;
		}
		return ok(preview);
	}

	/** Deletes the link's state and alarm. Refused while a run is in progress. */
	async destroy(): Promise<Result<null>> {
		if (!this.config) return notFound();
		const active = this.active;
		if (active)
			return refuse('conflict', `Run ${active.id} is in progress; delete the link when it has finished.`, {
				running: active.id
			});
		await this.ctx.storage.deleteAlarm();
		await this.ctx.storage.deleteAll();
		this.store.migrate();
		this.load();
		return ok(null);
	}

	private view(): LinkView {
		const config = this.config!;
		const active = this.active;
		const last = this.store.journal.lastRun();
		const plan = this.store.planMeta();
		const nextRunAt = this.store.getMeta<number>('nextRunAt');
		const shrunk = this.store.getMeta<ShrunkCounts>(SHRUNK_COUNTS);
		const readFailure = this.store.getMeta<ReadFailure>(READ_FAILURE);
		return {
			config,
			status: {
				enabled: config.enabled,
				...(active ? { running: active.id } : {}),
				...(last ? { lastRun: last } : {}),
				...(nextRunAt !== undefined && nightlyOn(config) ? { nextRunAt: iso(nextRunAt) } : {}),
				// 0 until the first reconcile (enabling always reconciles afresh before it says yes).
				requiresAction: plan ? requiresAction(this.store, plan) : 0,
				staged: plan?.staged ?? 0,
				...(shrunk ? { shrunk: shrunk.fell } : {}),
				...(readFailure ? { readFailure } : {})
			}
		};
	}

	// ---- reconciling --------------------------------------------------------------------------

	private engine(config: LinkConfig): EngineDeps {
		const { deps } = this;
		return {
			store: this.store,
			config,
			now: () => deps.now(),
			connector: (systemId) => deps.connector(systemId, config),
			slice: deps.slice,
			concurrency: deps.concurrency,
			peoplePerPart: deps.peoplePerPart,
			batching: deps.batching,
			ruleOwned: () => ruleOwnedFor(this.env, config.systems)
		};
	}

	/** Keeps the versions of snapshots read through the API (GET /links/:id/snapshots). */
	async noteVersions(versions: { a: string; b: string }): Promise<void> {
		if (this.config) this.store.setMeta('versions', versions);
	}

	/** The snapshots' versions last seen. */
	async versions(): Promise<{ a: string; b: string } | null> {
		return this.store.getMeta<{ a: string; b: string }>('versions') ?? null;
	}

	/** Reads both systems, reconciles with the stored resolutions and keeps it as the current plan. */
	async reconcile(): Promise<Result<PlanMeta>> {
		const config = this.config;
		if (!config) return notFound();
		const deps = this.engine(config);
		try {
			return ok((await planLink(deps)).meta);
		} catch (e) {
			return sourceFailed(e);
		}
	}

	/**
	 * The current plan as JSON text (a Reconciliation) with its entity tag, or null before the
	 * first reconcile. `known`: the tags the caller holds (If-None-Match); the body is left out
	 * (null) when one is the current plan's, so a plan nobody needs is never read from SQLite.
	 */
	async plan(known: readonly string[] = [], gzip = false): Promise<TaggedAnswer | null> {
		const etag = () => {
			const tag = this.store.plan.tag();
			return tag && `"plan-${tag}"`;
		};
		const now = this.#taggedNow('plan', etag(), known, gzip);
		if (now) return now;
		return this.store.exclusive(async () => {
			const current = etag();
			if (!current) return null;
			return this.#tagged('plan', current, known, gzip, () => this.store.planText() ?? null);
		});
	}

	/**
	 * Both snapshots the current plan was reconciled from (`{ a, b }` JSON, streamed from SQLite)
	 * with their entity tag (they change with the plan), or null before the first reconciliation.
	 */
	async snapshots(known: readonly string[] = [], gzip = false): Promise<TaggedAnswer | null> {
		const current = () => {
			const info = this.store.getMeta<Record<Side, SideInfo>>('snapshots');
			const tag = this.store.plan.tag();
			return info && tag ? { info, etag: `"snapshots-${tag}"` } : undefined;
		};
		const now = this.#taggedNow('snapshots', current()?.etag, known, gzip);
		if (now) return now;
		return this.store.exclusive(async () => {
			const at = current();
			if (!at) return null;
			return this.#tagged('snapshots', at.etag, known, gzip, () => this.store.snapshots.text(at.info));
		});
	}

	/**
	 * The answer of the tag the tables hold now, when it needs no read: no body for a caller
	 * holding it, or the bytes packed for it. Such a caller is answered at once, not after a
	 * reconciliation under way (reading both systems takes seconds): the answer is the current
	 * one until that reconciliation replaces the plan (see PlanStore.begin). Undefined otherwise,
	 * and while the tables hold no answer (`etag` undefined).
	 */
	#taggedNow(
		name: string,
		etag: string | undefined,
		known: readonly string[],
		gzip: boolean
	): TaggedAnswer | undefined {
		if (!etag) return undefined;
		if (known.includes(etag)) return { etag, body: null };
		const packed = gzip ? this.#packed.ready(name, etag) : undefined;
		return packed ? { etag, body: packed, encoding: 'gzip' } : undefined;
	}

	/**
	 * A stored answer under its tag: no body for a caller holding it; gzipped once per tag for
	 * callers that take gzip (see PackedAnswers), else plain JSON streamed from SQLite.
	 */
	async #tagged(
		name: string,
		etag: string,
		known: readonly string[],
		gzip: boolean,
		body: () => ReadableStream<Uint8Array> | null
	): Promise<TaggedAnswer | null> {
		if (known.includes(etag)) return { etag, body: null };
		const packed = gzip ? await this.#packed.get(name, etag, body) : undefined;
		if (packed) return { etag, body: packed, encoding: 'gzip' };
		const stream = body();
		return stream ? { etag, body: stream } : null;
	}

	async resolutions(): Promise<Resolution[]> {
		return this.store.resolutions();
	}

	/**
	 * Re-checks a batch of resolutions against fresh snapshots with the core and stores those still
	 * valid; a stale one (its records changed since the person saw them) comes back, not stored.
	 */
	async resolve(input: unknown, by: string): Promise<Result<{ accepted: string[]; stale: StaleResolution[] }>> {
		const config = this.config;
		if (!config) return notFound();
		let incoming: Resolution[];
		try {
			incoming = parseResolutions(input);
		} catch (e) {
			return invalid(e);
		}
		const at = iso(this.deps.now());
		// The authenticated caller made them, whatever the body says; `at` keeps when (offline).
		incoming = [...new Map(incoming.map((r) => [r.conflictId, { ...r, by, at: r.at ?? at }])).values()];
		const ids = new Set(incoming.map((r) => r.conflictId));
		const deps = this.engine(config);
		let stale: StaleResolution[];
		try {
			// The plan made with them is the current plan: accepted ones are stored below, and stale
			// ones never took effect in it.
			const planned = await planLink(deps, {
				resolutions: [...this.store.resolutions().filter((r) => !ids.has(r.conflictId)), ...incoming]
			});
			stale = planned.stale.filter((s) => ids.has(s.resolution.conflictId));
		} catch (e) {
			return sourceFailed(e);
		}
		const staleIds = new Set(stale.map((s) => s.resolution));
		const accepted = incoming.filter((r) => !staleIds.has(r));
		const now = this.deps.now();
		this.store.transaction(() => {
			for (const r of accepted) this.store.putResolution(r, now);
		});
		return ok({ accepted: accepted.map((r) => r.conflictId), stale });
	}

	/** Turns sync on after a fresh reconciliation finds nothing requiring action. */
	async enable(): Promise<Result<LinkView>> {
		const config = this.config;
		if (!config) return notFound();
		if (config.enabled) return ok(this.view());
		const deps = this.engine(config);
		let meta: PlanMeta;
		try {
			meta = (await planLink(deps)).meta;
		} catch (e) {
			return sourceFailed(e);
		}
		const pending = requiresAction(this.store, meta);
		if (pending > 0) {
			return refuse(
				'requires-action',
				`${pending} conflict${pending === 1 ? '' : 's'} require${pending === 1 ? 's' : ''} action before sync can be enabled.`,
				{ requiresAction: pending }
			);
		}
		this.store.setMeta('config', { ...config, enabled: true });
		this.load();
		await this.arm();
		return ok(this.view());
	}

	async disable(): Promise<Result<LinkView>> {
		const config = this.config;
		if (!config) return notFound();
		this.store.setMeta('config', { ...config, enabled: false });
		this.load();
		await this.arm();
		return ok(this.view());
	}

	/** The current plan's staged removals per threshold conflict, with the owner's decision. */
	async staged(): Promise<StagedDeletes[] | null> {
		if (!this.config) return null;
		return this.store.staged().map((s) => {
			const decision = thresholdDecision(this.store, s.conflictId);
			const named = { ...s, names: stagedNames(this.store, this.ctx.storage.sql, s.ops) };
			return decision ? { ...named, decision } : named;
		});
	}

	/**
	 * Approves staged removals or creations (an `approve-deletes` or `approve-creates` resolution
	 * for that threshold conflict: the next run applies them) or rejects them (kept staged, not
	 * proposed again until the set changes).
	 */
	async decideStaged(conflictId: string, decision: 'approve' | 'reject', by: string): Promise<Result<LinkView>> {
		if (!this.config) return notFound();
		const plan = this.store.planMeta();
		if (!plan?.thresholds.includes(conflictId))
			return refuse('not-found', `The current plan has no staged changes "${conflictId}".`);
		// The id says which set it is (see the core's creationThresholdFor): no need to read its operations.
		const creates = SIDES.some((side) => thresholdAction(conflictId, side) === 'create');
		const resolution: Resolution = {
			conflictId,
			choice: decision === 'approve' ? (creates ? 'approve-creates' : 'approve-deletes') : 'ignore',
			against: [],
			by,
			at: iso(this.deps.now())
		};
		this.store.putResolution(resolution, this.deps.now());
		return ok(this.view());
	}

	/**
	 * An owner confirms the counts the pre-flight guard refused (a side lost more than the link's
	 * limit since the last run): they become the reference, and the next run may write.
	 */
	async confirmCounts(): Promise<Result<LinkView>> {
		if (!this.config) return notFound();
		if (!confirmCounts(this.store)) return refuse('not-found', 'No counts wait for confirmation on this link.');
		return ok(this.view());
	}

	// ---- runs ---------------------------------------------------------------------------------

	/** Starts a run (202): single-flight per link. A real run needs sync enabled. */
	async startRun(input: { dryRun: boolean; startedBy: StartedBy }): Promise<Result<RunSummary>> {
		const config = this.config;
		if (!config) return notFound();
		const running = this.active;
		if (running) return refuse('conflict', `Run ${running.id} of this link is in progress.`, { running: running.id });
		if (!input.dryRun && !config.enabled)
			return refuse('conflict', 'Sync is not enabled for this link: enable it first (or start a dry run).');
		return ok(await this.begin(input.dryRun, input.startedBy));
	}

	private async begin(dryRun: boolean, startedBy: StartedBy): Promise<RunSummary> {
		const id = crypto.randomUUID();
		this.store.transaction(() => {
			this.store.journal.insertRun({ id, dryRun, startedBy, startedAt: this.deps.now(), phase: 'prepare' });
			this.store.setMeta('activeRun', { id, dryRun } satisfies ActiveRun);
		});
		await this.arm();
		return this.store.journal.run(id)!;
	}

	async runs(limit = 30): Promise<RunSummary[]> {
		return this.store.journal.runs(Math.max(1, Math.min(limit, 500)));
	}

	/** A run with a page of its operations and their outcomes, or null. */
	async run(runId: string, offset = 0, limit = 500): Promise<RunDetails | null> {
		const summary = this.store.journal.run(runId);
		if (!summary) return null;
		const o = Math.max(0, offset);
		const l = Math.max(1, Math.min(limit, 5000));
		const ops = this.store.journal.journalPage(runId, o, l);
		const names = collectNames(
			ops.map((item) => item.op),
			nameLookup(this.ctx.storage.sql, this.store.journal, runId)
		);
		return { ...summary, ops, names, offset: o, limit: l };
	}

	async progress(runId: string): Promise<RunProgress | null> {
		const summary = this.store.journal.run(runId);
		return summary ? { status: summary.status, tally: summary.tally } : null;
	}

	/** The notices (emails to send) the runs recorded: the outbox a mail binding would drain. */
	async notices(runId?: string): Promise<Notice[]> {
		return this.store.journal.notices(runId);
	}

	/** The people sync removed, with their retention dates (worker/link/provisioning.ts). */
	async removed(): Promise<RemovedPerson[] | null> {
		return this.config ? removedPeople(this.ctx.storage.sql, this.config, this.deps.now()) : null;
	}

	/** Invitations and transfer notices, planned and recorded, with their state. */
	async noticeViews(limit = 500): Promise<NoticeView[] | null> {
		return this.config ? noticeList(this.ctx.storage.sql, this.config, Math.max(1, Math.min(limit, 2000))) : null;
	}

	/**
	 * Restores a removed person within retention: a run of one journaled operation (reactivate on
	 * the system it was removed from) whose commit lets the pair go from the baseline, so the
	 * source no longer removes them (see provisioning.ts). Undone like any run.
	 */
	async restore(personId: string, by: string): Promise<Result<RunSummary>> {
		const config = this.config;
		if (!config) return notFound();
		const running = this.active;
		if (running) return refuse('conflict', `Run ${running.id} of this link is in progress.`, { running: running.id });
		const now = this.deps.now();
		const planned = planRestore(this.ctx.storage.sql, config, personId, now);
		if (!planned.ok) return planned;
		const { op, draft } = planned.value;
		const id = crypto.randomUUID();
		this.store.transaction(() => {
			this.store.journal.insertRun({
				id,
				dryRun: false,
				startedBy: { kind: 'person', subject: by },
				startedAt: now,
				phase: 'apply'
			});
			this.store.journal.planRun(id, [op], [draft], countOps([op]), 'apply');
			this.store.setMeta('activeRun', { id, dryRun: false } satisfies ActiveRun);
		});
		await this.arm();
		return ok(this.store.journal.run(id)!);
	}

	/**
	 * Asks the run in progress to stop: it stops at its next operation boundary (operations in
	 * flight finish and are journaled, no other starts), commits the baseline of what succeeded and
	 * ends `stopped`. Which runs may be stopped is the core's stopRefusal. Asking twice is harmless.
	 */
	async stop(runId: string, by: string): Promise<Result<RunSummary>> {
		const config = this.config;
		if (!config) return notFound();
		const run = this.store.journal.run(runId);
		if (!run) return refuse('not-found', `Link ${config.id} has no run "${runId}".`);
		const refusal = stopRefusal(run, {
			running: this.active?.id,
			committing: this.store.journal.phase(runId) === 'commit'
		});
		if (refusal) return refuse('conflict', refusal.message, refusal.extra);
		this.store.journal.requestStop(runId, by, this.deps.now());
		// A run waiting out a retry's backoff ends now rather than after it.
		await this.arm();
		return ok(this.store.journal.run(runId)!);
	}

	/**
	 * Undoes a run: the core's planUndo turns its successful operations (with their journaled
	 * before-values) into a new run, which also restores the baseline the run changed. Which runs
	 * may be undone, and when, is the core's undoRefusal.
	 */
	async undo(runId: string, by: string, expect?: string): Promise<Result<RunSummary>> {
		const planned = await this.undoPlan(runId);
		if (!planned.ok) return { ok: false, refusal: planned.refusal };
		const { undo } = planned.value;
		// The owner confirmed a preview: undo exactly what it showed, or nothing.
		if (expect !== undefined && opsDigest(undo.ops) !== expect)
			return refuse(
				'conflict',
				'What undoing this run does has changed since it was previewed: look at the preview again before confirming.',
				{ digest: opsDigest(undo.ops) }
			);
		const id = crypto.randomUUID();
		this.store.transaction(() => {
			this.store.journal.insertRun({
				id,
				dryRun: false,
				startedBy: { kind: 'undo', subject: by },
				startedAt: this.deps.now(),
				phase: 'apply',
				undoOf: runId
			});
			this.store.journal.planRun(id, undo.ops, [], countOps(undo.ops), 'apply', undo.irreversible);
			this.store.journal.markUndone(runId, id);
			this.store.setMeta('activeRun', { id, dryRun: false, undoOf: runId } satisfies ActiveRun);
		});
		await this.arm();
		return ok(this.store.journal.run(id)!);
	}

	/** Which runs may be undone, and when, is the core's undoRefusal; the undo is the core's planUndo. */
	private async undoPlan(
		runId: string
	): Promise<Result<{ undo: UndoPlan; ops: Op[]; outcomes: Map<string, OpOutcome> }>> {
		if (!this.config) return notFound();
		// The rules' memberships, read before the checks below: an await between the checks and
		// the plan would let a run start in between.
		const ruleOwned = await ruleOwnedFor(this.env, this.config.systems);
		const config = this.config;
		// The link may have been deleted while the rules were read.
		if (!config) return notFound();
		const run = this.store.journal.run(runId);
		if (!run) return refuse('not-found', `Link ${config.id} has no run "${runId}".`);
		let latest: string | undefined;
		for (const r of this.store.journal.realRuns())
			if (isUndoBarrier(r)) {
				latest = r.id;
				break;
			}
		const refusal = undoRefusal(run, { running: this.active?.id, latest });
		if (refusal) return refuse('conflict', refusal.message, refusal.extra);
		const { ops, outcomes } = this.store.journal.doneOps(runId);
		return ok({ undo: planUndo(config.id, ops, outcomes, ruleOwned), ops, outcomes });
	}

	/** What undoing a run would do, refused as the undo itself would be; nothing is written. */
	async undoPreview(runId: string): Promise<Result<UndoPreview>> {
		const planned = await this.undoPlan(runId);
		if (!planned.ok) return { ok: false, refusal: planned.refusal };
		const { undo, ops, outcomes } = planned.value;
		return ok(undoPreview(this.store, this.ctx.storage.sql, runId, undo, ops, outcomes));
	}

	/**
	 * What a run started now would do: both systems read and reconciled afresh (it becomes the
	 * current plan, as a reconcile does), summarized for the owner to confirm.
	 */
	async runPreview(): Promise<Result<RunPreview>> {
		const config = this.config;
		if (!config) return notFound();
		const running = this.active;
		if (running) return refuse('conflict', `Run ${running.id} of this link is in progress.`, { running: running.id });
		let meta: PlanMeta;
		try {
			meta = (await planLink(this.engine(config))).meta;
		} catch (e) {
			return sourceFailed(e);
		}
		const staged = this.store.staged().map(({ conflictId, action, kind, side, count }) => {
			const decision = thresholdDecision(this.store, conflictId);
			return { conflictId, action, kind, side, count, ...(decision ? { decision } : {}) };
		});
		return ok(runPreview(this.store, this.ctx.storage.sql, meta, staged, requiresAction(this.store, meta)));
	}

	// ---- the alarm: runs in slices, and the nightly schedule (worker/link/run-driver.ts) --------

	/** The run driver's view of this link: its state, its alarm and the engine's steps. */
	private driver(): RunDriverDeps {
		const { store, deps } = this;
		const config = this.config;
		const storage = this.ctx.storage;
		// The steps run only for a link: the driver does nothing without one.
		const engine = config ? this.engine(config) : undefined;
		return {
			config,
			state: {
				active: () => this.active,
				clearActive: () => store.setMeta('activeRun', undefined),
				nextRunAt: () => store.getMeta<number>('nextRunAt'),
				setNextRunAt: (at) => store.setMeta('nextRunAt', at),
				attempts: (runId) => store.getMeta<number>(`attempts:${runId}`) ?? 0,
				setAttempts: (runId, attempts) => store.setMeta(`attempts:${runId}`, attempts),
				phase: (runId) => store.journal.phase(runId)
			},
			steps: {
				prepare: (run) => prepare(engine!, run.id, run.dryRun),
				apply: (run) => applySlice(engine!, run.id),
				// The baseline changes only between reconciliations, never while one reads it part by part.
				commit: (run) => store.exclusive(async () => finishApplied(engine!, run.id, run.undoOf))
			},
			now: () => deps.now(),
			clock: () => Date.now(),
			alarm: {
				get: () => storage.getAlarm(),
				set: (at) => this.setAlarm(at)
			},
			beginNightly: async () => {
				const run = await this.begin(false, { kind: 'schedule' });
				return { id: run.id, dryRun: false };
			},
			fail: (run, error) =>
				store.exclusive(async () => {
					// An undo's commit is its revert, which only a finished undo makes.
					if (!run.undoOf) commitGivenUp(engine!, run.id);
					store.transaction(() => {
						endRun(engine!, run.id, { error });
						store.setMeta('activeRun', undefined);
						store.setMeta(`attempts:${run.id}`, undefined);
					});
				}),
			maxAttempts: deps.maxAttempts,
			log: (line) => console.error(JSON.stringify(line))
		};
	}

	/**
	 * Makes sure the alarm is set (the hourly cron calls this for every link): while a run is in
	 * progress it continues the run, otherwise it rings for the next nightly run. `now` is the
	 * cron's scheduled time. Returns the alarm (epoch ms) or null when none is needed.
	 */
	async ensureAlarm(now = this.deps.now()): Promise<number | null> {
		return ensureAlarm(this.driver(), now);
	}

	/** Sets the one alarm from the stored state. */
	private arm(): Promise<number | null> {
		return arm(this.driver());
	}

	/** One tick; a real run that ended in it hands its systems to their rules, which apply next. */
	private async tickThenRules(): Promise<void> {
		const before = this.active;
		await tick(this.driver());
		if (!before || before.dryRun || this.active?.id === before.id || !this.config) return;
		try {
			await applyRulesAfterLinkRun(this.env, this.config.systems);
		} catch (e) {
			console.log(JSON.stringify({ event: 'rules-after-run-failed', link: this.config.id, error: String(e) }));
		}
	}

	async alarm(): Promise<void> {
		// A second alarm call while one is working (a test helper, an overlapping retry) waits for it.
		if (this.busy) return this.busy;
		this.busy = this.tickThenRules()
			.then(async () => {
				await this.incidents.deliverDue();
				await this.armPushes();
			})
			.finally(() => (this.busy = undefined));
		return this.busy;
	}
}

const notFound = <T>(): Result<T> => refuse('not-found', 'There is no such link.');

function invalid<T>(e: unknown): Result<T> {
	if (e instanceof ValidationError)
		return refuse('invalid', e.message, {
			issues: e.issues.map((i) => ({ record: i.record, field: i.field, message: i.message }))
		});
	throw e;
}

function sourceFailed<T>(e: unknown): Result<T> {
	if (e instanceof SourceError)
		return refuse(
			e.detail.code === 'invalid' ? 'invalid' : 'source-failed',
			e.detail.message,
			e.detail.system || e.detail.shrunk
				? {
						...(e.detail.system ? { system: e.detail.system } : {}),
						...(e.detail.shrunk ? { shrunk: e.detail.shrunk } : {})
					}
				: undefined
		);
	throw e;
}
