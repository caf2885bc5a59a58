import { DurableObject } from 'cloudflare:workers';
import {
	pageRulePeople,
	personChange,
	planRuleOff,
	planRuleUndo,
	previewRule,
	pruneRuleJournal,
	RULE_CHANGE_KINDS,
	type Op,
	type RuleChangeKind,
	type Snapshot
} from '$lib/core';
import type {
	NewRule,
	RuleActionPreview,
	RuleConfig,
	RulePatch,
	RulePerson,
	RulePreview,
	RuleRunDetails,
	RuleRunSummary,
	RuleTrigger,
	RuleView
} from '$lib/api/rules';
import type { RunProgress } from '$lib/api/types';
import type { Env } from '../env';
import type { Connector } from '../connectors/types';
import { randomToken } from '../crypto';
import { connectorFor } from '../systems/connect';
import { ok, refuse, type Result } from '../link/types';
import { coreRule, executeRun, runError } from './rule-runs';
import { RulesStore, type StoredRule } from './rules-store';

/** The RulesDO of a system (named by the system's id). */
export const rulesOf = (env: Pick<Env, 'RULES'>, systemId: string) => env.RULES.getByName(systemId);

export interface RulesDeps {
	connector(systemId: string): Promise<Connector>;
	/** Operations in flight at once. */
	concurrency: number;
	/** A preview reuses a snapshot this young (paging through a list reads the system once). */
	previewMaxAgeMs: number;
	/** If an invocation dies mid-run, the alarm brings the run back this much later. */
	watchdogMs: number;
}

export interface PreviewQuery {
	q?: string;
	change?: RuleChangeKind;
	offset?: number;
	limit?: number;
}

/** People listed in a disable or undo preview; the counts cover everyone. */
const ACTION_PEOPLE = 1000;

/**
 * One Durable Object per system (named by the system's id): that system's auto-membership rules,
 * the memberships each owns, their runs, and the queue its alarm works through one job at a time,
 * so two applications never write to the system at once. Decisions are the core's (rules,
 * rule-preview, rule-undo); running is worker/rules/rule-runs.ts; this class wires them to storage.
 */
export class RulesDO extends DurableObject<Env> {
	/** Replaceable by tests. */
	deps: RulesDeps;
	private readonly store: RulesStore;
	private latest?: { at: number; snapshot: Snapshot };
	private busy?: Promise<void>;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.deps = {
			connector: (systemId) => connectorFor(env, systemId),
			concurrency: 4,
			previewMaxAgeMs: 60_000,
			watchdogMs: 60_000
		};
		this.store = new RulesStore(ctx.storage.sql, (fn) => ctx.storage.transactionSync(fn));
		ctx.blockConcurrencyWhile(async () => this.store.migrate());
	}

	// ---- rules --------------------------------------------------------------------------------

	private view(rule: StoredRule): RuleView {
		const view: RuleView = { ...rule, owned: this.store.ownedCount(rule.id) };
		const running = this.store.runningOf(rule.id);
		if (running) view.running = running;
		const last = this.store.lastRun(rule.id);
		if (last) view.lastRun = last;
		return view;
	}

	async list(): Promise<RuleView[]> {
		return this.store.rules().map((r) => this.view(r));
	}

	async get(ruleId: string): Promise<RuleView | null> {
		const rule = this.store.rule(ruleId);
		return rule ? this.view(rule) : null;
	}

	/** Every membership a rule of this system owns: what a link's plan leaves alone. */
	async owned(): Promise<{ groupId: string; personId: string }[]> {
		return this.store.allOwned();
	}

	/** The system's snapshot: a fresh read, or for previews one read a moment ago. */
	private async snapshot(systemId: string, fresh: boolean): Promise<Snapshot> {
		if (!fresh && this.latest && Date.now() - this.latest.at < this.deps.previewMaxAgeMs) return this.latest.snapshot;
		const snapshot = await (await this.deps.connector(systemId)).read();
		// Its age counts from when the read ended: a 100k-person read can take a while.
		this.latest = { at: Date.now(), snapshot };
		return snapshot;
	}

	/** The group's name, or a refusal naming the system and the group. */
	private async groupName(systemId: string, groupId: string): Promise<Result<string>> {
		let snapshot: Snapshot;
		try {
			snapshot = await this.snapshot(systemId, false);
		} catch (e) {
			const error = runError(e, systemId);
			return refuse('source-failed', error.message, { system: systemId });
		}
		const group = snapshot.groups.find((g) => g.id === groupId);
		if (!group)
			return refuse('invalid', `Invalid rule: groupId: system ${systemId} has no group "${groupId}".`, {
				issues: [{ field: 'groupId', message: `is not a group of system ${systemId}` }]
			});
		return ok(group.name);
	}

	async create(input: { id: string; systemId: string; rule: NewRule; startedBy: string }): Promise<Result<RuleView>> {
		const { enabled = false, ...config } = input.rule;
		const name = await this.groupName(input.systemId, config.groupId);
		if (!name.ok) return name;
		const at = new Date().toISOString();
		const rule: StoredRule = {
			...normalized(config),
			id: input.id,
			systemId: input.systemId,
			groupName: name.value,
			enabled,
			createdAt: at,
			updatedAt: at
		};
		this.store.putRule(rule);
		if (enabled) await this.queueRun(rule.id, 'person', input.startedBy);
		return ok(this.view(rule));
	}

	async update(ruleId: string, patch: RulePatch, startedBy: string): Promise<Result<RuleView>> {
		const rule = this.store.rule(ruleId);
		if (!rule) return notFound(ruleId);
		if (patch.groupId !== undefined && patch.groupId !== rule.groupId && this.store.ownedCount(ruleId) > 0)
			return refuse(
				'conflict',
				`Rule "${rule.name}" still owns ${this.store.ownedCount(ruleId)} memberships in "${rule.groupName}": turn it off first (POST /api/rules/${ruleId}/disable), keeping or removing them, then change its group.`
			);
		let groupName = rule.groupName;
		if (patch.groupId !== undefined && patch.groupId !== rule.groupId) {
			const name = await this.groupName(rule.systemId, patch.groupId);
			if (!name.ok) return name;
			groupName = name.value;
		}
		const { enabled, ...config } = patch;
		const next: StoredRule = {
			...rule,
			...normalized({ ...rule, ...config }),
			groupName,
			enabled: enabled === true ? true : rule.enabled,
			updatedAt: new Date().toISOString()
		};
		this.store.putRule(next);
		// On, or changed while on: the group follows at once (people out of the new scope leave).
		if (next.enabled) await this.queueRun(ruleId, 'person', startedBy);
		return ok(this.view(next));
	}

	async remove(ruleId: string): Promise<Result<null>> {
		const rule = this.store.rule(ruleId);
		if (!rule) return notFound(ruleId);
		if (rule.enabled)
			return refuse(
				'conflict',
				`Rule "${rule.name}" is on: turn it off first (POST /api/rules/${ruleId}/disable), which asks whether the members it added stay.`
			);
		const running = this.store.runningOf(ruleId);
		if (running)
			return refuse(
				'conflict',
				`Run ${running} of rule "${rule.name}" is in progress; delete it when it has finished.`
			);
		this.store.deleteRule(ruleId);
		return ok(null);
	}

	// ---- preview ------------------------------------------------------------------------------

	/**
	 * What a rule would do now: a saved rule (`ruleId`, with `patch` applied if given) or a new
	 * configuration of this system (`config`).
	 */
	async preview(
		systemId: string,
		target: { ruleId: string; patch?: RulePatch } | { config: RuleConfig },
		query: PreviewQuery
	): Promise<Result<RulePreview>> {
		let rule: StoredRule;
		if ('ruleId' in target) {
			const saved = this.store.rule(target.ruleId);
			if (!saved) return notFound(target.ruleId);
			const { enabled: _enabled, ...patch } = target.patch ?? {};
			rule = { ...saved, ...normalized({ ...saved, ...patch }) };
		} else {
			const at = new Date().toISOString();
			rule = {
				...normalized(target.config),
				id: '',
				systemId,
				groupName: '',
				enabled: false,
				createdAt: at,
				updatedAt: at
			};
		}
		let snapshot: Snapshot;
		try {
			snapshot = await this.snapshot(systemId, false);
		} catch (e) {
			return refuse('source-failed', runError(e, systemId).message, { system: systemId });
		}
		if (!snapshot.groups.some((g) => g.id === rule.groupId))
			return refuse('invalid', `Invalid rule: groupId: system ${systemId} has no group "${rule.groupId}".`, {
				issues: [{ field: 'groupId', message: `is not a group of system ${systemId}` }]
			});
		const journal = pruneRuleJournal(this.store.journal(rule.id), snapshot, rule.groupId);
		const others = this.store.rules().map(coreRule);
		const result = previewRule(coreRule(rule), snapshot, journal, others);
		const page = pageRulePeople(result.people, query);
		return ok({
			takenAt: snapshot.takenAt,
			wanted: result.wanted,
			joining: result.joining,
			leaving: result.leaving,
			roleChanges: result.roleChanges,
			alreadyMembers: result.alreadyMembers,
			...page,
			warnings: result.warnings
		});
	}

	// ---- runs ---------------------------------------------------------------------------------

	private async queueRun(
		ruleId: string,
		trigger: RuleTrigger,
		startedBy: string | undefined,
		extra: { undoOf?: string; dryRun?: boolean } = {}
	): Promise<RuleRunSummary> {
		const id = `rrn_${randomToken(9)}`;
		this.store.transaction(() => {
			this.store.insertRun({ id, ruleId, dryRun: extra.dryRun ?? false, trigger, startedBy, undoOf: extra.undoOf });
			this.store.enqueue({ kind: 'run', runId: id });
		});
		await this.ctx.storage.setAlarm(Date.now());
		return this.store.run(id)!;
	}

	/** Applies a rule now: a dry run answers at once with its plan; a real one is queued (202). */
	async run(ruleId: string, options: { dryRun: boolean; startedBy: string }): Promise<Result<RuleRunSummary>> {
		const rule = this.store.rule(ruleId);
		if (!rule) return notFound(ruleId);
		if (!options.dryRun && !rule.enabled)
			return refuse('conflict', `Rule "${rule.name}" is off: turn it on (PATCH { "enabled": true }) to apply it.`);
		if (!options.dryRun) return ok(await this.queueRun(ruleId, 'person', options.startedBy));
		const id = `rrn_${randomToken(9)}`;
		this.store.insertRun({ id, ruleId, dryRun: true, trigger: 'person', startedBy: options.startedBy });
		try {
			const snapshot = await this.snapshot(rule.systemId, true);
			await executeRun(this.context(await this.deps.connector(rule.systemId)), id, snapshot);
		} catch (e) {
			this.store.finishRun(id, 'failed', runError(e, rule.systemId));
		}
		return ok(this.store.run(id)!);
	}

	/**
	 * Turns a rule off. With `removeMembers`, exactly the memberships it added and still owns go (a
	 * run); without, they stay and are no longer the rule's (links and people may change them).
	 * With `dryRun`, nothing changes: the answer says whom each choice touches.
	 */
	async disable(
		ruleId: string,
		options: { removeMembers: boolean; dryRun: boolean; startedBy: string }
	): Promise<Result<RuleView | RuleActionPreview>> {
		const rule = this.store.rule(ruleId);
		if (!rule) return notFound(ruleId);
		if (options.dryRun) {
			if (!options.removeMembers) return ok({ remove: 0, add: 0, role: 0, people: [] });
			let snapshot: Snapshot;
			try {
				snapshot = await this.snapshot(rule.systemId, false);
			} catch (e) {
				return refuse('source-failed', runError(e, rule.systemId).message, { system: rule.systemId });
			}
			const journal = pruneRuleJournal(this.store.journal(ruleId), snapshot, rule.groupId);
			return ok(actionPreview(planRuleOff(coreRule(rule), snapshot, journal, true).ops, snapshot));
		}
		const running = this.store.runningOf(ruleId);
		if (running)
			return refuse(
				'conflict',
				`Run ${running} of rule "${rule.name}" is in progress; turn the rule off when it has finished.`
			);
		this.store.setEnabled(ruleId, false);
		if (options.removeMembers) {
			await this.queueRun(ruleId, 'disable', options.startedBy);
		} else {
			// Kept: recorded as a run with nothing to do, and the rule lets go of what it added.
			const id = `rrn_${randomToken(9)}`;
			this.store.transaction(() => {
				this.store.insertRun({ id, ruleId, dryRun: false, trigger: 'disable', startedBy: options.startedBy });
				this.store.planRun(id, [], new Map());
				this.store.finishRun(id, 'done');
				this.store.setJournal(ruleId, rule.groupId, { ruleId, added: {} });
			});
		}
		return ok(this.view(this.store.rule(ruleId)!));
	}

	/** Undoes a run: exactly what it did, reversed, where the group is still as it left it. */
	async undo(
		ruleId: string,
		runId: string,
		options: { dryRun: boolean; startedBy: string }
	): Promise<Result<RuleRunSummary | RuleActionPreview>> {
		const rule = this.store.rule(ruleId);
		if (!rule) return notFound(ruleId);
		const run = this.store.run(runId);
		if (!run || run.ruleId !== ruleId) return refuse('not-found', `Rule "${rule.name}" has no run "${runId}".`);
		if (run.status === 'running')
			return refuse('conflict', `Run ${runId} is still in progress; undo it when it has finished.`);
		if (run.dryRun) return refuse('conflict', `Run ${runId} was a dry run: it changed nothing to undo.`);
		if (run.undoneBy)
			return refuse('conflict', `Run ${runId} was undone already, by ${run.undoneBy}.`, { undoneBy: run.undoneBy });
		if (run.tally.done === 0) return refuse('conflict', `Run ${runId} changed nothing: there is nothing to undo.`);
		if (options.dryRun) {
			let snapshot: Snapshot;
			try {
				snapshot = await this.snapshot(rule.systemId, false);
			} catch (e) {
				return refuse('source-failed', runError(e, rule.systemId).message, { system: rule.systemId });
			}
			const journal = pruneRuleJournal(this.store.journal(ruleId), snapshot, rule.groupId);
			const plan = planRuleUndo(coreRule(rule), { id: runId, ...this.store.runOps(runId) }, snapshot, journal);
			return ok(actionPreview(plan.ops, snapshot));
		}
		return ok(await this.queueRun(ruleId, 'undo', options.startedBy, { undoOf: runId }));
	}

	/**
	 * Applies every enabled rule at the next turn of the queue: after a link's run touched this
	 * system, and from the hourly cron. One waiting application is enough.
	 */
	async applyAll(trigger: 'snapshot' | 'schedule'): Promise<{ rules: number }> {
		const rules = this.store.rules().filter((r) => r.enabled).length;
		if (rules === 0) return { rules };
		this.store.enqueue({ kind: 'apply-all', trigger });
		await this.ctx.storage.setAlarm(Date.now());
		return { rules };
	}

	async runs(ruleId: string, limit: number): Promise<RuleRunSummary[] | null> {
		if (!this.store.rule(ruleId)) return null;
		return this.store.runs(ruleId, Math.min(Math.max(limit, 1), 200));
	}

	async runDetails(ruleId: string, runId: string, offset: number, limit: number): Promise<RuleRunDetails | null> {
		const run = this.store.run(runId);
		if (!run || run.ruleId !== ruleId) return null;
		return this.store.details(runId, offset, Math.min(Math.max(limit, 1), 1000)) ?? null;
	}

	async progress(ruleId: string, runId: string): Promise<RunProgress | null> {
		const run = this.store.run(runId);
		if (!run || run.ruleId !== ruleId) return null;
		return { status: run.status, tally: run.tally };
	}

	/** Forgets the snapshot previews reuse (the system's people map changed: it is read again). */
	async forgetSnapshot(): Promise<void> {
		this.latest = undefined;
	}

	/** Forgets everything (the system is deleted). */
	async wipe(): Promise<void> {
		this.latest = undefined;
		this.store.wipe();
		await this.ctx.storage.deleteAlarm();
	}

	// ---- the alarm: the queue, one job at a time ------------------------------------------------

	private context(connector: Connector) {
		return { store: this.store, connector, concurrency: this.deps.concurrency };
	}

	async alarm(): Promise<void> {
		// A second alarm call while one is working (a test helper, a retry) waits for it.
		if (this.busy) return this.busy;
		this.busy = this.work().finally(() => (this.busy = undefined));
		return this.busy;
	}

	/** Works the queue to its end now, or waits for the invocation already working it (tests, the bench). */
	async drain(): Promise<void> {
		return this.alarm();
	}

	private async work(): Promise<void> {
		for (let job = this.store.nextJob(); job; job = this.store.nextJob()) {
			// If this invocation dies mid-run, this brings the job back; outcomes already journaled are not redone.
			await this.ctx.storage.setAlarm(Date.now() + this.deps.watchdogMs);
			const systemId = this.systemId(job);
			if (systemId) await this.doJob(job, systemId);
			this.store.doneJob(job.seq);
		}
		await this.ctx.storage.deleteAlarm();
	}

	private systemId(job: NonNullable<ReturnType<RulesStore['nextJob']>>): string | undefined {
		if (job.kind === 'run') {
			const run = this.store.run(job.runId);
			return run ? this.store.rule(run.ruleId)?.systemId : undefined;
		}
		return this.store.rules()[0]?.systemId;
	}

	private async doJob(job: NonNullable<ReturnType<RulesStore['nextJob']>>, systemId: string): Promise<void> {
		const runIds =
			job.kind === 'run'
				? [job.runId]
				: this.store.rules().flatMap((r) => {
						if (!r.enabled || this.store.runningOf(r.id)) return [];
						const id = `rrn_${randomToken(9)}`;
						this.store.insertRun({ id, ruleId: r.id, dryRun: false, trigger: job.trigger });
						return [id];
					});
		let snapshot: Snapshot;
		let connector: Connector;
		try {
			connector = await this.deps.connector(systemId);
			snapshot = await this.snapshot(systemId, true);
		} catch (e) {
			const error = runError(e, systemId);
			for (const id of runIds) this.store.finishRun(id, 'failed', error);
			return;
		}
		for (const id of runIds) {
			try {
				snapshot = await executeRun(this.context(connector), id, snapshot);
			} catch (e) {
				if (this.store.run(id)?.status === 'running') this.store.finishRun(id, 'failed', runError(e, systemId));
			}
		}
		this.latest = { at: Date.now(), snapshot };
	}
}

const notFound = <T>(ruleId: string): Result<T> => refuse('not-found', `There is no rule "${ruleId}".`);

/** A configuration as stored: buildings only for a buildings rule, each listed once, sorted. */
function normalized(config: RuleConfig): RuleConfig {
	return {
		name: config.name,
		groupId: config.groupId,
		scope: config.scope,
		buildings: config.scope === 'buildings' ? [...new Set(config.buildings)].sort() : [],
		memberTypes: [...new Set(config.memberTypes)].sort(),
		role: config.role
	};
}

/** How many people a disable or undo touches, and who (the first ACTION_PEOPLE of them). */
function actionPreview(ops: readonly Op[], snapshot: Snapshot): RuleActionPreview {
	const people = new Map(snapshot.people.map((p) => [p.id, p]));
	const preview: RuleActionPreview = { remove: 0, add: 0, role: 0, people: [] };
	for (const op of ops) {
		if (!('person' in op) || !('id' in op.person)) continue;
		const change: RuleChangeKind =
			op.type === 'remove-membership' ? 'leave' : op.type === 'add-membership' ? 'join' : 'role';
		if (change === 'leave') preview.remove++;
		else if (change === 'join') preview.add++;
		else preview.role++;
		if (preview.people.length >= ACTION_PEOPLE) continue;
		const person = people.get(op.person.id) ?? { id: op.person.id, displayName: op.person.id, active: true };
		const role = op.type === 'remove-membership' ? op.before : 'role' in op ? op.role : 'member';
		preview.people.push(personChange(person, change, role) as RulePerson);
	}
	preview.people.sort(
		(x, y) =>
			RULE_CHANGE_KINDS.indexOf(x.change) - RULE_CHANGE_KINDS.indexOf(y.change) ||
			(x.name < y.name ? -1 : x.name > y.name ? 1 : 0)
	);
	return preview;
}
