/**
 * The hourly cron's only job: make sure every link's Durable Object has its alarm set. Each link
 * decides from its own time zone when its nightly run is due; the cron never starts runs itself.
 */
import type { Env } from '../env';
import { account } from '../account/account-do';
import { mapLimit } from '../connectors/semaphore';

export interface FanOut {
	links: number;
	/** Links whose alarm is set (the ones that need one). */
	armed: number;
	/** Link ids whose Durable Object could not be reached (tried again next hour). */
	failed: string[];
}

/** Calls ensureAlarm on every link of the account, a few at a time; `at` is the cron's scheduled time. */
export async function fanOut(env: Pick<Env, 'ACCOUNT' | 'LINKS'>, at: number, concurrency = 8): Promise<FanOut> {
	const links = await account(env).listLinks();
	const failed: string[] = [];
	const alarms = await mapLimit(links, concurrency, async (link) => {
		try {
			return await env.LINKS.getByName(link.id).ensureAlarm(at);
		} catch (e) {
			failed.push(link.id);
			console.error(
				JSON.stringify({ event: 'fan-out-failed', link: link.id, error: e instanceof Error ? e.message : String(e) })
			);
			return null;
		}
	});
	return { links: links.length, armed: alarms.filter((a) => a !== null).length, failed };
}
