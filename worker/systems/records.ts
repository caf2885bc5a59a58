/**
 * The record writer of a system (worker/connectors/records.ts), built like its connector: the
 * credentials opened only here, a sandbox reached through its RPC method, a SCIM system at its
 * checked base URL. A CSV export is a source only and takes no records.
 */
import type { Env } from '../env';
import { account } from '../account/account-do';
import { DomainError } from '../errors';
import { ConnectorError } from '../connectors/types';
import { RecordWriter } from '../connectors/records';
import { openCredentials } from './credentials';
import { SANDBOX_INTERNAL_BASE, allowedUrl, sandboxFetch, sandboxStub } from './connect';

export async function recordWriterFor(env: Env, systemId: string): Promise<RecordWriter> {
	const connection = await account(env).getConnection(systemId);
	if (!connection) throw new DomainError('not-found', `There is no system "${systemId}".`);
	const { system } = connection;
	if (system.connector === 'csv')
		throw new ConnectorError({
			code: 'unsupported',
			system: system.id,
			detail: 'a CSV export is a source only: incident records cannot be written to it'
		});
	if (!connection.sealedCredentials)
		throw new ConnectorError({ code: 'auth', system: system.id, detail: 'no credentials are stored for this system' });
	const { token } = await openCredentials(env, system.id, connection.sealedCredentials);
	return system.connector === 'sandbox'
		? new RecordWriter({
				systemId: system.id,
				baseUrl: SANDBOX_INTERNAL_BASE,
				token,
				fetch: sandboxFetch(sandboxStub(env, system.id))
			})
		: new RecordWriter({ systemId: system.id, baseUrl: allowedUrl(env, system), token });
}
