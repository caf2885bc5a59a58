/**
 * A system snapshot held by the caller (If-None-Match) is not read again while its sandbox was
 * not written: the sandbox tells its directory version in one cheap call. A write, or a change of
 * the maps that shape the snapshot, reads it again.
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { STEP } from '$lib/core';
import type { SystemView } from '../../worker/account/account-do';
import { sandboxStub } from '../../worker/systems/connect';
import { roster, sandboxSystem } from '../support/links';
import { api, expectJson, tokenFor } from './support';

let owner: string;
let viewer: string;
let system: SystemView;

beforeAll(async () => {
	[owner, viewer] = await Promise.all([tokenFor('owner'), tokenFor('viewer')]);
	system = await sandboxSystem(roster('sv', 6, 2));
});

const read = (etag?: string) =>
	api(`/api/systems/${system.id}/snapshot`, { token: viewer, headers: etag ? { 'if-none-match': etag } : {} });
const lastRead = async () =>
	(await expectJson<SystemView>(api(`/api/systems/${system.id}`, { token: viewer }), 200)).lastSnapshot?.takenAt;

describe('conditional reads of a sandbox snapshot', () => {
	it('answers 304 without reading while nothing was written, and reads again after a write', async () => {
		const first = await read();
		expect(first.status).toBe(200);
		const etag = first.headers.get('etag')!;
		const { version } = (await first.json()) as { version: string };
		expect(etag).toBe(`W/"${version}"`);
		const readAt = await lastRead();
		expect(readAt).toBeDefined();

		const held = await read(etag);
		expect(held.status).toBe(304);
		expect(await held.text()).toBe('');
		// No read was made: the system's last read is still the first one.
		expect(await lastRead()).toBe(readAt);
		// Without If-None-Match the sandbox is read now, as always.
		await expectJson(read(), 200);
		expect(await lastRead()).not.toBe(readAt);

		await sandboxStub(env, system.id).applyOps([
			{
				key: 'rename',
				side: 'a',
				step: STEP.people,
				type: 'update-person',
				target: { id: 'sv-p1' },
				values: { displayName: 'Renamed One' },
				before: {}
			}
		]);
		const changed = await read(etag);
		expect(changed.status).toBe(200);
		const body = (await changed.json()) as { version: string; people: { id: string; displayName: string }[] };
		expect(body.people.find((p) => p.id === 'sv-p1')?.displayName).toBe('Renamed One');
		expect(changed.headers.get('etag')).toBe(`W/"${body.version}"`);
		expect(body.version).not.toBe(version);
		expect((await read(changed.headers.get('etag')!)).status).toBe(304);
	});

	it.each([
		{ map: 'people map', patch: { peopleMap: { building: 'department' } } },
		{ map: 'field map', patch: { fieldMap: { costCenter: 'title' } } }
	])('reads again when the $map that shapes the snapshot changes', async ({ patch }) => {
		const first = await read();
		const etag = first.headers.get('etag')!;
		expect((await read(etag)).status).toBe(304);
		const readAt = await lastRead();
		await expectJson(api(`/api/systems/${system.id}`, { token: owner, method: 'PATCH', body: patch }), 200);
		const again = await read(etag);
		// Read again (the last read moved); the answer may be the same records, then still a 304.
		expect(await lastRead()).not.toBe(readAt);
		expect([200, 304]).toContain(again.status);
	});
});
