import { DurableObject } from 'cloudflare:workers';
import type { Env } from './env';

/**
 * One Durable Object per link. It serializes the link's runs and keeps the link's state in its
 * own SQLite storage. For now it holds only a key/value `config` table; baseline, runs, journal
 * and alarms come with the edge issue.
 */
export class LinkDO extends DurableObject<Env> {
	private config = new Map<string, string>();

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		// No request is delivered until the schema exists and the config is in memory.
		ctx.blockConcurrencyWhile(async () => {
			this.ctx.storage.sql.exec(
				'CREATE TABLE IF NOT EXISTS config (key TEXT PRIMARY KEY, value TEXT)'
			);
			for (const row of this.ctx.storage.sql.exec<{ key: string; value: string }>(
				'SELECT key, value FROM config'
			)) {
				this.config.set(row.key, row.value);
			}
		});
	}

	/** The link's configuration entries, values as JSON-decoded. */
	async getConfig(): Promise<Record<string, unknown>> {
		const out: Record<string, unknown> = {};
		for (const [key, value] of this.config) out[key] = JSON.parse(value);
		return out;
	}

	/** Merges `patch` into the configuration; a key set to `undefined` is removed. */
	async setConfig(patch: Record<string, unknown>): Promise<Record<string, unknown>> {
		this.ctx.storage.transactionSync(() => {
			for (const [key, value] of Object.entries(patch)) {
				if (value === undefined) {
					this.ctx.storage.sql.exec('DELETE FROM config WHERE key = ?', key);
				} else {
					this.ctx.storage.sql.exec(
						'INSERT INTO config (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
						key,
						JSON.stringify(value)
					);
				}
			}
		});
		for (const [key, value] of Object.entries(patch)) {
			if (value === undefined) this.config.delete(key);
			else this.config.set(key, JSON.stringify(value));
		}
		return this.getConfig();
	}
}
