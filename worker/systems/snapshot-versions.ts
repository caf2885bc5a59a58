/**
 * Which records a sandbox's directory holds at a given version: a system snapshot read records
 * the sandbox's directory version as the read started and the version of the records it got, so
 * a caller holding those records (If-None-Match) is answered 304 without reading 10k people
 * again while nothing was written. Only sandboxes tell their version cheaply; any other system is
 * read every time. Kept per isolate, small (two strings per system), and never trusted beyond
 * an exact match of the version and of the settings that shape the snapshot.
 */
import type { Env } from '../env';
import { account } from '../account/account-do';
import { sandboxStub } from './connect';

/** Systems remembered at most (the oldest is forgotten first). */
const MAX_SYSTEMS = 1000;

export class SnapshotVersions {
	readonly #records = new Map<string, { probe: string; records: string }>();

	/**
	 * The sandbox's directory version with the settings that shape its snapshot (field and people
	 * maps), or undefined for a system that cannot tell it cheaply.
	 */
	async probe(env: Env, systemId: string): Promise<string | undefined> {
		const shape = await account(env).snapshotShape(systemId);
		if (shape?.connector !== 'sandbox') return undefined;
		const version = await sandboxStub(env, systemId).version();
		return JSON.stringify([version, shape.fieldMap, shape.peopleMap]);
	}

	/** A read that started at `probe` got records of version `records`. */
	note(systemId: string, probe: string, records: string): void {
		this.#records.delete(systemId);
		this.#records.set(systemId, { probe, records });
		if (this.#records.size > MAX_SYSTEMS) this.#records.delete(this.#records.keys().next().value!);
	}

	/** The version of the records `systemId` holds at `probe`, when a read at that version told it. */
	recordsAt(systemId: string, probe: string): string | undefined {
		const known = this.#records.get(systemId);
		return known?.probe === probe ? known.records : undefined;
	}
}
