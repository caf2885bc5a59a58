/**
 * The link's schema migrations: a LinkDO created before a migration existed is brought forward on
 * its next start, keeping its data; a start with nothing new runs nothing; a migration that fails
 * leaves nothing of itself and stops the ones after it.
 */
import { env } from 'cloudflare:workers';
import { abortAllDurableObjects, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { makeLink } from '$lib/core';
import type { LinkDO } from '../../worker/link/link-do';
import { LINK_MIGRATIONS, migrate, schemaVersion, type Migration } from '../../worker/link/migrations';
import { finish } from '../support/links';

const NAMES = LINK_MIGRATIONS.map((m) => m.name);

const tables = (sql: SqlStorage) =>
	sql
		.exec<{ name: string }>(
			"SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite%' ORDER BY name"
		)
		.toArray()
		.map((r) => r.name);

/** Empties an object's storage down to nothing of ours (workerd's own `_cf_` tables stay). */
function wipe(sql: SqlStorage): void {
	for (const name of tables(sql)) sql.exec(`DROP TABLE ${name}`);
}

/**
 * Puts a link's storage back to what a LinkDO made before migrations began: the tables of the first
 * migration made on every start, no record of any migration, and the leftovers of older plans.
 */
function atVersionZero(state: DurableObjectState): void {
	const { sql } = state.storage;
	wipe(sql);
	for (const statement of LINK_MIGRATIONS[0].up as readonly string[]) sql.exec(statement);
	sql.exec('CREATE TABLE plan_chunks (seq INTEGER PRIMARY KEY, text TEXT NOT NULL)');
	sql.exec('CREATE TABLE plan_keep (seq INTEGER PRIMARY KEY, entry TEXT NOT NULL)');
}

/** What a fresh instance of the link's Durable Object applied when it started. */
async function restart(id: string): Promise<readonly string[]> {
	await abortAllDurableObjects();
	return runInDurableObject(env.LINKS.getByName(id), (instance: LinkDO) => instance.migrated);
}

describe('a LinkDO created at an old version', () => {
	const id = 'link-migrations';

	it('migrates forward on its next start, its link and runs kept', async () => {
		const stub = env.LINKS.getByName(id);
		const config = makeLink({ id, name: 'Old', mode: 'provision', systems: { a: 'sys-a', b: 'sys-b' } });
		expect((await stub.create(config)).ok).toBe(true);
		const started = await stub.startRun({ dryRun: true, startedBy: { kind: 'person', subject: 't' } });
		// Its systems do not exist: the run fails before any write, which is all a run row needs here.
		await finish(id, started.ok ? started.value.id : '');
		await runInDurableObject(stub, async (_i: LinkDO, state) => {
			// Keep the link and its run; turn everything else back to before migrations.
			const meta = state.storage.sql.exec('SELECT key, value FROM meta').toArray();
			const runs = state.storage.sql.exec('SELECT * FROM runs').toArray();
			await state.storage.deleteAlarm();
			atVersionZero(state);
			for (const m of meta) state.storage.sql.exec('INSERT INTO meta (key, value) VALUES (?, ?)', m.key, m.value);
			// The run as that version stored it: only the columns its runs table had.
			const columns = state.storage.sql
				.exec<{ name: string }>('PRAGMA table_info(runs)')
				.toArray()
				.map((c) => c.name);
			for (const r of runs)
				state.storage.sql.exec(
					`INSERT INTO runs (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
					...columns.map((c) => r[c])
				);
			expect(tables(state.storage.sql)).toContain('plan_chunks');
		});

		expect(await restart(id)).toEqual(NAMES);
		// A fresh stub: one to an object that was aborted stays broken.
		const fresh = env.LINKS.getByName(id);
		await runInDurableObject(fresh, (_i: LinkDO, state) => {
			const names = tables(state.storage.sql);
			expect(names).not.toContain('plan_chunks');
			expect(names).not.toContain('plan_keep');
			const runColumns = state.storage.sql
				.exec<{ name: string }>('PRAGMA table_info(runs)')
				.toArray()
				.map((c) => c.name);
			expect(runColumns).toEqual(expect.arrayContaining(['stop_by', 'stop_at']));
			expect(schemaVersion(state.storage)).toBe(LINK_MIGRATIONS.length);
			expect(
				state.storage.sql
					.exec<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version')
					.toArray()
			).toEqual(NAMES.map((name, i) => ({ version: i + 1, name })));
		});
		expect((await fresh.get())?.config.name).toBe('Old');
		expect(await fresh.runs(5)).toMatchObject([{ status: 'failed', error: { code: 'source-failed' } }]);
	});

	it('runs nothing on a second start', async () => {
		expect(await restart(id)).toEqual([]);
		await runInDurableObject(env.LINKS.getByName(id), (_i: LinkDO, state) => {
			expect(state.storage.sql.exec('SELECT count(*) AS n FROM schema_migrations').one().n).toBe(NAMES.length);
		});
	});

	it('an object part of the way along runs only the migrations after its version', async () => {
		await runInDurableObject(env.LINKS.getByName(id), (_i: LinkDO, state) => {
			atVersionZero(state);
			expect(migrate(state.storage, LINK_MIGRATIONS.slice(0, 1))).toEqual(NAMES.slice(0, 1));
		});
		expect(await restart(id)).toEqual(NAMES.slice(1));
		await runInDurableObject(env.LINKS.getByName(id), (_i: LinkDO, state) => {
			expect(tables(state.storage.sql)).not.toContain('plan_keep');
			expect(schemaVersion(state.storage)).toBe(LINK_MIGRATIONS.length);
		});
	});
});

describe('migrate', () => {
	const good: Migration[] = [
		{ name: 'one', up: ['CREATE TABLE t1 (x INTEGER)'] },
		{ name: 'two', up: (sql) => sql.exec('CREATE TABLE t2 (x INTEGER)') }
	];
	const broken: Migration = {
		name: 'three (broken)',
		up: ['CREATE TABLE t3 (x INTEGER)', 'INSERT INTO no_such_table VALUES (1)']
	};
	const fixed: Migration = { name: 'three', up: ['CREATE TABLE t3 (x INTEGER)'] };
	const after: Migration = { name: 'four', up: ['ALTER TABLE t1 ADD COLUMN y TEXT'] };

	it('runs each migration once, in its own transaction, and stops at one that fails', async () => {
		await runInDurableObject(env.LINKS.getByName('migrations-scratch'), (_i: LinkDO, state) => {
			const { sql } = state.storage;
			wipe(sql);
			expect(schemaVersion(state.storage)).toBe(0);
			expect(migrate(state.storage, good)).toEqual(['one', 'two']);
			expect(migrate(state.storage, good)).toEqual([]);

			// The broken one leaves nothing (t3 is not there) and the one after it waits.
			expect(() => migrate(state.storage, [...good, broken, after])).toThrow(/no_such_table/);
			expect(tables(sql)).toEqual(['schema_migrations', 't1', 't2']);
			expect(schemaVersion(state.storage)).toBe(2);

			// Fixed in the next release, it runs with the rest.
			expect(migrate(state.storage, [...good, fixed, after])).toEqual(['three', 'four']);
			expect(tables(sql)).toEqual(['schema_migrations', 't1', 't2', 't3']);
			expect(
				sql
					.exec('PRAGMA table_info(t1)')
					.toArray()
					.map((c) => c.name)
			).toEqual(['x', 'y']);
			wipe(sql);
		});
	});
});
