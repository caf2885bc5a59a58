import { env } from 'cloudflare:workers';
import { abortAllDurableObjects, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { LinkDO } from '../../worker/link-do';

describe('LinkDO config', () => {
	it('stores and returns config over RPC', async () => {
		const stub = env.LINKS.getByName('link-rpc');
		expect(await stub.getConfig()).toEqual({});
		await stub.setConfig({ mode: 'two-way', timeZone: 'Europe/Oslo', limits: { deletePercent: 10 } });
		await stub.setConfig({ mode: 'provision' });
		expect(await stub.getConfig()).toEqual({
			mode: 'provision',
			timeZone: 'Europe/Oslo',
			limits: { deletePercent: 10 }
		});
		await stub.setConfig({ timeZone: undefined });
		expect(await stub.getConfig()).toEqual({ mode: 'provision', limits: { deletePercent: 10 } });
	});

	it('keeps config in its SQLite table, so a fresh instance loads it', async () => {
		const stub = env.LINKS.getByName('link-sql');
		await stub.setConfig({ enabled: true });
		const rows = await runInDurableObject(stub, (instance, state) => {
			expect(instance).toBeInstanceOf(LinkDO);
			return state.storage.sql.exec('SELECT key, value FROM config').toArray();
		});
		expect(rows).toEqual([{ key: 'enabled', value: 'true' }]);
		// Reset every instance (storage survives): the next call constructs a new LinkDO,
		// which reads the table back under blockConcurrencyWhile.
		await abortAllDurableObjects();
		expect(await env.LINKS.getByName('link-sql').getConfig()).toEqual({ enabled: true });
	});
});
