/**
 * Creating a sandbox system: the AccountDO record (its credentials: a fresh token, sealed like any
 * system's), and its SandboxDO (the token's digest, custom attributes, optional seed records).
 */
import type { Env } from '../env';
import { account, type SystemView } from '../account/account-do';
import { randomToken, sha256Hex } from '../crypto';
import { sealCredentials } from '../systems/credentials';
import { sandboxStub } from '../systems/connect';
import { DomainError } from '../errors';
import type { SandboxRecords } from './sandbox-do';
import { CsvConnector } from '../connectors/csv';
import { HR, OPS, TEAM, drift, hrExport, seedOps, seedTeam } from './seed';
import { DISTRICT, DISTRICT_PEOPLE_MAP, seedDistrict } from './seed-district';

/** The public SCIM base URL of a sandbox system (what external SCIM clients use). */
export const sandboxBaseUrl = (origin: string, systemId: string) =>
	`${origin}/api/sandbox/${encodeURIComponent(systemId)}/scim/v2`;

export interface NewSandbox {
	id: string;
	name: string;
	region: string;
	/** The Worker's own origin, for the system's public base URL. */
	origin: string;
	customAttributes?: string[];
	records?: SandboxRecords;
}

/**
 * Creates the sandbox system and its directory; null when the id is taken. The system is recorded
 * first (one atomic insert decides who creates it, so two racing first starts cannot set up one
 * directory with two tokens), then its directory is set up and seeded; if that fails, the system
 * is deleted again.
 */
export async function createSandbox(env: Env, input: NewSandbox): Promise<SystemView | null> {
	const store = account(env);
	if (await store.getSystem(input.id)) return null;
	const token = randomToken(32);
	const sealedCredentials = await sealCredentials(env, input.id, { token });
	const created = await store.createSystem({
		id: input.id,
		name: input.name,
		connector: 'sandbox',
		baseUrl: sandboxBaseUrl(input.origin, input.id),
		region: input.region,
		sealedCredentials
	});
	if (!created) return null;
	try {
		const stub = sandboxStub(env, input.id);
		await stub.setup({
			systemId: input.id,
			customAttributes: input.customAttributes ?? [],
			internalTokenHash: await sha256Hex(token)
		});
		if (input.records) await stub.seed(input.records);
	} catch (e) {
		await store.deleteSystem(input.id);
		throw e;
	}
	return created;
}

/** What seeding the demo did: the systems created now (existing ones are left alone). */
export interface DemoSeed {
	created: string[];
	existing: string[];
}

/**
 * Creates the demo systems (worker/sandbox/seed.ts) that do not exist yet: Operations Center and
 * Team Manager as seeded sandboxes, the HR export as a csv system with its file uploaded, and
 * Lakeside School District (seed-district.ts), the messaging sandbox rules are tried on.
 * Idempotent: a second call changes nothing.
 */
export async function seedDemo(env: Env, origin: string): Promise<DemoSeed> {
	const store = account(env);
	const result: DemoSeed = { created: [], existing: [] };
	for (const [system, records] of [
		[OPS, seedOps],
		[TEAM, seedTeam]
	] as const) {
		const created = await createSandbox(env, { ...system, origin, records: records() });
		(created ? result.created : result.existing).push(system.id);
	}
	if (await store.getSystem(HR.id)) {
		result.existing.push(HR.id);
	} else {
		const { csv, columns } = hrExport();
		const snapshot = await new CsvConnector({ systemId: HR.id, text: csv, columns }).read();
		await store.createSystem({ id: HR.id, name: HR.name, connector: 'csv', baseUrl: '', region: HR.region });
		await store.putCsv(HR.id, csv, columns, {
			takenAt: snapshot.takenAt,
			version: snapshot.version,
			people: snapshot.people.length,
			groups: snapshot.groups.length,
			memberships: snapshot.memberships.length
		});
		result.created.push(HR.id);
	}
	// The messaging sandbox, its buildings and member types already mapped: rules can be tried at once.
	const district = await createSandbox(env, { ...DISTRICT, origin, records: seedDistrict() });
	if (district) {
		await store.updateSystem(DISTRICT.id, { peopleMap: DISTRICT_PEOPLE_MAP });
		result.created.push(DISTRICT.id);
	} else result.existing.push(DISTRICT.id);
	return result;
}

/** Applies the demo's second phase (seed.ts `drift`) to both sandboxes: per system, what applied and what failed. */
export async function applyDrift(
	env: Env
): Promise<Record<string, { applied: number; failed: { key: string; error: string }[] }>> {
	const { ops, team } = drift();
	const out: Record<string, { applied: number; failed: { key: string; error: string }[] }> = {};
	for (const [system, list] of [
		[OPS, ops],
		[TEAM, team]
	] as const) {
		if (!(await account(env).getSystem(system.id)))
			throw new DomainError(
				'not-found',
				`The demo system "${system.name}" (${system.id}) does not exist; it is created on the first local start.`
			);
		out[system.id] = await sandboxStub(env, system.id).applyOps(list);
	}
	return out;
}
