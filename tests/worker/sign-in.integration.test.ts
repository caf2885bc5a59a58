import { env, exports } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { FAILURE_LIMITS, groupCode, normalizeCode } from '../../worker/account/sign-in-codes';
import { ORIGIN, api, expectJson, tokenFor, unique } from './support';

const accountDO = () => env.ACCOUNT.getByName('account');
/** Each test signs in from its own address, so one test's failures never limit another's. */
const from = () => ({ 'cf-connecting-ip': `198.51.100.${Math.floor(Math.random() * 250) + 1}-${unique('ip')}` });

async function issue(owner: string, body: Record<string, unknown>) {
	return expectJson(api('/api/sign-in-codes', { token: owner, body }), 201);
}

describe('one-time sign-in codes', () => {
	it('an owner issues a code for a role; it signs in once, with that role and name', async () => {
		const owner = await tokenFor('owner');
		const name = unique('Rita (phone)');
		const issued = await issue(owner, { name, role: 'reviewer' });
		expect(issued).toEqual({
			id: expect.stringMatching(/^sic_/),
			name,
			role: 'reviewer',
			createdAt: expect.any(String),
			expiresAt: expect.any(String),
			code: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{20}$/)
		});
		// 15 minutes unless the owner says otherwise.
		expect(Date.parse(issued.expiresAt) - Date.parse(issued.createdAt)).toBe(15 * 60_000);

		const headers = from();
		// As a person types it: grouped, lower case.
		const typed = groupCode(issued.code).toLowerCase();
		const token = await expectJson(api('/api/sign-in', { body: { code: typed }, headers }), 201);
		expect(token).toMatchObject({ name, role: 'reviewer', token: expect.stringMatching(/^[\w-]{43}$/) });
		expect(await expectJson(api('/api/me', { token: token.token }), 200)).toEqual({
			subject: `token:${name}`,
			role: 'reviewer',
			via: 'token'
		});

		// Reuse: refused, and the first token still works.
		const again = await expectJson(api('/api/sign-in', { body: { code: issued.code }, headers }), 401);
		expect(again).toMatchObject({ error: 'unauthorized', reason: 'used', message: expect.stringContaining('used') });
		await expectJson(api('/api/me', { token: token.token }), 200);

		// The owner sees it used, and by which token; never the code.
		const list = await expectJson<any[]>(api('/api/sign-in-codes', { token: owner }), 200);
		expect(list.find((c) => c.id === issued.id)).toEqual({
			id: issued.id,
			name,
			role: 'reviewer',
			createdBy: expect.stringMatching(/^token:/),
			createdAt: issued.createdAt,
			expiresAt: issued.expiresAt,
			usedAt: expect.any(String),
			tokenId: token.id
		});
		expect(JSON.stringify(list)).not.toContain(issued.code);
	});

	it('two exchanges of one code at once: exactly one token', async () => {
		const owner = await tokenFor('owner');
		const { code } = await issue(owner, { name: unique('race'), role: 'viewer' });
		const headers = from();
		const answers = await Promise.all(
			Array.from({ length: 5 }, () => api('/api/sign-in', { body: { code }, headers }).then((r) => r.status))
		);
		expect(answers.filter((s) => s === 201)).toHaveLength(1);
		expect(answers.filter((s) => s === 401)).toHaveLength(4);
	});

	it('an expired code is refused and signs no one in', async () => {
		// Issued 16 minutes ago for 15: expired a minute ago.
		const issued = await accountDO().issueSignInCode(
			{ name: unique('late'), role: 'owner', createdBy: 'test', minutes: 15 },
			Date.now() - 16 * 60_000
		);
		const body = await expectJson(api('/api/sign-in', { body: { code: issued.code }, headers: from() }), 401);
		expect(body).toMatchObject({ reason: 'expired', message: expect.stringContaining('expired') });
		const rows = await runInDurableObject(accountDO(), (_, state) =>
			state.storage.sql.exec('SELECT used_at FROM sign_in_codes WHERE id = ?', issued.id).toArray()
		);
		expect(rows).toEqual([{ used_at: null }]);
	});

	it('stores only the digest of a code', async () => {
		const owner = await tokenFor('owner');
		const issued = await issue(owner, { name: unique('hashed'), role: 'viewer' });
		const rows = await runInDurableObject(accountDO(), (_, state) =>
			state.storage.sql.exec('SELECT * FROM sign_in_codes').toArray()
		);
		expect(JSON.stringify(rows)).not.toContain(issued.code);
		expect(rows.find((r) => r.id === issued.id)!.hash).toMatch(/^[0-9a-f]{64}$/);
	});

	it('only an owner issues codes, and only valid ones', async () => {
		for (const role of ['viewer', 'reviewer'] as const) {
			const token = await tokenFor(role);
			await expectJson(api('/api/sign-in-codes', { token, body: { name: 'x', role: 'viewer' } }), 403);
			await expectJson(api('/api/sign-in-codes', { token }), 403);
		}
		await expectJson(api('/api/sign-in-codes', { body: { name: 'x', role: 'owner' } }), 401);
		const owner = await tokenFor('owner');
		const bad = await expectJson(
			api('/api/sign-in-codes', { token: owner, body: { name: '', role: 'admin', minutes: 600, extra: 1 } }),
			400
		);
		expect(bad.issues.map((i: { field: string }) => i.field).sort()).toEqual(['extra', 'minutes', 'name', 'role']);
	});

	it('failed attempts are limited per address: then even a good code waits', async () => {
		const owner = await tokenFor('owner');
		const headers = from();
		for (let i = 0; i < FAILURE_LIMITS.perClient; i++) {
			const body = await expectJson(
				api('/api/sign-in', { body: { code: i % 2 ? 'not a code' : 'ABCDE-FGHJK-MNPQR-STVWX' }, headers }),
				401
			);
			expect(body.reason).toBe('unknown');
		}
		const { code } = await issue(owner, { name: unique('patient'), role: 'viewer' });
		const res = await api('/api/sign-in', { body: { code }, headers });
		const body = await expectJson(res, 429);
		expect(body).toMatchObject({ error: 'rate-limited', retryAfter: expect.any(Number) });
		expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
		expect(Number(res.headers.get('retry-after'))).toBeLessThanOrEqual(FAILURE_LIMITS.windowMs / 1000);
		// Another address is not held back, and the code was not spent by the refused attempt.
		await expectJson(api('/api/sign-in', { body: { code }, headers: from() }), 201);
	});

	it('a body without a length is read no further than the public limit, and never whole', async () => {
		// 64 KB at a time, up to 32 MB: what a client sending a chunked body that never ends would send.
		let pulled = 0;
		const body = new ReadableStream<Uint8Array>({
			pull(controller) {
				if (pulled >= 32 * 1024 * 1024) return controller.close();
				pulled += 65536;
				controller.enqueue(new Uint8Array(65536).fill(0x20));
			}
		});
		const res = await exports.default.fetch(`${ORIGIN}/api/sign-in`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', ...from() },
			body,
			duplex: 'half'
		} as RequestInit);
		expect(res.status).toBe(400);
		expect(await res.json()).toMatchObject({ message: 'The body is larger than 16384 bytes.' });
		expect(pulled).toBeLessThan(1024 * 1024);
	});

	it('reads codes as people type them', () => {
		expect(normalizeCode('abcde-fghjk mnpqr-stvwx')).toBe('ABCDEFGHJKMNPQRSTVWX');
		expect(normalizeCode('O1ILo-00000-00000-00000')).toBe('01110000000000000000');
		expect(normalizeCode('ABCDE-FGHJK-MNPQR-STVWU')).toBeUndefined();
		expect(normalizeCode('ABCDE')).toBeUndefined();
	});
});
