import { createExecutionContext, createScheduledController, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { makeLink, type LinkConfig } from '$lib/core';
import worker from '../../worker/index';
import type { LinkDO } from '../../worker/link/link-do';
import { finish } from '../support/links';

// SELF.scheduled() throws DataCloneError under the pool: call the module's handler directly.
async function cron(at: string): Promise<Record<string, unknown>> {
	const log = vi.spyOn(console, 'log').mockImplementation(() => {});
	const controller = createScheduledController({ scheduledTime: new Date(at), cron: '0 * * * *' });
	await worker.scheduled(controller, env, createExecutionContext());
	const line = log.mock.calls.map((c) => JSON.parse(String(c[0]))).find((l) => l.event === 'scheduled');
	log.mockRestore();
	return line;
}

const stub = (id: string) => env.LINKS.getByName(id);
const alarmOf = (id: string) =>
	runInDurableObject(stub(id), (_i, state) => state.storage.getAlarm()).then((a) =>
		a === null ? null : new Date(a).toISOString()
	);
/** Forgets the link's alarm and planned run, as if the alarm had been lost. */
const loseAlarm = (id: string) =>
	runInDurableObject(stub(id), async (_i: LinkDO, state) => {
		await state.storage.deleteAlarm();
		state.storage.sql.exec("DELETE FROM meta WHERE key = 'nextRunAt'");
	});
/** Sets the link's clock to an instant (the instance keeps it until it is reset). */
const clockAt = (id: string, at: string) =>
	runInDurableObject(stub(id), (instance: LinkDO) => {
		instance.deps = { ...instance.deps, now: () => Date.parse(at) };
	});

/** A link whose systems do not exist: its nightly runs fail before any write, which is fine here. */
async function link(id: string, fields: Partial<LinkConfig> = {}): Promise<void> {
	const config = makeLink({
		id,
		name: id,
		mode: 'provision',
		systems: { a: `${id}-src`, b: `${id}-dst` },
		schedule: { timeZone: 'Europe/Amsterdam', hour: 2, enabled: true },
		...fields
	});
	expect((await stub(id).create({ ...config, enabled: fields.enabled ?? true })).ok).toBe(true);
	await env.ACCOUNT.getByName('account').addLink(id, config.systems);
}

describe('scheduled', () => {
	afterEach(() => vi.restoreAllMocks());

	it('fans out to every link of the account and logs it', async () => {
		await link('sch-enabled');
		await link('sch-disabled', { enabled: false });
		const line = await cron('2027-01-10T01:00:00Z');
		expect(line).toMatchObject({
			event: 'scheduled',
			cron: '0 * * * *',
			at: '2027-01-10T01:00:00.000Z',
			fannedOutTo: 2,
			armed: 1,
			failed: []
		});
		// A link without sync on needs no alarm; one with sync on already had its own.
		expect(await alarmOf('sch-disabled')).toBeNull();
		expect(await alarmOf('sch-enabled')).not.toBeNull();
	});

	it('leaves an alarm that is set alone', async () => {
		const before = await alarmOf('sch-enabled');
		await cron('2027-02-01T05:00:00Z');
		expect(await alarmOf('sch-enabled')).toBe(before);
	});

	// [case, cron instant, first nightly run, the one after]: Amsterdam, 02:00 local.
	const dst = [
		// Clocks go forward on 28 March 2027 (02:00 -> 03:00 CEST): 02:00 does not exist, the run is at 03:00 local.
		['spring forward', '2027-03-27T12:00:00Z', '2027-03-28T01:00:00.000Z', '2027-03-29T00:00:00.000Z'],
		// Clocks go back on 31 October 2027 (03:00 -> 02:00 CET): 02:00 happens twice, the first one runs.
		['fall back', '2027-10-30T12:00:00Z', '2027-10-31T00:00:00.000Z', '2027-11-01T01:00:00.000Z']
	] as const;

	it.each(dst)(
		're-arms a lost alarm and runs nightly at 02:00 Amsterdam time across DST (%s)',
		async (_name, at, first, second) => {
			const id = 'sch-amsterdam';
			if (!(await stub(id).get())) await link(id);
			await loseAlarm(id);
			expect(await alarmOf(id)).toBeNull();

			await cron(at);
			expect(await alarmOf(id)).toBe(first);
			expect((await stub(id).get())!.status.nextRunAt).toBe(first);

			// The alarm rings at that instant: the nightly run starts (its systems are missing, so it
			// fails before any write), and the alarm moves to the next night.
			await clockAt(id, first);
			await finish(id, await startedByAlarm(id));
			const [last] = await stub(id).runs(1);
			expect(last).toMatchObject({
				startedBy: { kind: 'schedule' },
				status: 'failed',
				error: { code: 'source-failed' }
			});
			expect(await alarmOf(id)).toBe(second);
		}
	);

	it('an hour or time zone change moves the planned run', async () => {
		const id = 'sch-amsterdam';
		await clockAt(id, '2027-11-05T12:00:00Z');
		const patched = await stub(id).update({ schedule: { timeZone: 'America/New_York', hour: 23, enabled: true } });
		expect(patched.ok && patched.value.status.nextRunAt).toBe('2027-11-06T03:00:00.000Z');
		expect(await alarmOf(id)).toBe('2027-11-06T03:00:00.000Z');
	});
});

/** Fires the link's alarm once and returns the run it started. */
async function startedByAlarm(id: string): Promise<string> {
	const before = (await stub(id).runs(1))[0]?.id;
	await runInDurableObject(stub(id), async (instance: LinkDO) => {
		await instance.alarm();
	});
	const [run] = await stub(id).runs(1);
	expect(run.id).not.toBe(before);
	return run.id;
}
