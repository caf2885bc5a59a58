import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import worker from '../../worker/index';

describe('scheduled', () => {
	afterEach(() => vi.restoreAllMocks());

	// SELF.scheduled() throws DataCloneError under the pool: call the module's handler directly.
	it('runs the hourly fan-out and logs it', async () => {
		const log = vi.spyOn(console, 'log').mockImplementation(() => {});
		const controller = createScheduledController({ scheduledTime: new Date('2026-03-29T01:00:00Z'), cron: '0 * * * *' });
		const ctx = createExecutionContext();
		await worker.scheduled(controller, env, ctx);
		await waitOnExecutionContext(ctx);
		expect(log).toHaveBeenCalledTimes(1);
		expect(JSON.parse(String(log.mock.calls[0][0]))).toMatchObject({
			event: 'scheduled',
			cron: '0 * * * *',
			at: '2026-03-29T01:00:00.000Z'
		});
	});
});
