/**
 * The connector of a system, built at the edge with its decrypted credentials:
 * - scim: the SCIM client over the network (globalThis.fetch);
 * - csv: the stored upload, read-only;
 * - sandbox: the same SCIM client, whose fetch is the SandboxDO stub's (no network hop: a Worker
 *   cannot fetch its own hostname, see STACK.md).
 * Every successful read is recorded as the system's `lastSnapshot`.
 */
import type { GroupKind, RemoveMode, Snapshot } from '$lib/core/model';
import type { Op, TargetRef } from '$lib/core/ops';
import type { Env } from '../env';
import { account, type SystemView } from '../account/account-do';
import { DomainError } from '../errors';
import { CsvConnector } from '../connectors/csv';
import { ScimConnector } from '../connectors/scim';
import { ConnectorError, type ApplyResult, type Capabilities, type Connector } from '../connectors/types';
import { openCredentials } from './credentials';

/** The base URL the sandbox connector uses; only the path reaches the SandboxDO. */
export const SANDBOX_INTERNAL_BASE = 'https://sandbox.internal/scim/v2';

export interface ConnectOptions {
	/** How a soft removal reaches a SCIM system (the link's removeMode; default deactivate). */
	removeMode?: RemoveMode;
	/** The kind groups read as where the system stores none (default `group`). */
	defaultGroupKind?: GroupKind;
}

/** The SandboxDO stub of a sandbox system. */
export const sandboxStub = (env: Pick<Env, 'SANDBOXES'>, systemId: string) => env.SANDBOXES.getByName(systemId);

/**
 * The connector for `systemId`. Throws DomainError not-found for an unknown system, ConnectorError when
 * it cannot be used (no credentials, no upload), CredentialsKeyError without CREDENTIALS_KEY.
 */
export async function connectorFor(env: Env, systemId: string, options: ConnectOptions = {}): Promise<Connector> {
	const connection = await account(env).getConnection(systemId);
	if (!connection) throw new DomainError('not-found', `There is no system "${systemId}".`);
	const { system, fieldMap } = connection;
	let inner: Connector;
	let secret: string | undefined;
	switch (system.connector) {
		case 'csv': {
			if (!connection.csv)
				throw new ConnectorError({
					code: 'invalid',
					system: system.id,
					detail:
						'no export has been uploaded yet (PUT /api/systems/:id/csv): an empty source is never read as "everyone left"'
				});
			inner = new CsvConnector({ systemId: system.id, text: connection.csv.text, columns: connection.csv.columns });
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
			secret = token;
			const common = {
				systemId: system.id,
				token,
				fieldMap,
				removeMode: options.removeMode,
				defaultGroupKind: options.defaultGroupKind
			};
			if (system.connector === 'scim') {
				inner = new ScimConnector({ ...common, baseUrl: system.baseUrl });
			} else {
				const stub = sandboxStub(env, system.id);
				inner = new ScimConnector({
					...common,
					baseUrl: SANDBOX_INTERNAL_BASE,
					pageSize: 500,
					fetch: (input, init) => stub.fetch(input, init)
				});
			}
			break;
		}
		default:
			throw new DomainError('invalid', `System "${system.id}" has an unknown connector.`);
	}
	return new RecordingConnector(env, system, inner, secret);
}

/**
 * A ConnectorError without the system's token in it. A misbehaving server may echo the request's
 * Authorization header in an error body, which the client quotes as detail: that copy goes.
 */
function scrubbed(e: unknown, secret: string | undefined): unknown {
	if (!secret || !(e instanceof ConnectorError)) return e;
	const hide = (text: string | undefined) => (text === undefined ? undefined : text.split(secret).join('[redacted]'));
	const json = e.toJSON();
	if (!JSON.stringify(json).includes(secret)) return e;
	return new ConnectorError({
		...json,
		detail: hide(json.detail)!,
		recordId: hide(json.recordId),
		field: hide(json.field),
		issues: json.issues?.map((i) => ({ ...i, message: hide(i.message)!, record: hide(i.record), field: hide(i.field) }))
	});
}

/** Delegates to a connector and records each snapshot it reads on the system. */
class RecordingConnector implements Connector {
	readonly kind: Connector['kind'];
	constructor(
		private readonly env: Env,
		private readonly system: SystemView,
		/** The connector doing the work (a ScimConnector or CsvConnector). */
		readonly inner: Connector,
		private readonly secret: string | undefined
	) {
		this.kind = inner.kind;
	}

	private async guard<T>(work: Promise<T>): Promise<T> {
		try {
			return await work;
		} catch (e) {
			throw scrubbed(e, this.secret);
		}
	}

	discover(signal?: AbortSignal): Promise<Capabilities> {
		return this.guard(this.inner.discover(signal));
	}

	capabilities(): Capabilities {
		return this.inner.capabilities();
	}

	async read(signal?: AbortSignal): Promise<Snapshot> {
		const snapshot = await this.guard(this.inner.read(signal));
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
		return this.guard(this.inner.apply(op, resolve));
	}
}
