/** Identity and tokens: who am I, and an owner's issuing and revoking of bearer tokens. */
import * as v from 'valibot';
import { json } from '../http';
import { account } from '../account/account-do';
import { ACCOUNT_ROLES } from '../auth';
import { accessConfig } from '../auth/access';
import { ApiError, parseBody, readJson } from './errors';
import type { Route } from './router';

const NewToken = v.object({
	name: v.pipe(
		v.string('must be a string'),
		v.trim(),
		v.minLength(1, 'must not be empty'),
		v.maxLength(100, 'is longer than 100 characters')
	),
	role: v.picklist(ACCOUNT_ROLES, `must be one of ${ACCOUNT_ROLES.join(', ')}`)
});

export const tokenRoutes: Route[] = [
	{
		method: 'GET',
		path: '/api/me',
		role: 'viewer',
		handler: ({ caller }) => json({ subject: caller.subject, role: caller.role, via: caller.via })
	},
	{
		method: 'GET',
		path: '/api/tokens',
		role: 'owner',
		handler: async ({ env }) => json(await account(env).listTokens())
	},
	{
		method: 'POST',
		path: '/api/tokens',
		role: 'owner',
		handler: async ({ env, request }) => {
			const body = parseBody(NewToken, await readJson(request), 'token');
			const issued = await account(env).issueToken(body);
			return json(issued, 201);
		}
	},
	{
		method: 'DELETE',
		path: '/api/tokens/:id',
		role: 'owner',
		handler: async ({ env, params }) => {
			let viaAccess: boolean;
			try {
				viaAccess = accessConfig(env) !== undefined;
			} catch {
				viaAccess = false;
			}
			const result = await account(env).revokeToken(params.id, viaAccess);
			if (result === 'not-found') throw new ApiError('not-found', `There is no token "${params.id}".`);
			if (result === 'last-owner')
				throw new ApiError(
					'conflict',
					'This is the last active owner token: issue another owner token before revoking it.'
				);
			return new Response(null, { status: 204 });
		}
	}
];
