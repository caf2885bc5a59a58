/**
 * The connector of a system, built at the edge with its decrypted credentials:
 * - scim: the SCIM client over the network (globalThis.fetch);
 * - csv: the stored upload, read-only;
 * - sandbox: the same SCIM client, whose fetch is the SandboxDO's `scim` RPC method (no network
 *   hop: a Worker cannot fetch its own hostname, see STACK.md).
 * Every successful read is recorded as the system's `lastSnapshot`. A SCIM connector scrubs the
 * token from everything the system sends (connectors/scrub.ts), so its errors need nothing more here.
 */
import type { GroupKind, RemoveMode, Snapshot } from '$lib/core/model';
import type { Op, TargetRef } from '$lib/core/ops';
import { VersionAccumulator } from '$lib/core/version';
import type { Env } from '../env';
import { account, type SystemView } from '../account/account-do';
import { DomainError } from '../errors';
import { CsvConnector } from '../connectors/csv';
import { ScimConnector, type FetchLike } from '../connectors/scim';
import { PUBLIC_BASE_HEADER, type SandboxDO } from '../sandbox/sandbox-do';
import type { SandboxResponse } from '../sandbox/scim-rpc';
import {
	ConnectorError,
	type ApplyResult,
	type Capabilities,
	type Connector,
	type SnapshotSink
} from '../connectors/types';
import type { WireLimits } from '../connectors/wire';
import { openCredentials } from './credentials';
import { checkSystemUrl, isLocalDevelopment } from './url';
import { memberTypeValues } from '../connectors/people-map';

/** The base URL the sandbox connector uses; only the path reaches the SandboxDO. */
export const SANDBOX_INTERNAL_BASE = 'https://sandbox.internal/scim/v2';

export interface ConnectOptions {
	/** How a soft removal reaches a SCIM system (the link's removeMode; default deactivate). */
	removeMode?: RemoveMode;
	/** The kind groups read as where the system stores none (default `group`). */
	defaultGroupKind?: GroupKind;
	/** Time and size limits of a SCIM system (tests lower them; see connectors/wire.ts). */
	limits?: Partial<WireLimits>;
}

/** The SandboxDO stub of a sandbox system. */
export const sandboxStub = (env: Pick<Env, 'SANDBOXES'>, systemId: string) => env.SANDBOXES.getByName(systemId);

/**
 * The request headers a sandbox reads; nothing else of a caller's request reaches it. If-Match
 * keeps a paged read on one version of the directory (worker/sandbox/read-views.ts).
 */
const SANDBOX_HEADERS = ['authorization', 'accept', 'content-type', 'content-length', 'if-match', PUBLIC_BASE_HEADER];

/**
 * A fetch answered by a sandbox's `scim` RPC method: the request goes as plain data, the answer
 * comes back as plain data and becomes a Response here. Never stub.fetch(): wrangler dev keeps
 * every Response that passed through it (worker/sandbox/scim-rpc.ts). An aborted `signal` rejects at
 * once, and an answer arriving after that is released.
 */
export function sandboxFetch(stub: DurableObjectStub<SandboxDO>): FetchLike {
	return async (input, init = {}) => {
		init.signal?.throwIfAborted();
		const given = new Headers(init.headers);
		const headers: Record<string, string> = {};
		for (const name of SANDBOX_HEADERS) {
			const value = given.get(name);
			if (value !== null) headers[name] = value;
		}
		const raw = init.body ?? undefined;
		const body =
			raw === undefined || typeof raw === 'string' || raw instanceof ReadableStream ? raw : new Response(raw).body!;
		const url = new URL(input);
		const call = stub.scim({ method: init.method ?? 'GET', path: `${url.pathname}${url.search}`, headers, body });
		const answer = await unlessAborted(call, init.signal ?? undefined);
		return new Response(answer.body, { status: answer.status, headers: answer.headers });
	};
}

/** `call`, or `signal`'s reason as soon as it aborts; a stream in an answer that came too late is cancelled. */
async function unlessAborted<T extends SandboxResponse>(call: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
	if (!signal) return call;
	let onAbort = () => {};
	const aborted = new Promise<never>((_, reject) => {
		onAbort = () => reject(signal.reason);
		signal.addEventListener('abort', onAbort, { once: true });
	});
	try {
		return await Promise.race([call, aborted]);
	} catch (e) {
		if (signal.aborted)
			call.then(
				(late) => (late.body instanceof ReadableStream ? late.body.cancel() : undefined),
				() => undefined
			);
		throw e;
	} finally {
		signal.removeEventListener('abort', onAbort);
	}
}

/**
 * The connector for `systemId`. Throws DomainError not-found for an unknown system, ConnectorError when
 * it cannot be used (no credentials, no upload), CredentialsKeyError without CREDENTIALS_KEY.
 */
export async function connectorFor(env: Env, systemId: string, options: ConnectOptions = {}): Promise<Connector> {
	const connection = await account(env).getConnection(systemId);
	if (!connection) throw new DomainError('not-found', `There is no system "${systemId}".`);
	const { system, fieldMap, peopleMap } = connection;
	let inner: Connector;
	switch (system.connector) {
		case 'csv': {
			if (!connection.csv)
				throw new ConnectorError({
					code: 'invalid',
					system: system.id,
					detail:
						'no export has been uploaded yet (PUT /api/systems/:id/csv): an empty source is never read as "everyone left"'
				});
			// The people map names the columns of buildings and member type over the upload's own map.
			const columns = {
				...connection.csv.columns,
				...(peopleMap?.building ? { buildings: peopleMap.building } : {}),
				...(peopleMap?.memberType ? { memberType: peopleMap.memberType } : {})
			};
			inner = new CsvConnector({
				systemId: system.id,
				text: connection.csv.text,
				columns,
				memberTypes: memberTypeValues(peopleMap)
			});
			break;
		}
		case 'scim':
		case 'sandbox': {
			if (!connection.sealedCredentials)
				throw new ConnectorError({
					code: 'auth',
					system: system.id,
					detail: 'no credentials are stored for this system'
				});
			const { token } = await openCredentials(env, system.id, connection.sealedCredentials);
			const common = {
				systemId: system.id,
				token,
				fieldMap,
				peopleMap,
				removeMode: options.removeMode,
				defaultGroupKind: options.defaultGroupKind,
				limits: options.limits
			};
			if (system.connector === 'scim') {
				inner = new ScimConnector({ ...common, baseUrl: allowedUrl(env, system) });
			} else {
				inner = new ScimConnector({
					...common,
					baseUrl: SANDBOX_INTERNAL_BASE,
					pageSize: 500,
					// A group's entry carries its members: at 60 a group (the bench's 10k-person
					// directory), 50 groups a page keep a page of groups near a page of people in size.
					groupPageSize: 50,
					fetch: sandboxFetch(sandboxStub(env, system.id))
				});
			}
			break;
		}
		default:
			throw new DomainError('invalid', `System "${system.id}" has an unknown connector.`);
	}
	return new RecordingConnector(env, system, inner);
}

/**
 * The base URL of a SCIM system, checked again as it is used: one stored before the edge refused
 * private and metadata addresses (or while it ran locally) is not called.
 */
export function allowedUrl(env: Env, system: SystemView): string {
	try {
		return checkSystemUrl(system.baseUrl, { local: isLocalDevelopment(env) });
	} catch (e) {
		if (!(e instanceof DomainError)) throw e;
		throw new ConnectorError({
			code: 'invalid',
			system: system.id,
			field: 'baseUrl',
			detail: `the stored base URL is not called: ${e.issues?.[0]?.message ?? e.message}`
		});
	}
}

/** Delegates to a connector and records each snapshot it reads on the system. */
class RecordingConnector implements Connector {
	readonly kind: Connector['kind'];
	constructor(
		private readonly env: Env,
		private readonly system: SystemView,
		/** The connector doing the work (a ScimConnector or CsvConnector). */
		readonly inner: Connector
	) {
		this.kind = inner.kind;
	}

	discover(signal?: AbortSignal): Promise<Capabilities> {
		return this.inner.discover(signal);
	}

	capabilities(): Capabilities {
		return this.inner.capabilities();
	}

	/**
	 * Page by page, as the inner connector reads (without it, planning would read a 100k-person
	 * directory whole): the pages pass through to `sink`, counted and versioned for the record.
	 */
	get scan(): Connector['scan'] {
		const inner = this.inner;
		if (!inner.scan) return undefined;
		return async (sink: SnapshotSink, signal?: AbortSignal) => {
			let version = new VersionAccumulator();
			let counts = { people: 0, groups: 0, memberships: 0 };
			const { takenAt } = await inner.scan!(
				{
					restart: () => {
						version = new VersionAccumulator();
						counts = { people: 0, groups: 0, memberships: 0 };
						sink.restart();
					},
					people: (list) => {
						for (const p of list) version.person(p);
						counts.people += list.length;
						sink.people(list);
					},
					groups: (list, memberships) => {
						for (const g of list) version.group(g);
						for (const m of memberships) version.membership(m);
						counts.groups += list.length;
						counts.memberships += memberships.length;
						sink.groups(list, memberships);
					}
				},
				signal
			);
			await account(this.env).recordSnapshot(this.system.id, { takenAt, version: version.value(), ...counts });
			return { takenAt };
		};
	}

	async read(signal?: AbortSignal): Promise<Snapshot> {
		const snapshot = await this.inner.read(signal);
		await account(this.env).recordSnapshot(this.system.id, {
			takenAt: snapshot.takenAt,
			version: snapshot.version,
			people: snapshot.people.length,
			groups: snapshot.groups.length,
			memberships: snapshot.memberships.length
		});
		return snapshot;
	}

	apply(op: Op, resolve: (ref: TargetRef) => string): Promise<ApplyResult> {
		return this.inner.apply(op, resolve);
	}

	/** Batches pass through as the inner connector takes them (see Connector.batching). */
	get batching(): Connector['batching'] {
		return this.inner.batching?.bind(this.inner);
	}

	get applyBatch(): Connector['applyBatch'] {
		return this.inner.applyBatch?.bind(this.inner);
	}
}
