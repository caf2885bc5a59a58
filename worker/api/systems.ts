/**
 * /api/systems: connected systems. Credentials are write-only: accepted here, sealed at once
 * (worker/systems/credentials.ts), never part of a response, a log line or an error message.
 */
import * as v from 'valibot';
import { CONNECTOR_KINDS } from '$lib/core/model';
import type { SystemCapabilities } from '$lib/api/types';
import { columnChanges, readHeader } from '$lib/api/csv-columns';
import { acceptsGzip, json, jsonText, requestedTags, taggedJson } from '../http';
import { SharedReads, type SharedAnswer } from '../systems/shared-read';
import { SnapshotVersions } from '../systems/snapshot-versions';
import { account, type SystemPatch, type SystemView } from '../account/account-do';
import { CsvConnector, decodeUpload, type CsvColumns } from '../connectors/csv';
import { ConnectorError } from '../connectors/types';
import { randomToken } from '../crypto';
import { sealCredentials } from '../systems/credentials';
import { connectorFor, sandboxStub } from '../systems/connect';
import { assertSameRegion } from '../systems/region';
import { checkSystemUrl, isLocalDevelopment } from '../systems/url';
import { MIN_SECRET_LENGTH } from '../connectors/scrub';
import { createSandbox } from '../sandbox/provision';
import { rulesOf } from '../rules/rules-do';
import { ApiError, MAX_BODY_BYTES, parseBody, readJson } from './errors';
import type { Route } from './router';

/** This isolate's snapshot reads under way, by system (GET /api/systems/:id/snapshot). */
const snapshotReads = new SharedReads();
/** A records version that can stand in an ETag as it is. */
const ETAG_SAFE = /^[\w.:+/=-]{1,120}$/;
/** What this isolate learned of sandboxes' versions by reading them (see SnapshotVersions). */
const snapshotVersions = new SnapshotVersions();

const Name = v.pipe(
	v.string('must be a string'),
	v.trim(),
	v.minLength(1, 'must not be empty'),
	v.maxLength(100, 'is longer than 100 characters')
);
const Region = v.pipe(
	v.string('must be a string'),
	v.trim(),
	v.toLowerCase(),
	v.regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'must be a region code such as "eu" or "us-east"')
);
const BaseUrl = v.pipe(v.string('must be a string'), v.trim(), v.maxLength(2048, 'is longer than 2048 characters'));
const Credentials = v.strictObject(
	{
		token: v.pipe(
			v.string('must be a string'),
			// A shorter one could not be told from ordinary text, so it could not be scrubbed from what a system echoes.
			v.minLength(MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH} characters`),
			v.maxLength(8192, 'is longer than 8192 characters')
		)
	},
	'must be { token } and nothing else'
);
const FieldMap = v.pipe(
	v.record(
		v.pipe(v.string(), v.regex(/^[A-Za-z][\w-]{0,63}$/, 'is not a custom field name')),
		v.pipe(
			v.string('must be a SCIM attribute path'),
			v.minLength(1, 'must not be empty'),
			v.maxLength(256, 'is longer than 256 characters')
		)
	),
	v.check((m) => Object.keys(m).length <= 100, 'maps at most 100 fields')
);

const Source = v.pipe(
	v.string('must be a SCIM attribute path or a CSV column'),
	v.trim(),
	v.minLength(1, 'must not be empty'),
	v.maxLength(256, 'is longer than 256 characters')
);
const Values = v.pipe(
	v.array(v.pipe(v.string('must be text'), v.trim(), v.minLength(1, 'must not be empty')), 'must be a list of values'),
	v.maxLength(50, 'lists more than 50 values')
);
/** Where buildings and member type are read from (worker/connectors/people-map.ts). */
const PeopleMap = v.pipe(
	v.strictObject(
		{
			building: v.optional(Source),
			memberType: v.optional(Source),
			staff: v.optional(Values),
			student: v.optional(Values)
		},
		'is not a field of the people map (building, memberType, staff, student)'
	),
	v.check(
		(m) => !(m.staff ?? []).some((s) => (m.student ?? []).some((t) => t.toLowerCase() === s.toLowerCase())),
		'a value cannot mean both staff and student'
	)
);

const NewSystem = v.strictObject(
	{
		name: Name,
		connector: v.picklist(CONNECTOR_KINDS, `must be one of ${CONNECTOR_KINDS.join(', ')}`),
		baseUrl: v.optional(BaseUrl),
		region: Region,
		credentials: v.optional(Credentials),
		fieldMap: v.optional(FieldMap),
		peopleMap: v.optional(PeopleMap)
	},
	'is not a field of a system'
);

const SystemChanges = v.strictObject(
	{
		name: v.optional(Name),
		baseUrl: v.optional(BaseUrl),
		region: v.optional(Region),
		credentials: v.optional(v.nullable(Credentials)),
		fieldMap: v.optional(FieldMap),
		peopleMap: v.optional(PeopleMap)
	},
	'is not a field that can be changed'
);

const Column = v.pipe(
	v.string('must be a column name'),
	v.trim(),
	v.minLength(1, 'must not be empty'),
	v.maxLength(200, 'is longer than 200 characters')
);
const ColumnMap = v.strictObject(
	{
		externalId: Column,
		displayName: v.optional(Column),
		givenName: v.optional(Column),
		familyName: v.optional(Column),
		email: v.optional(Column),
		phone: v.optional(Column),
		employeeNumber: v.optional(Column),
		memberType: v.optional(Column),
		active: v.optional(Column),
		buildings: v.optional(Column),
		communities: v.optional(Column),
		functions: v.optional(Column),
		custom: v.optional(
			v.record(v.pipe(v.string(), v.regex(/^[A-Za-z][\w-]{0,63}$/, 'is not a custom field name')), Column)
		)
	},
	'is not a field of the column map'
);
const CsvUpload = v.strictObject(
	{
		csv: v.pipe(v.string('must be the file as text'), v.minLength(1, 'must not be empty')),
		// Absent: the map the system kept from its last upload.
		columns: v.optional(ColumnMap)
	},
	'is not a field of an upload'
);

const tooLarge = () => new ApiError('invalid', `The body is larger than ${MAX_BODY_BYTES} bytes.`);

/**
 * An upload as it arrives: JSON `{ csv, columns }` (scripts, curl), or multipart/form-data with
 * the file's own bytes in `file` and the column map as JSON in `columns` (the app). Either is
 * decoded by decodeUpload, never by a replacing decoder (`request.text()`): bytes that are not
 * UTF-8 must reach the parser to be named by row and column, not become U+FFFD on the way.
 */
async function readUpload(request: Request): Promise<unknown> {
	if (Number(request.headers.get('content-length') ?? '0') > MAX_BODY_BYTES) throw tooLarge();
	if (/^multipart\/form-data/i.test(request.headers.get('content-type') ?? '')) {
		const form = await request.formData().catch(() => {
			throw new ApiError('invalid', 'The body is not valid multipart/form-data.');
		});
		// Typed as a string by workers-types (the pre-2021 parser); a file part is a File now.
		const file: unknown = form.get('file');
		if (!(file instanceof File))
			throw new ApiError('invalid', 'Invalid upload: file: must be the file itself.', [
				{ field: 'file', message: 'must be the file itself' }
			]);
		if (file.size > MAX_BODY_BYTES) throw tooLarge();
		let columns: unknown;
		try {
			// No map in the form: the system's saved one is used (see the upload route).
			const raw = form.get('columns');
			columns = raw === null ? undefined : JSON.parse(String(raw));
		} catch {
			throw new ApiError('invalid', 'Invalid upload: columns: must be the column map as JSON.', [
				{ field: 'columns', message: 'must be the column map as JSON' }
			]);
		}
		return {
			csv: decodeUpload(new Uint8Array(await file.arrayBuffer())),
			...(columns === undefined ? {} : { columns })
		};
	}
	const bytes = new Uint8Array(await request.arrayBuffer());
	if (bytes.length > MAX_BODY_BYTES) throw tooLarge();
	const text = decodeUpload(bytes).replace(/^\uFEFF/, '');
	if (text.trim() === '') return undefined;
	try {
		return JSON.parse(text);
	} catch {
		throw new ApiError('invalid', 'The body is not valid JSON.');
	}
}

async function findSystem(env: RouteEnv, id: string): Promise<SystemView> {
	const system = await account(env).getSystem(id);
	if (!system) throw new ApiError('not-found', `There is no system "${id}".`);
	return system;
}

type RouteEnv = Parameters<Route['handler']>[0]['env'];

export const systemRoutes: Route[] = [
	{
		method: 'GET',
		path: '/api/systems',
		role: 'viewer',
		handler: async ({ env }) => json(await account(env).listSystems())
	},
	{
		method: 'POST',
		path: '/api/systems',
		role: 'owner',
		handler: async ({ env, request, url }) => {
			const body = parseBody(NewSystem, await readJson(request), 'system');
			const id = `sys_${randomToken(9)}`;
			if (body.connector === 'sandbox') {
				if (body.credentials)
					throw new ApiError('invalid', 'Invalid system: credentials: a sandbox makes its own token.', [
						{ field: 'credentials', message: 'is not accepted for a sandbox system' }
					]);
				const created = await createSandbox(env, { id, name: body.name, region: body.region, origin: url.origin });
				if (created && body.peopleMap)
					return json(await account(env).updateSystem(id, { peopleMap: body.peopleMap }), 201);
				return json(created, 201);
			}
			let baseUrl = body.baseUrl ?? '';
			if (body.connector === 'scim') baseUrl = checkSystemUrl(body.baseUrl, { local: isLocalDevelopment(env) });
			if (body.connector === 'csv' && body.credentials) {
				throw new ApiError(
					'invalid',
					'Invalid system: credentials: a csv system is an uploaded file and takes no credentials.',
					[{ field: 'credentials', message: 'is not accepted for a csv system' }]
				);
			}
			const sealedCredentials = body.credentials ? await sealCredentials(env, id, body.credentials) : undefined;
			const created = await account(env).createSystem({
				id,
				name: body.name,
				connector: body.connector,
				baseUrl,
				region: body.region,
				fieldMap: body.fieldMap,
				peopleMap: body.peopleMap,
				sealedCredentials
			});
			return json(created, 201);
		}
	},
	{
		method: 'GET',
		path: '/api/systems/:id',
		role: 'viewer',
		handler: async ({ env, params }) => json(await findSystem(env, params.id))
	},
	{
		method: 'PATCH',
		path: '/api/systems/:id',
		role: 'owner',
		handler: async ({ env, request, params }) => {
			const body = parseBody(SystemChanges, await readJson(request), 'system changes');
			const system = await findSystem(env, params.id);
			const patch: SystemPatch = {};
			if (body.name !== undefined) patch.name = body.name;
			if (body.fieldMap !== undefined) patch.fieldMap = body.fieldMap;
			if (body.peopleMap !== undefined) patch.peopleMap = body.peopleMap;
			if (body.baseUrl !== undefined) {
				if (system.connector === 'sandbox')
					throw new ApiError('invalid', 'Invalid system changes: baseUrl: a sandbox lives at its own address.', [
						{ field: 'baseUrl', message: 'cannot be changed for a sandbox system' }
					]);
				patch.baseUrl =
					system.connector === 'scim'
						? checkSystemUrl(body.baseUrl, { local: isLocalDevelopment(env), what: 'system changes' })
						: body.baseUrl;
			}
			if (body.credentials !== undefined) {
				if (system.connector !== 'scim')
					throw new ApiError(
						'invalid',
						`Invalid system changes: credentials: a ${system.connector} system takes no credentials.`,
						[{ field: 'credentials', message: `is not accepted for a ${system.connector} system` }]
					);
				patch.sealedCredentials =
					body.credentials === null ? null : await sealCredentials(env, system.id, body.credentials);
			}
			if (body.region !== undefined && body.region !== system.region) {
				// A linked system keeps the region of the systems it is linked with.
				const links = (await account(env).listLinks()).filter((l) => l.a === system.id || l.b === system.id);
				for (const link of links) {
					const other = await account(env).getSystem(link.a === system.id ? link.b : link.a);
					if (other) assertSameRegion({ ...system, region: body.region }, other);
				}
				patch.region = body.region;
			}
			const updated = await account(env).updateSystem(system.id, patch);
			// Rule previews reuse a recent read; one made under the old map would say the wrong thing.
			if (patch.peopleMap !== undefined) await rulesOf(env, system.id).forgetSnapshot();
			return json(updated);
		}
	},
	{
		method: 'DELETE',
		path: '/api/systems/:id',
		role: 'owner',
		handler: async ({ env, params }) => {
			const system = await findSystem(env, params.id);
			// Its rules own memberships in it: each is turned off (keeping or removing them) and deleted first.
			if ((await account(env).ruleSystems()).includes(system.id)) {
				const rules = await rulesOf(env, system.id).list();
				if (rules.length > 0)
					throw new ApiError(
						'conflict',
						`"${system.name}" has ${rules.length === 1 ? 'an auto-membership rule' : `${rules.length} auto-membership rules`}; turn ${rules.length === 1 ? 'it' : 'them'} off and delete ${rules.length === 1 ? 'it' : 'them'} first.`,
						undefined,
						{ rules: rules.map((r) => r.id) }
					);
			}
			const result = await account(env).deleteSystem(system.id);
			if (result.status === 'not-found') throw new ApiError('not-found', `There is no system "${params.id}".`);
			if (result.status === 'in-use') {
				throw new ApiError(
					'conflict',
					`"${system.name}" is used by ${result.links.length === 1 ? 'a link' : `${result.links.length} links`}; delete ${result.links.length === 1 ? 'it' : 'them'} first.`,
					undefined,
					{ links: result.links }
				);
			}
			if (system.connector === 'sandbox') await sandboxStub(env, system.id).wipe();
			return new Response(null, { status: 204 });
		}
	},
	{
		method: 'PUT',
		path: '/api/systems/:id/csv',
		role: 'owner',
		handler: async ({ env, request, params }) => {
			const body = parseBody(CsvUpload, await readUpload(request), 'upload');
			const system = await findSystem(env, params.id);
			if (system.connector !== 'csv') {
				throw new ApiError(
					'invalid',
					`"${system.name}" is a ${system.connector} system; only csv systems take uploads.`,
					[{ field: 'connector', message: 'must be csv to upload a file' }]
				);
			}
			const saved = await account(env).csvColumns(system.id);
			const columns = (body.columns ?? saved?.columns) as CsvColumns | undefined;
			if (!columns)
				throw new ApiError(
					'invalid',
					`Invalid upload: columns: "${system.name}" has no column map yet; the first upload brings one.`,
					[{ field: 'columns', message: 'is required until an upload has saved one' }]
				);
			let counts;
			try {
				const snapshot = await new CsvConnector({ systemId: system.id, text: body.csv, columns }).read();
				counts = {
					people: snapshot.people.length,
					groups: snapshot.groups.length,
					memberships: snapshot.memberships.length
				};
				await account(env).putCsv(system.id, body.csv, columns, {
					takenAt: snapshot.takenAt,
					version: snapshot.version,
					...counts
				});
			} catch (e) {
				if (e instanceof ConnectorError && e.code === 'invalid') {
					// The connector lists the first problems only; the count says how many there were.
					throw new ApiError(
						'invalid',
						`The file was refused whole: ${e.detail}`,
						e.issues.map((i) => ({ row: i.row, column: i.column, record: i.record, message: i.message })),
						{ issueCount: e.issueCount }
					);
				}
				throw e;
			}
			// What the file brought that the last one lacked, and what it dropped of the map.
			return json({
				...counts,
				columns: saved ? columnChanges(saved, readHeader(body.csv)) : { added: [], missing: [] }
			});
		}
	},
	{
		method: 'GET',
		path: '/api/systems/:id/csv/columns',
		role: 'viewer',
		handler: async ({ env, params }) => {
			const system = await findSystem(env, params.id);
			const saved = system.connector === 'csv' ? await account(env).csvColumns(system.id) : null;
			if (!saved)
				throw new ApiError(
					'not-found',
					system.connector === 'csv'
						? `"${system.name}" has no upload yet: its column map comes with the first one.`
						: `"${system.name}" is a ${system.connector} system; only csv systems have a column map.`
				);
			return json(saved);
		}
	},
	{
		// Asked of the system itself (SCIM discovery; a CSV's column map), so a link is set up with
		// what both ends can hold now, not with what their records happen to carry.
		method: 'GET',
		path: '/api/systems/:id/capabilities',
		role: 'viewer',
		handler: async ({ env, params }) => {
			const connector = await connectorFor(env, params.id);
			const { personFields, customFields, groups, roles, write, softRemove, access } = await connector.discover();
			return json({
				personFields,
				customFields,
				groups,
				roles,
				write,
				softRemove,
				...(access ? { access } : {})
			} satisfies SystemCapabilities);
		}
	},
	{
		method: 'GET',
		path: '/api/systems/:id/snapshot',
		role: 'viewer',
		handler: async ({ env, params, request }) => {
			const held = requestedTags(request);
			const gzip = acceptsGzip(request);
			const tagged = async (version: string, answer: SharedAnswer | null) => {
				const etag = `W/"${version}"`;
				if (!answer || held.includes(`"${version}"`)) return taggedJson({ etag, body: null });
				return taggedJson(
					gzip ? { etag, body: await answer.gzipped(), encoding: 'gzip' } : { etag, body: answer.text }
				);
			};
			// A sandbox's version as this request starts: a write landing later changes it, so a read
			// started now can only ever be paired with the records it got, or be missed.
			const probe = await snapshotVersions.probe(env, params.id);
			// A sandbox written by nobody since the caller's records were read: nothing to read again.
			const records = probe === undefined ? undefined : snapshotVersions.recordsAt(params.id, probe);
			if (records !== undefined && held.includes(`"${records}"`)) return tagged(records, null);
			const answer = await snapshotReads.answer(params.id, async () => {
				const snapshot = await (await connectorFor(env, params.id)).read();
				if (probe !== undefined && ETAG_SAFE.test(snapshot.version))
					snapshotVersions.note(params.id, probe, snapshot.version);
				return snapshot;
			});
			// Weak: a read of the same records taken later differs in its takenAt only. The read is
			// made either way (but see SnapshotVersions); a caller holding these records is not sent
			// them again.
			const { version } = answer;
			if (!version || !ETAG_SAFE.test(version)) return jsonText(answer.text);
			return tagged(version, answer);
		}
	}
];
