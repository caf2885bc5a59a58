/**
 * Sign-in links (docs/api.md, "Sign-in links"): an owner issues a one-time code for a role; the
 * app (or `npm start`, for the first owner's phone) shows it as a link and a QR code; whoever
 * opens it exchanges the code once, within minutes, for a bearer token of that role.
 */
import * as v from 'valibot';
import { json } from '../http';
import { account } from '../account/account-do';
import { ACCOUNT_ROLES } from '../auth';
import { sha256Hex } from '../crypto';
import { CODE_MINUTES, normalizeCode, type RedeemRefusal } from '../account/sign-in-codes';
import { ApiError, MAX_PUBLIC_BODY_BYTES, parseBody, readJson } from './errors';
import type { Route } from './router';

const NewCode = v.strictObject(
	{
		name: v.pipe(
			v.string('must be a string'),
			v.trim(),
			v.minLength(1, 'must not be empty'),
			v.maxLength(100, 'is longer than 100 characters')
		),
		role: v.picklist(ACCOUNT_ROLES, `must be one of ${ACCOUNT_ROLES.join(', ')}`),
		minutes: v.optional(
			v.pipe(
				v.number('must be a number of minutes'),
				v.integer('must be a whole number of minutes'),
				v.minValue(1, 'must be at least 1'),
				v.maxValue(CODE_MINUTES.max, `must be at most ${CODE_MINUTES.max}`)
			),
			CODE_MINUTES.default
		)
	},
	'is not a field of a sign-in code'
);

const Exchange = v.strictObject(
	{ code: v.pipe(v.string('must be the code as text'), v.maxLength(100, 'is too long to be a code')) },
	'is not a field of a sign-in'
);

const REFUSED: Record<Exclude<RedeemRefusal, 'rate-limited'>, string> = {
	unknown: 'This sign-in code is not known here. Check it, or ask an owner for a new link.',
	used: 'This sign-in code was used already: each works once. Ask an owner for a new link.',
	expired: 'This sign-in code has expired. Ask an owner for a new link.'
};

export const signInRoutes: Route[] = [
	{
		method: 'POST',
		path: '/api/sign-in-codes',
		role: 'owner',
		handler: async ({ env, request, caller }) => {
			const body = parseBody(NewCode, await readJson(request), 'sign-in code');
			return json(await account(env).issueSignInCode({ ...body, createdBy: caller.subject }, Date.now()), 201);
		}
	},
	{
		method: 'GET',
		path: '/api/sign-in-codes',
		role: 'owner',
		handler: async ({ env }) => json(await account(env).listSignInCodes())
	},
	{
		method: 'POST',
		path: '/api/sign-in',
		role: 'public',
		handler: async ({ env, request }) => {
			const { code } = parseBody(Exchange, await readJson(request, MAX_PUBLIC_BODY_BYTES), 'sign-in');
			const normalized = normalizeCode(code);
			// Cloudflare sets the address; without it (a local test client) all share one counter.
			const client = request.headers.get('cf-connecting-ip') ?? 'unknown';
			const result = await account(env).redeemSignInCode(
				normalized === undefined ? undefined : await sha256Hex(normalized),
				client,
				Date.now()
			);
			if (result.ok) return json(result.token, 201);
			if (result.reason === 'rate-limited')
				throw new ApiError(
					'rate-limited',
					`Too many sign-in attempts that failed: try again in ${Math.ceil((result.retryAfter ?? 60) / 60)} minutes.`,
					undefined,
					{ retryAfter: result.retryAfter }
				);
			throw new ApiError('unauthorized', REFUSED[result.reason], undefined, { reason: result.reason });
		}
	}
];
