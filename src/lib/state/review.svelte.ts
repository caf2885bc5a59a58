/**
 * The review of one link: the summary at the top, the filtered list (rows fetched from the worker
 * only for the window on screen), the pair being looked at, and the actions: Reload, resolve,
 * Enable sync. Offline it works from what IndexedDB holds (see src/lib/reconcile/api.ts).
 */
import type { Conflict, Resolution } from '$lib/core';
import type { LinkView } from '$lib/api/types';
import { getDb, recall, remember } from '$lib/db';
import { linkCacheKey } from '$lib/reconcile/api';
import {
	reconcileWorker,
	type PairDetail,
	type ReviewFilter,
	type ReviewRow,
	type ReviewSummary
} from '$lib/reconcile/client';
import { errorInfo } from '$lib/reconcile/errors';
import { namesOnScreen } from '$lib/reconcile/answers';
import { network } from './network.svelte';
import { outbox } from './outbox.svelte';
import { session } from './session.svelte';

export type ReviewBusy = 'opening' | 'reloading' | 'previewing' | 'enabling' | undefined;

export class ReviewManager {
	#linkId = $state<string | undefined>();
	#link = $state.raw<LinkView | undefined>();
	#linkAt = $state<string | undefined>();
	#summary = $state.raw<ReviewSummary | undefined>();
	#total = $state(0);
	/** Bumped whenever the rows behind the list change: the list drops what it fetched. */
	#generation = $state(0);
	#busy = $state<ReviewBusy>();
	#error = $state<string | undefined>();
	#detail = $state.raw<PairDetail | undefined>();
	#selected = $state<number | undefined>();
	#stopFlush: (() => void) | undefined;
	#stopReconnect: (() => void) | undefined;
	/** The connection came back: the next flush is followed by a refresh from the edge. */
	#refreshDue = false;
	#refreshing: Promise<void> | undefined;
	#refreshAgain = false;
	/** Bumped each time the person opens or closes a pair. */
	#choices = 0;

	filter = $state<ReviewFilter>({ kind: 'all', situation: 'all', text: '' });

	get linkId() {
		return this.#linkId;
	}
	get link() {
		return this.#link;
	}
	/** When the link's status was read (undefined: now, online). */
	get linkAt() {
		return this.#linkAt;
	}
	get summary() {
		return this.#summary;
	}
	get total() {
		return this.#total;
	}
	get generation() {
		return this.#generation;
	}
	get busy() {
		return this.#busy;
	}
	get error() {
		return this.#error;
	}
	get detail() {
		return this.#detail;
	}
	get selected() {
		return this.#selected;
	}

	/** Resolutions of this link that wait in the outbox. */
	get waiting() {
		return this.#linkId ? outbox.forLink(this.#linkId).filter((e) => e.state === 'pending') : [];
	}

	/**
	 * Sync can be enabled only when nothing requires action: in the edge's plan (which it checks
	 * again) and in what this browser shows, with nothing waiting to be sent or looked at again.
	 */
	get canEnable(): boolean {
		const s = this.#summary;
		const l = this.#link;
		if (!s || !l || l.config.enabled) return false;
		const mine = this.#linkId ? outbox.forLink(this.#linkId) : [];
		return (
			s.source === 'edge' &&
			s.requiresAction === 0 &&
			l.status.requiresAction === 0 &&
			mine.length === 0 &&
			s.stale.length === 0
		);
	}

	async open(linkId: string): Promise<void> {
		if (this.#linkId !== linkId) {
			this.#linkId = linkId;
			this.#summary = undefined;
			this.#link = undefined;
			this.#detail = undefined;
			this.#selected = undefined;
			this.#total = 0;
			this.filter = { kind: 'all', situation: 'all', text: '' };
		}
		// Answers the edge accepted changed its plan (it reconciles with them): show that plan. When
		// the connection returns, the outbox is sent first, then the screen is refreshed from the edge.
		this.#stopFlush ??= outbox.onFlushed((report) => {
			// Reload reconciles at the edge itself, after its own flush.
			if (!this.#linkId || this.#busy === 'reloading') return;
			if (this.#refreshDue || report.links.includes(this.#linkId)) void this.refreshFromEdge();
			else if (report.stale > 0 || report.rejected > 0) void this.#afterOutboxChange();
		});
		this.#stopReconnect ??= network.onReconnect(() => {
			this.#refreshDue = true;
			void outbox.flush();
		});
		this.#busy = 'opening';
		this.#error = undefined;
		try {
			await this.#loadLink();
			const worker = reconcileWorker();
			// What this browser holds first (instant, offline too); then the edge's plan if there is none.
			let summary = await worker.previewIfPending(linkId);
			if (!summary && network.online) {
				summary = await worker.pull(linkId, session.auth);
				if (!summary && session.can('reviewer')) summary = await worker.reload(linkId, session.auth);
			}
			await this.#show(summary);
		} catch (e) {
			this.#error = failed(e);
		} finally {
			this.#busy = undefined;
		}
	}

	close(): void {
		this.#stopFlush?.();
		this.#stopFlush = undefined;
		this.#stopReconnect?.();
		this.#stopReconnect = undefined;
	}

	/**
	 * Shows what the edge holds now: the link's status and its current plan (with any answer
	 * still on this device previewed on top). Called when the connection returns and when the
	 * edge accepted answers; an error banner from the offline time goes once the edge answers.
	 */
	async refreshFromEdge(): Promise<void> {
		this.#refreshDue = false;
		if (this.#refreshing) {
			this.#refreshAgain = true;
			return this.#refreshing;
		}
		const run = async () => {
			do {
				this.#refreshAgain = false;
				const id = this.#linkId;
				if (!id || !network.online) return;
				try {
					await this.#loadLink();
					const summary =
						(await reconcileWorker().pull(id, session.auth)) ?? (await reconcileWorker().previewIfPending(id));
					if (id !== this.#linkId) return;
					this.#error = undefined;
					await this.#showFollowing(summary);
				} catch (e) {
					this.#error = failed(e);
				}
			} while (this.#refreshAgain);
		};
		this.#refreshing = run().finally(() => (this.#refreshing = undefined));
		return this.#refreshing;
	}

	/**
	 * Shows a new plan, keeping the open pair open: found again by its records (its row may move).
	 * A pair the person opened or closed meanwhile is left as they chose.
	 */
	async #showFollowing(summary: ReviewSummary | undefined): Promise<void> {
		const before = this.#detail?.row;
		const choice = this.#choices;
		this.#selected = undefined;
		this.#detail = undefined;
		await this.#show(summary);
		if (!before || !this.#linkId || choice !== this.#choices) return;
		const i = await reconcileWorker().rowOfRecords(this.#linkId, before.kind, before.aId, before.bId);
		if (i !== undefined && choice === this.#choices) await this.#selectRow(i);
	}

	async #loadLink(): Promise<void> {
		const id = this.#linkId!;
		try {
			this.#link = await remember(getDb(), linkCacheKey(id), await session.api.link(id));
			this.#linkAt = undefined;
		} catch (e) {
			if (errorInfo(e).status !== 0) throw e;
			const cached = await recall<LinkView>(getDb(), linkCacheKey(id));
			this.#link = cached?.value;
			this.#linkAt = cached?.at;
			if (!cached) throw e;
		}
	}

	async #show(summary: ReviewSummary | undefined): Promise<void> {
		this.#summary = summary;
		await this.applyFilter();
		if (this.#selected !== undefined) await this.#selectRow(this.#selected);
	}

	/** Sends the outbox, then has the edge reconcile from fresh snapshots (the admins' "Reload"). */
	async reload(): Promise<void> {
		if (!this.#linkId) return;
		this.#busy = 'reloading';
		this.#error = undefined;
		try {
			await outbox.flush();
			const summary = await reconcileWorker().reload(this.#linkId, session.auth);
			await this.#loadLink();
			await this.#show(summary);
		} catch (e) {
			// A system could not be read: the edge kept the last good read and its plan, which stay
			// on screen; the link's status now says what failed (ReadFailureNote), not an error.
			if (this.#summary && errorInfo(e).status === 502 && errorInfo(e).code === 'source-failed')
				await this.#loadLink().catch((again: unknown) => (this.#error = failed(again)));
			else this.#error = failed(e);
		} finally {
			this.#busy = undefined;
		}
	}

	async applyFilter(): Promise<void> {
		if (!this.#linkId) return;
		this.#total = await reconcileWorker().query(this.#linkId, $state.snapshot(this.filter));
		this.#generation++;
	}

	rows = (start: number, count: number): Promise<ReviewRow[]> =>
		this.#linkId ? reconcileWorker().rows(this.#linkId, start, count) : Promise.resolve([]);

	/** The person opens a pair (or closes it: undefined). */
	async select(i: number | undefined): Promise<void> {
		this.#choices++;
		await this.#selectRow(i);
	}

	async #selectRow(i: number | undefined): Promise<void> {
		this.#selected = i;
		const detail = i === undefined || !this.#linkId ? undefined : await reconcileWorker().detail(this.#linkId, i);
		// A later choice (another pair, or closed) wins over this answer arriving late.
		if (this.#selected === i) this.#detail = detail;
	}

	/**
	 * Keeps the answer in the outbox (sent now if online) with the names on screen, so the outbox
	 * can say to whom, and previews its effect at once.
	 */
	async resolve(resolution: Resolution, conflict?: Conflict): Promise<void> {
		if (!this.#linkId) return;
		await outbox.add(this.#linkId, resolution, conflict, this.#detail ? namesOnScreen(this.#detail) : undefined);
		await this.#afterOutboxChange();
	}

	async dismiss(conflictId: string): Promise<void> {
		if (!this.#linkId) return;
		await outbox.dismiss(this.#linkId, conflictId);
		await this.#afterOutboxChange();
	}

	async #afterOutboxChange(): Promise<void> {
		if (!this.#linkId) return;
		this.#busy = 'previewing';
		try {
			const summary = await reconcileWorker().previewIfPending(this.#linkId);
			await outbox.refresh();
			// The selected pair may have moved (a resolved conflict becomes an update): follow its records.
			await this.#showFollowing(summary);
		} catch (e) {
			this.#error = failed(e);
		} finally {
			this.#busy = undefined;
		}
	}

	async enable(): Promise<void> {
		if (!this.#linkId) return;
		this.#busy = 'enabling';
		this.#error = undefined;
		try {
			this.#link = await remember(getDb(), linkCacheKey(this.#linkId), await session.api.enable(this.#linkId));
		} catch (e) {
			this.#error = failed(e);
		} finally {
			this.#busy = undefined;
		}
	}

	async disable(): Promise<void> {
		if (!this.#linkId) return;
		try {
			this.#link = await remember(getDb(), linkCacheKey(this.#linkId), await session.api.disable(this.#linkId));
		} catch (e) {
			this.#error = failed(e);
		}
	}
}

/** Notes an unreachable edge (errors from the worker's own fetches), then words the error. */
function failed(e: unknown): string {
	if (errorInfo(e).status === 0) network.report(false);
	return describe(e);
}

/** An error in words for the banner. */
export function describe(e: unknown): string {
	const { status, code, message } = errorInfo(e);
	if (status === 0) return 'Offline: showing what this device has stored.';
	if (code === 'requires-action') return 'Sync cannot be enabled while conflicts require action.';
	if (status === 502) return `A system could not be read: ${message} Nothing was written.`;
	return message;
}

export const review = new ReviewManager();
