/**
 * A real SCIM 2.0 server for connector tests: SCIMMY + scimmy-routers on Express 4, with an
 * in-memory store behind SCIMMY's ingress/egress/degress handlers.
 *
 * - Users carry the enterprise extension and the Rostersync User extension (buildings, and two
 *   custom attributes: costCode, seniority as an integer); Groups carry the Rostersync Group
 *   extension (kind, managers). SCIMMY only accepts schema ids under urn:ietf:params:scim:schemas:,
 *   so the extensions use the IETF-prefixed ids the connector also accepts.
 * - Rules a real directory has: userName is unique regardless of case (409 uniqueness), and an
 *   employeeNumber must be digits (400 invalidValue). Deleting a user takes it out of groups.
 *
 * SCIMMY is one global object per process: start one server per test file (vitest isolates files).
 */
import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import SCIMMY from 'scimmy';
import SCIMMYRouters from 'scimmy-routers';

export const SCIMMY_USER_EXT = 'urn:ietf:params:scim:schemas:extension:rostersync:2.0:User';
export const SCIMMY_GROUP_EXT = 'urn:ietf:params:scim:schemas:extension:rostersync:2.0:Group';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

export interface ScimPeer {
	/** The SCIM base URL (…/scim/v2). */
	url: string;
	token: string;
	close(): Promise<void>;
}

type Resource = Record<string, unknown> & { id: string };

export interface ScimmyPeer extends ScimPeer {
	/** The store, for assertions on what the server holds. */
	users: Map<string, Resource>;
	groups: Map<string, Resource>;
	/** Requests received, as "METHOD path?query". */
	log: string[];
}

let started = false;

export async function startScimmy(token = `scimmy-${randomUUID()}`): Promise<ScimmyPeer> {
	if (started) throw new Error('SCIMMY is a process-wide singleton: one server per test file');
	started = true;

	const users = new Map<string, Resource>();
	const groups = new Map<string, Resource>();
	const { Attribute, SchemaDefinition } = SCIMMY.Types;

	const userExt = new SchemaDefinition('RostersyncUser', SCIMMY_USER_EXT, 'Rostersync person attributes', [
		new Attribute('string', 'buildings', { multiValued: true }),
		new Attribute('string', 'costCode'),
		new Attribute('integer', 'seniority')
	]);
	const groupExt = new SchemaDefinition('RostersyncGroup', SCIMMY_GROUP_EXT, 'Rostersync group attributes', [
		new Attribute('string', 'kind'),
		new Attribute('string', 'managers', { multiValued: true })
	]);

	const notFound = (id: string) => new SCIMMY.Types.Error(404, null!, `Resource ${id} not found`);

	function handlers(map: Map<string, Resource>, resourceType: 'User' | 'Group') {
		return {
			egress: (resource: { id?: string; filter?: { match(list: unknown[]): unknown[] } }) => {
				if (resource.id) {
					const found = map.get(resource.id);
					if (!found) throw notFound(resource.id);
					return found;
				}
				const all = [...map.values()];
				return resource.filter ? resource.filter.match(all) : all;
			},
			ingress: (resource: { id?: string }, instance: unknown) => {
				const data = JSON.parse(JSON.stringify(instance)) as Record<string, unknown>;
				if (resource.id && !map.has(resource.id)) throw notFound(resource.id);
				if (resourceType === 'User') {
					const userName = String(data.userName ?? '');
					for (const other of map.values())
						if (other.id !== resource.id && String(other.userName).toLowerCase() === userName.toLowerCase())
							throw new SCIMMY.Types.Error(409, 'uniqueness', `userName "${userName}" is already taken`);
					const employeeNumber = (data[ENTERPRISE] as { employeeNumber?: string } | undefined)?.employeeNumber;
					if (employeeNumber !== undefined && !/^\d+$/.test(employeeNumber))
						throw new SCIMMY.Types.Error(
							400,
							'invalidValue',
							`employeeNumber "${employeeNumber}" must contain digits only`
						);
				}
				const now = new Date().toISOString();
				const previous = resource.id ? map.get(resource.id) : undefined;
				const id = resource.id ?? randomUUID();
				const stored: Resource = {
					...data,
					id,
					meta: { resourceType, created: (previous?.meta as { created?: string })?.created ?? now, lastModified: now }
				};
				map.set(id, stored);
				return stored;
			},
			degress: (resource: { id?: string }) => {
				if (!resource.id || !map.delete(resource.id)) throw notFound(resource.id ?? '');
				if (resourceType === 'User') {
					for (const group of groups.values()) {
						group.members = ((group.members as { value: string }[] | undefined) ?? []).filter(
							(m) => m.value !== resource.id
						);
						const ext = group[SCIMMY_GROUP_EXT] as { managers?: string[] } | undefined;
						if (ext?.managers) ext.managers = ext.managers.filter((m) => m !== resource.id);
					}
				}
			}
		};
	}

	SCIMMY.Resources.declare(SCIMMY.Resources.User, {
		...handlers(users, 'User'),
		extensions: [
			{ schema: SCIMMY.Schemas.EnterpriseUser, required: false },
			{ schema: userExt, required: false }
		]
	} as never);
	SCIMMY.Resources.declare(SCIMMY.Resources.Group, {
		...handlers(groups, 'Group'),
		extensions: [{ schema: groupExt, required: false }]
	} as never);

	const log: string[] = [];
	const app = express();
	app.use((req, _res, next) => {
		log.push(`${req.method} ${req.originalUrl.replace(/^\/scim\/v2/, '')}`);
		next();
	});
	app.use(
		'/scim/v2',
		new SCIMMYRouters({
			type: 'bearer',
			handler: (req) => {
				if (req.header('authorization') !== `Bearer ${token}`) throw new Error('Invalid bearer token');
				return 'rostersync';
			}
		})
	);

	const server: Server = await new Promise((resolve) => {
		const s = app.listen(0, '127.0.0.1', () => resolve(s));
	});
	const { port } = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}/scim/v2`,
		token,
		users,
		groups,
		log,
		close: () =>
			new Promise<void>((resolve, reject) => {
				server.closeAllConnections();
				server.close((e) => (e ? reject(e) : resolve()));
			})
	};
}
