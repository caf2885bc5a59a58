/**
 * The behaviour every SCIM server must get from the connector, run against each real server
 * (SCIMMY, Better Auth, plain SCIM). What a server cannot store (employee numbers, buildings,
 * kinds, manager roles) is declared in its traits; the suite checks the connector neither
 * invents nor loses it.
 *
 * One server per test file, shared by its tests: every test makes its own records (unique
 * names) and looks only at them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { Group, Membership, Person, Snapshot } from '$lib/core/model';
import { snapshotVersion } from '$lib/core';
import { ConnectorError, type SnapshotSink } from '../../worker/connectors/types';
import { ScimConnector, eq, type FetchLike, type ScimOptions } from '../../worker/connectors/scim';
import type { Clock } from '../../worker/connectors/retry';
import { anonymousAddress } from '../../worker/connectors/scim-map';
import type { ScimPeer } from './scim-scimmy';
import { ops, resolve } from './scim-ops';

export interface ServerTraits {
	name: string;
	start(): Promise<ScimPeer>;
	/** The server keeps a person's employee number (enterprise User extension); unsaid: it does. */
	enterprise?: boolean;
	/** The server keeps a person's buildings (Rostersync User extension). */
	buildings: boolean;
	/** The server keeps group kinds and manager roles (Rostersync Group extension). */
	groupExtension: boolean;
	fieldMap?: Record<string, string>;
}

/** Retries without waiting: tests never sleep. */
export const instantClock: Clock = { now: () => Date.now(), sleep: async () => {}, random: () => 0 };

/** A name no other test uses. */
export const unique = (label: string) => `${label}-${randomUUID().slice(0, 8)}`;

/** Expects `promise` to reject with a ConnectorError and returns it. */
export async function connectorError(promise: Promise<unknown>): Promise<ConnectorError> {
	const error = await promise.then(
		() => undefined,
		(e: unknown) => e
	);
	expect(error, 'expected a ConnectorError').toBeInstanceOf(ConnectorError);
	return error as ConnectorError;
}

/** A fetch that counts requests by "METHOD path" (query left out). */
export function countingFetch(counts: Map<string, number>, inner: FetchLike = (u, i) => fetch(u, i)): FetchLike {
	return (input, init) => {
		const key = `${init.method ?? 'GET'} ${new URL(input).pathname.replace(/.*\/v2/, '')}`;
		counts.set(key, (counts.get(key) ?? 0) + 1);
		return inner(input, init);
	};
}

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const byMembership = (a: Membership, b: Membership) =>
	byId({ id: `${a.groupId}\u0000${a.personId}` }, { id: `${b.groupId}\u0000${b.personId}` });

/**
 * A SnapshotSink that keeps what it is given, as a caller of `scan` would, and how it was used:
 * the calls in order, and any membership naming a person not written before it (never allowed).
 */
export class RecordingSink implements SnapshotSink {
	readonly calls: ('restart' | 'people' | 'groups')[] = [];
	readonly orphans: Membership[] = [];
	records = { people: [] as Person[], groups: [] as Group[], memberships: [] as Membership[] };
	#written = new Set<string>();

	restart(): void {
		this.calls.push('restart');
		this.records = { people: [], groups: [], memberships: [] };
		this.#written.clear();
	}

	people(list: Person[]): void {
		this.calls.push('people');
		for (const p of list) {
			this.records.people.push(p);
			this.#written.add(p.id);
		}
	}

	groups(list: Group[], memberships: Membership[]): void {
		this.calls.push('groups');
		this.records.groups.push(...list);
		this.records.memberships.push(...memberships);
		this.orphans.push(...memberships.filter((m) => !this.#written.has(m.personId)));
	}

	/** What was kept, ordered as `read()` orders a snapshot, with its version. */
	snapshot(): Pick<Snapshot, 'people' | 'groups' | 'memberships' | 'version'> {
		const records = {
			people: [...this.records.people].sort(byId),
			groups: [...this.records.groups].sort(byId),
			memberships: [...this.records.memberships].sort(byMembership)
		};
		return { ...records, version: snapshotVersion(records) };
	}
}

export interface ScimServerHarness {
	peer(): ScimPeer;
	connector(options?: Partial<ScimOptions>): ScimConnector;
	/** Creates a person through the connector and returns its id. */
	createPerson(record?: Partial<Omit<Person, 'id'>>, connector?: ScimConnector): Promise<string>;
}

export function describeScimServer(traits: ServerTraits): ScimServerHarness {
	let peer: ScimPeer | undefined;
	beforeAll(async () => {
		peer = await traits.start();
	});
	afterAll(async () => {
		await peer?.close();
	});

	const harness: ScimServerHarness = {
		peer: () => peer!,
		connector: (options = {}) =>
			new ScimConnector({
				systemId: `${traits.name}-system`,
				baseUrl: peer!.url,
				token: peer!.token,
				clock: instantClock,
				fieldMap: traits.fieldMap,
				...options
			}),
		async createPerson(record = {}, connector = harness.connector()) {
			const handle = unique('p');
			const { id } = await connector.apply(
				ops.createPerson({
					externalId: handle,
					displayName: `Person ${handle}`,
					email: `${handle}@example.org`,
					...record
				}),
				resolve
			);
			expect(id).toBeTypeOf('string');
			return id!;
		}
	};

	const personIn = (snapshot: Snapshot, id: string) => snapshot.people.find((p) => p.id === id);
	const membershipsOf = (snapshot: Snapshot, groupId: string) =>
		// Code-unit order, as Array#sort() orders the expected ids (localeCompare orders case differently).
		snapshot.memberships
			.filter((m) => m.groupId === groupId)
			.sort((a, b) => (a.personId < b.personId ? -1 : a.personId > b.personId ? 1 : 0));

	describe(`SCIM connector against ${traits.name}`, () => {
		it('creates people and groups, then reads them back as they were written', async () => {
			const c = harness.connector();
			const handle = unique('ada');
			const record = {
				externalId: handle,
				displayName: 'Ada Lovelace',
				givenName: 'Ada',
				familyName: 'Lovelace',
				email: `${handle}@example.org`,
				phone: '+44 20 7946 0000',
				employeeNumber: '1815',
				memberType: 'staff' as const,
				buildings: ['north', 'east'],
				active: true
			};
			const { id } = await c.apply(ops.createPerson(record), resolve);
			const other = await harness.createPerson({ memberType: 'student' }, c);
			const group = await c.apply(
				ops.createGroup({ name: unique('Engines'), externalId: unique('g'), kind: 'community' }),
				resolve
			);
			await c.apply(ops.addMembership(group.id!, id!), resolve);
			await c.apply(ops.addMembership(group.id!, other), resolve);

			const snapshot = await c.read();
			expect(personIn(snapshot, id!)).toEqual({
				...record,
				id,
				employeeNumber: traits.enterprise === false ? undefined : record.employeeNumber,
				buildings: traits.buildings ? ['east', 'north'] : undefined
			});
			expect(personIn(snapshot, other)?.memberType).toBe('student');
			expect(snapshot.groups.find((g) => g.id === group.id)?.kind).toBe(traits.groupExtension ? 'community' : 'group');
			expect(membershipsOf(snapshot, group.id!)).toEqual(
				[id!, other].sort().map((personId) => ({ groupId: group.id, personId, role: 'member' }))
			);
			expect(snapshot.system).toBe(`${traits.name}-system`);
		});

		it('updates a person with PATCH: replaced and removed values read back', async () => {
			const c = harness.connector();
			const id = await harness.createPerson({ phone: '+1 555 0100', givenName: 'Grace' }, c);
			const email = `${unique('grace')}@example.org`;
			await c.apply(
				ops.updatePerson(id, {
					displayName: 'Grace Hopper',
					familyName: 'Hopper',
					email,
					phone: null,
					memberType: 'student'
				}),
				resolve
			);
			const person = personIn(await c.read(), id);
			expect(person).toMatchObject({
				displayName: 'Grace Hopper',
				givenName: 'Grace',
				familyName: 'Hopper',
				email,
				memberType: 'student'
			});
			expect(person?.phone).toBeUndefined();
		});

		it('renames a group and adds and removes members', async () => {
			const c = harness.connector();
			const [a, b] = [await harness.createPerson({}, c), await harness.createPerson({}, c)];
			const { id: groupId } = await c.apply(
				ops.createGroup({ name: unique('Night shift'), kind: 'function' }),
				resolve
			);
			await c.apply(ops.addMembership(groupId!, a), resolve);
			await c.apply(ops.addMembership(groupId!, b), resolve);
			// Adding again changes nothing (a retried operation).
			await c.apply(ops.addMembership(groupId!, a), resolve);
			await c.apply(ops.removeMembership(groupId!, b), resolve);
			// Removing again is not an error either.
			await c.apply(ops.removeMembership(groupId!, b), resolve);
			const name = unique('Day shift');
			await c.apply(ops.updateGroup(groupId!, { name }), resolve);

			const snapshot = await c.read();
			expect(snapshot.groups.find((g) => g.id === groupId)?.name).toBe(name);
			expect(membershipsOf(snapshot, groupId!)).toEqual([{ groupId, personId: a, role: 'member' }]);
		});

		it('removes softly with active=false, restores, and deletes in delete mode (twice is fine)', async () => {
			const c = harness.connector();
			const id = await harness.createPerson({}, c);
			await c.apply(ops.removePerson(id, true), resolve);
			expect(personIn(await c.read(), id)?.active).toBe(false);
			await c.apply(ops.restorePerson(id), resolve);
			expect(personIn(await c.read(), id)?.active).toBe(true);

			const deleting = harness.connector({ removeMode: 'delete' });
			await deleting.apply(ops.removePerson(id, true), resolve);
			expect(personIn(await c.read(), id)).toBeUndefined();
			await expect(deleting.apply(ops.removePerson(id, false), resolve)).resolves.toEqual({});
		});

		it('deletes a group', async () => {
			const c = harness.connector();
			const { id } = await c.apply(ops.createGroup({ name: unique('Temp'), kind: 'group' }), resolve);
			await c.apply(ops.removeGroup(id!), resolve);
			expect((await c.read()).groups.some((g) => g.id === id)).toBe(false);
		});

		it('anonymizes: personal values replaced, the user name and email by a reserved placeholder', async () => {
			const c = harness.connector();
			const id = await harness.createPerson({ givenName: 'Alan', familyName: 'Turing', phone: '+44 1 2345' }, c);
			await c.apply(
				ops.anonymizePerson(id, {
					displayName: 'Removed person',
					givenName: null,
					familyName: null,
					email: null,
					phone: null,
					active: 'false'
				}),
				resolve
			);
			const person = personIn(await c.read(), id);
			expect(person).toMatchObject({ displayName: 'Removed person', email: anonymousAddress(id), active: false });
			expect(person?.givenName).toBeUndefined();
			expect(person?.familyName).toBeUndefined();
			expect(person?.phone).toBeUndefined();
			const [found] = await c.findPeople(eq('userName', anonymousAddress(id)));
			expect(found?.id).toBe(id);
		});

		it('adopting checks the record exists; notices are left to the edge', async () => {
			const c = harness.connector();
			const id = await harness.createPerson({}, c);
			await expect(c.apply(ops.adoptPerson(id), resolve)).resolves.toEqual({ id });
			const gone = await connectorError(c.apply(ops.adoptPerson('no-such-person'), resolve));
			expect(gone).toMatchObject({ code: 'not-found', recordKind: 'person', recordId: 'no-such-person' });
			await expect(c.apply(ops.invite(id), resolve)).resolves.toEqual({});
		});

		it('reads every record across pages, each once', async () => {
			const counts = new Map<string, number>();
			const c = harness.connector({ pageSize: 4, fetch: countingFetch(counts) });
			const created = new Set<string>();
			for (let i = 0; i < 9; i++) created.add(await harness.createPerson({}, c));
			counts.clear();
			const snapshot = await c.read();
			const ids = snapshot.people.map((p) => p.id);
			expect(new Set(ids).size).toBe(ids.length);
			for (const id of created) expect(ids).toContain(id);
			expect(counts.get('GET /Users')).toBe(Math.ceil(ids.length / 4));
		});

		it('scans page by page into a sink: the records read() returns, people written before groups', async () => {
			const c = harness.connector({ pageSize: 3 });
			const members = [await harness.createPerson({}, c), await harness.createPerson({}, c)];
			for (let i = 0; i < 5; i++) await harness.createPerson({}, c);
			const { id: groupId } = await c.apply(ops.createGroup({ name: unique('Scanned'), kind: 'group' }), resolve);
			for (const id of members) await c.apply(ops.addMembership(groupId!, id), resolve);

			const sink = new RecordingSink();
			const { takenAt } = await c.scan(sink);
			const read = await c.read();
			expect(Date.parse(takenAt)).not.toBeNaN();
			expect(sink.snapshot()).toEqual({
				people: read.people,
				groups: read.groups,
				memberships: read.memberships,
				version: read.version
			});
			expect(membershipsOf(read, groupId!)).toHaveLength(2);
			// At least 7 people, 3 a page: several pages, each written on its own, and no start over.
			expect(sink.calls.filter((call) => call === 'people').length).toBeGreaterThanOrEqual(3);
			expect(sink.calls).not.toContain('restart');
			expect(sink.calls.indexOf('groups')).toBeGreaterThan(sink.calls.lastIndexOf('people'));
			expect(sink.orphans).toEqual([]);
		});

		it('finds a person by filter', async () => {
			const c = harness.connector();
			const handle = unique('lin');
			const id = await harness.createPerson({ email: `${handle}@example.org`, externalId: handle }, c);
			expect((await c.findPeople(eq('userName', `${handle}@example.org`))).map((p) => p.id)).toEqual([id]);
			expect((await c.findPeople(eq('externalId', handle))).map((p) => p.id)).toEqual([id]);
			expect(await c.findPeople(eq('userName', `${unique('nobody')}@example.org`))).toEqual([]);
		});

		it('a taken userName is a conflict naming the record, the field and the holder', async () => {
			const c = harness.connector();
			const email = `${unique('dup')}@example.org`;
			const holder = await harness.createPerson({ email }, c);
			const error = await connectorError(
				c.apply(ops.createPerson({ externalId: unique('other'), displayName: 'Other', email }), resolve)
			);
			expect(error).toMatchObject({
				code: 'conflict',
				status: 409,
				system: `${traits.name}-system`,
				recordKind: 'person',
				field: 'userName',
				existingId: holder
			});
			expect(error.scimType).toBe('uniqueness');
			expect(error.message).toContain('field userName');
		});

		it('a create whose answer was lost is not created twice: the replay returns the same id', async () => {
			const c = harness.connector();
			const handle = unique('replay');
			const op = ops.createPerson({ externalId: handle, displayName: 'Replay', email: `${handle}@example.org` });
			const first = await c.apply(op, resolve);
			const again = await c.apply(op, resolve);
			expect(again).toEqual(first);
			expect(await c.findPeople(eq('externalId', handle))).toHaveLength(1);
		});

		it('a missing record is not-found, naming the record and the field', async () => {
			const error = await connectorError(
				harness.connector().apply(ops.updatePerson('no-such-id', { displayName: 'X' }), resolve)
			);
			expect(error).toMatchObject({
				code: 'not-found',
				status: 404,
				recordKind: 'person',
				recordId: 'no-such-id',
				field: 'displayName'
			});
		});

		it('one failing record does not stop the others', async () => {
			const c = harness.connector();
			const email = `${unique('taken')}@example.org`;
			await harness.createPerson({ email }, c);
			const handles = [unique('a'), unique('b'), unique('c'), unique('d')];
			const results = await Promise.allSettled([
				...handles.map((h) =>
					c.apply(ops.createPerson({ externalId: h, displayName: h, email: `${h}@example.org` }), resolve)
				),
				c.apply(ops.createPerson({ externalId: unique('clash'), displayName: 'Clash', email }), resolve)
			]);
			expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
			expect((results[4] as PromiseRejectedResult).reason).toBeInstanceOf(ConnectorError);
			const people = (await c.read()).people;
			for (const h of handles) expect(people.some((p) => p.externalId === h)).toBe(true);
		});

		it('a wrong token is an auth error', async () => {
			const error = await connectorError(harness.connector({ token: 'wrong' }).read());
			expect(error).toMatchObject({ code: 'auth', status: 401 });
		});

		it('the snapshot version follows the content, not the listing', async () => {
			const c = harness.connector();
			const first = await c.read();
			expect((await harness.connector({ pageSize: 3 }).read()).version).toBe(first.version);
			await harness.createPerson({}, c);
			expect((await c.read()).version).not.toBe(first.version);
		});
	});

	return harness;
}
