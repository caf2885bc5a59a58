/**
 * A system's credentials: accepted by the API, sealed with AES-GCM under CREDENTIALS_KEY (bound
 * to the system's id), stored sealed in the AccountDO, opened only to build a connector.
 */
import type { Env } from '../env';
import { credentialsKey, open, seal } from '../crypto';

export interface Credentials {
	/** The bearer token the connector sends to the system. */
	token: string;
}

const context = (systemId: string) => `rostersync:system:${systemId}:credentials`;

/** Seals credentials for `systemId`; throws CredentialsKeyError when the key is missing. */
export async function sealCredentials(
	env: Pick<Env, 'CREDENTIALS_KEY'>,
	systemId: string,
	credentials: Credentials
): Promise<string> {
	const key = await credentialsKey(env.CREDENTIALS_KEY);
	return seal(key, JSON.stringify({ token: credentials.token }), context(systemId));
}

/** Opens sealed credentials of `systemId`; throws SealError if they were altered or moved. */
export async function openCredentials(
	env: Pick<Env, 'CREDENTIALS_KEY'>,
	systemId: string,
	sealed: string
): Promise<Credentials> {
	const key = await credentialsKey(env.CREDENTIALS_KEY);
	const parsed = JSON.parse(await open(key, sealed, context(systemId))) as Credentials;
	return { token: parsed.token };
}
