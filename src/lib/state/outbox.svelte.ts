/**
 * The outbox as the page sees it: resolutions waiting to be sent, stale ones back for another
 * look, and the sending itself: when the connection returns (online event), when the app opens,
 * and right after a resolution is made online.
 */
import { ApiError } from '$lib/api/client';
import type { Conflict, Resolution } from '$lib/core';
import {
	dismiss,
	enqueue,
	flush,
	getDb,
	outboxOf,
	type FlushReport,
	type OutboxEntry,
	type RecordName,
	type SendFailure
} from '$lib/db';
import { network } from './network.svelte';
import { session } from './session.svelte';

/** Network failures, auth problems and edge trouble are worth retrying; a refusal is not. */
export function classify(error: unknown): SendFailure {
	if (error instanceof ApiError) {
		if (error.offline) return { retry: true, message: 'Offline: will send when the connection returns.' };
		// The edge had it, but its answer was lost on the way: sent again, like any answer lost.
		if (error.code === 'answer-cut') return { retry: true, message: error.message };
		if (error.status === 401 || error.status === 403) return { retry: true, message: error.message };
		if (error.status === 409 || error.status === 429 || error.status >= 500)
			return { retry: true, message: error.message };
		return {
			retry: false,
			message: error.issues.length ? `${error.message} ${error.issues.map((i) => i.message).join('; ')}` : error.message
		};
	}
	return { retry: true, message: (error as Error)?.message ?? String(error) };
}

export class OutboxManager {
	#entries = $state.raw<OutboxEntry[]>([]);
	#sending = $state(false);
	#last = $state.raw<FlushReport | undefined>();
	#afterFlush = new Set<(report: FlushReport) => void>();
	#again = false;

	get entries(): OutboxEntry[] {
		return this.#entries;
	}
	get pending(): OutboxEntry[] {
		return this.#entries.filter((e) => e.state === 'pending');
	}
	get needsLook(): OutboxEntry[] {
		return this.#entries.filter((e) => e.state !== 'pending');
	}
	get sending(): boolean {
		return this.#sending;
	}
	get last(): FlushReport | undefined {
		return this.#last;
	}

	forLink(linkId: string): OutboxEntry[] {
		return this.#entries.filter((e) => e.linkId === linkId);
	}

	async refresh(): Promise<void> {
		this.#entries = await outboxOf(getDb());
	}

	/** Keeps a person's answer (in IndexedDB first, so nothing is lost), then tries to send it. */
	async add(linkId: string, resolution: Resolution, conflict?: Conflict, who?: RecordName[]): Promise<void> {
		await enqueue(
			getDb(),
			linkId,
			{ ...resolution, by: resolution.by ?? session.me?.subject },
			conflict,
			undefined,
			who
		);
		await this.refresh();
		if (network.online) void this.flush();
	}

	async dismiss(linkId: string, conflictId: string): Promise<void> {
		await dismiss(getDb(), linkId, conflictId);
		await this.refresh();
	}

	/** Sends what waits. Concurrent calls coalesce into one more pass. */
	async flush(): Promise<FlushReport | undefined> {
		if (this.#sending) {
			this.#again = true;
			return undefined;
		}
		if (session.status !== 'signed-in') return undefined;
		this.#sending = true;
		let report: FlushReport | undefined;
		try {
			do {
				this.#again = false;
				report = await flush({
					db: getDb(),
					send: (linkId, resolutions) => session.api.sendResolutions(linkId, resolutions),
					classify
				});
				this.#last = report;
				await this.refresh();
				for (const fn of this.#afterFlush) fn(report);
			} while (this.#again);
		} finally {
			this.#sending = false;
		}
		return report;
	}

	/** Calls `fn` after each flush (the review re-previews and offers Reload). */
	onFlushed(fn: (report: FlushReport) => void): () => void {
		this.#afterFlush.add(fn);
		return () => this.#afterFlush.delete(fn);
	}

	/** Sends on open and each time the connection returns; returns the stop function. */
	start(): () => void {
		void this.refresh().then(() => this.flush());
		const stop = network.onReconnect(() => void this.flush());
		const visible = () => {
			if (document.visibilityState === 'visible' && network.online) void this.flush();
		};
		document.addEventListener('visibilitychange', visible);
		return () => {
			stop();
			document.removeEventListener('visibilitychange', visible);
		};
	}
}

export const outbox = new OutboxManager();
