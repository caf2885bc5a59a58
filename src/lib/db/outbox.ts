/**
 * The outbox: resolutions typed in this browser that the edge has not accepted yet. An entry
 * leaves only when the edge accepts it (it then joins the accepted resolutions) or when the person
 * dismisses it; a send that fails for any reason leaves it where it was. IndexedDB keeps it across
 * reloads and closed tabs.
 */
import type { Conflict, Resolution, StaleResolution } from '$lib/core';
import type { OutboxEntry, RecordName, RostersyncDb } from './schema';

/** Puts a person's answer in the outbox, replacing an earlier answer to the same conflict. */
export async function enqueue(
	db: RostersyncDb,
	linkId: string,
	resolution: Resolution,
	conflict?: Conflict,
	now = new Date(),
	who?: RecordName[]
): Promise<OutboxEntry> {
	return db.transaction('rw', db.outbox, async () => {
		const key: [string, string] = [linkId, resolution.conflictId];
		const old = await db.outbox.get(key);
		const at = now.toISOString();
		const entry: OutboxEntry = {
			linkId,
			conflictId: resolution.conflictId,
			resolution: { ...resolution, at: resolution.at ?? at },
			state: 'pending',
			rev: (old?.rev ?? 0) + 1,
			createdAt: old?.createdAt ?? at,
			updatedAt: at,
			attempts: 0,
			conflict: conflict ?? old?.conflict,
			who: who ?? old?.who
		};
		await db.outbox.put(entry);
		return entry;
	});
}

export async function dismiss(db: RostersyncDb, linkId: string, conflictId: string): Promise<void> {
	await db.outbox.delete([linkId, conflictId]);
}

export async function outboxOf(db: RostersyncDb, linkId?: string): Promise<OutboxEntry[]> {
	return linkId ? db.outbox.where('linkId').equals(linkId).toArray() : db.outbox.toArray();
}

export async function pendingCount(db: RostersyncDb): Promise<number> {
	return db.outbox.where('state').equals('pending').count();
}

/** What the edge answers to a batch of resolutions (docs/api.md). */
export interface SendAnswer {
	accepted: string[];
	stale: StaleResolution[];
}

/** A failed send: `retry` keeps the entries pending; otherwise they are marked rejected. */
export interface SendFailure {
	retry: boolean;
	message: string;
}

/** What flushing needs from the outside: one object, so tests pass fakes (STYLE.md). */
export interface FlushDeps {
	db: RostersyncDb;
	/** Sends one link's resolutions; throws a SendFailure-like error (see `classify`). */
	send: (linkId: string, resolutions: Resolution[]) => Promise<SendAnswer>;
	/** Maps a thrown error to retry-or-reject. */
	classify: (error: unknown) => SendFailure;
	now?: () => Date;
}

export interface FlushReport {
	sent: number;
	accepted: number;
	stale: number;
	rejected: number;
	/** Entries still pending because the edge could not be reached or said "later". */
	waiting: number;
	/** Links whose accepted resolutions changed (their plan wants a Reload). */
	links: string[];
}

/** Sends every pending entry, link by link, and files each answer. Never drops an entry on failure. */
export async function flush(deps: FlushDeps): Promise<FlushReport> {
	const { db } = deps;
	const now = () => (deps.now?.() ?? new Date()).toISOString();
	const report: FlushReport = { sent: 0, accepted: 0, stale: 0, rejected: 0, waiting: 0, links: [] };
	const pending = await db.outbox.where('state').equals('pending').toArray();
	const byLink = new Map<string, OutboxEntry[]>();
	for (const e of pending) {
		const list = byLink.get(e.linkId);
		if (list) list.push(e);
		else byLink.set(e.linkId, [e]);
	}
	let unreachable = false;
	for (const [linkId, entries] of byLink) {
		if (unreachable) {
			report.waiting += entries.length;
			continue;
		}
		report.sent += entries.length;
		let answer: SendAnswer;
		try {
			answer = await deps.send(
				linkId,
				entries.map((e) => e.resolution)
			);
		} catch (error) {
			const failure = deps.classify(error);
			if (failure.retry) {
				unreachable = true;
				report.waiting += entries.length;
			} else {
				report.rejected += entries.length;
			}
			await db.transaction('rw', db.outbox, async () => {
				for (const e of entries) {
					const current = await db.outbox.get([linkId, e.conflictId]);
					if (!current || current.rev !== e.rev) continue; // answered again meanwhile: leave the newer one
					await db.outbox.put({
						...current,
						attempts: current.attempts + 1,
						lastError: failure.message,
						state: failure.retry ? 'pending' : 'rejected',
						updatedAt: now()
					});
				}
			});
			continue;
		}
		const accepted = new Set(answer.accepted);
		const stale = new Map(answer.stale.map((s) => [s.resolution.conflictId, s]));
		await db.transaction('rw', db.outbox, db.resolutions, async () => {
			for (const e of entries) {
				const current = await db.outbox.get([linkId, e.conflictId]);
				const unchanged = current !== undefined && current.rev === e.rev;
				if (accepted.has(e.conflictId)) {
					report.accepted++;
					await db.resolutions.put({
						linkId,
						conflictId: e.conflictId,
						resolution: e.resolution,
						acceptedAt: now()
					});
					if (unchanged) await db.outbox.delete([linkId, e.conflictId]);
				} else if (stale.has(e.conflictId)) {
					report.stale++;
					if (unchanged)
						await db.outbox.put({
							...current,
							state: 'stale',
							changed: stale.get(e.conflictId)!.changed,
							attempts: current.attempts + 1,
							lastError: undefined,
							updatedAt: now()
						});
				} else if (unchanged) {
					// Neither accepted nor stale: the edge did not say. Keep it for the next send.
					report.waiting++;
					await db.outbox.put({ ...current, attempts: current.attempts + 1, updatedAt: now() });
				}
			}
		});
		if (accepted.size > 0) report.links.push(linkId);
	}
	return report;
}

/**
 * A reconciliation found some of this browser's resolutions stale (their records changed): move
 * those pending entries to `stale` with what changed, for another look.
 */
export async function markStale(
	db: RostersyncDb,
	linkId: string,
	stale: StaleResolution[],
	now = new Date()
): Promise<void> {
	if (stale.length === 0) return;
	await db.transaction('rw', db.outbox, async () => {
		for (const s of stale) {
			const current = await db.outbox.get([linkId, s.resolution.conflictId]);
			if (!current || current.state !== 'pending') continue;
			await db.outbox.put({ ...current, state: 'stale', changed: s.changed, updatedAt: now.toISOString() });
		}
	});
}
