/**
 * Creates and updates through SCIM Bulk (RFC 7644 §3.7), where the server announces it
 * (`ServiceProviderConfig.bulk`): one POST /Bulk carries many operations, and its answer has an
 * outcome per operation. A new person's memberships go in the same request as the create, naming
 * the person by `bulkId:<id>` (§3.7.2), so a new hire's groups cost no request of their own.
 *
 * - Size: at most `maxOperations` operations and `maxPayloadSize` bytes as announced; a refusal
 *   for size (413, 400 `tooMany`) halves the operations per request for this isolate's life.
 * - Outcomes: each operation's own. A create refused as a conflict, a membership PATCH that
 *   failed, and anything the answer does not account for are left to be applied alone, where a
 *   conflict is looked up (the holder named) and a failure names its member exactly.
 * - A server that announces Bulk but refuses /Bulk (404, 405, 501) is not asked again; what
 *   the request carried is applied alone. A request that fails otherwise (no answer in time, a
 *   5xx) halves the size for the next ones, and its operations are applied alone.
 */
import * as v from 'valibot';
import type { Op, TargetRef } from '$lib/core/ops';
import type { ApplyResult, ConnectorErrorCode } from './types';
import { ConnectorError } from './types';
import { PATCH_OP, check } from './scim-schema';
import {
	MappingError,
	groupPatch,
	groupToScim,
	personPatch,
	personToUser,
	type PatchOperation,
	type ScimProfile
} from './scim-map';
import { isSizeRefusal, type ScimWrites } from './scim-batch';
import { Semaphore } from './semaphore';

export const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';

/** What the server announced about Bulk. */
export interface BulkLimits {
	maxOperations: number;
	maxPayloadBytes?: number;
}

export interface BulkWrites extends ScimWrites {
	usersPath: string;
	profile: ScimProfile;
	/** The server has Groups. */
	groups: boolean;
	bulk: BulkLimits;
}

/**
 * Operations per request at most, whatever a server announces: SCIMMY announces 1,000 and then
 * takes over 30 s (a request's time limit) for 1,000 creates on a loaded machine, while 200 go
 * through in a few seconds and already make the creates 200 times fewer requests.
 */
export const BULK_OPERATIONS = 200;

/**
 * One /Bulk request at a time per system: a server works through a bulk request's operations one
 * after the other, so four of them at once only take four times as long each (and ran past the
 * time limit on SCIMMY); other requests to the system still go beside it.
 */
const lanes = new Map<string, Semaphore>();
const laneOf = (systemId: string) => {
	let lane = lanes.get(systemId);
	if (!lane) lanes.set(systemId, (lane = new Semaphore(1)));
	return lane;
};

/** Operations per request learned per system (a refusal halves it), and systems whose /Bulk failed. */
const learned = new Map<string, number>();
const refused = new Set<string>();

/** Operations this system takes per bulk request now (0: none, it has no working Bulk). */
export function bulkSize(systemId: string, limits: BulkLimits | undefined): number {
	if (!limits || refused.has(systemId)) return 0;
	const n = Math.min(limits.maxOperations, BULK_OPERATIONS, learned.get(systemId) ?? BULK_OPERATIONS);
	// A request of one operation is no bulk: the operation goes alone.
	return n < 2 ? 0 : n;
}

/** Forgets what was learned (tests). */
export function forgetBulk(): void {
	learned.clear();
	refused.clear();
}

const BulkResponse = v.looseObject({
	Operations: v.array(
		v.looseObject({
			method: v.nullish(v.string()),
			bulkId: v.nullish(v.string()),
			location: v.nullish(v.string()),
			// A string in RFC 7644; a number, or { code } as in its drafts, from some servers.
			status: v.union([v.string(), v.number(), v.looseObject({ code: v.union([v.string(), v.number()]) })]),
			response: v.nullish(v.unknown())
		})
	)
});
type ResponseOp = v.InferOutput<typeof BulkResponse>['Operations'][number];

interface BulkOp {
	method: 'POST' | 'PATCH';
	path: string;
	bulkId?: string;
	data: unknown;
	/** The batch's operations this one settles. */
	ops: Op[];
	/** What the operation writes, for errors. */
	recordKind: 'person' | 'group';
	recordId: string;
}

const utf8 = new TextEncoder();

/**
 * Applies creates and updates (with the memberships of the people created) through /Bulk. The
 * answer holds the operations it settled; the others are applied alone.
 */
export async function applyBulk(
	w: BulkWrites,
	ops: Op[],
	resolve: (ref: TargetRef) => string,
	signal?: AbortSignal
): Promise<Map<string, ApplyResult | ConnectorError>> {
	const out = new Map<string, ApplyResult | ConnectorError>();
	// Primary operations in order, each with the memberships of the person it creates.
	const primaries: { op: Op; members: Extract<Op, { type: 'add-membership' }>[] }[] = [];
	const byCreator = new Map<string, (typeof primaries)[number]>();
	for (const op of ops) {
		if (op.type === 'add-membership' && 'createdBy' in op.person) {
			byCreator.get(op.person.createdBy)?.members.push(op);
			continue;
		}
		if (
			op.type !== 'create-person' &&
			op.type !== 'update-person' &&
			op.type !== 'create-group' &&
			op.type !== 'update-group'
		)
			continue;
		if ((op.type === 'create-group' || op.type === 'update-group') && !w.groups) continue;
		const entry = { op, members: [] };
		primaries.push(entry);
		if (op.type === 'create-person') byCreator.set(op.key, entry);
	}

	let queue = primaries;
	let retried = false;
	while (queue.length > 0) {
		const size = bulkSize(w.systemId, w.bulk);
		if (size === 0) break;
		const { request, taken } = chunk(w, queue, size, resolve, out);
		queue = queue.slice(taken);
		if (request.length === 0) continue;
		try {
			const answer = await laneOf(w.systemId).run(() =>
				w.request('POST', '/Bulk', {
					body: {
						schemas: [BULK_REQUEST],
						Operations: request.map(({ method, path, bulkId, data }) => ({
							method,
							path,
							...(bulkId ? { bulkId } : {}),
							data
						}))
					},
					context: { recordKind: request[0].recordKind, fields: [], signal }
				})
			);
			settle(w, request, answer, out);
		} catch (e) {
			if (!(e instanceof ConnectorError)) throw e;
			if (isSizeRefusal(e) && request.length > 1) {
				learned.set(w.systemId, Math.max(1, Math.floor(taken / 2)));
				queue = [...primariesOf(request, primaries), ...queue];
				continue;
			}
			if (e.status === 404 || e.status === 405 || e.status === 501) {
				refused.add(w.systemId);
				break;
			}
			if (e.code === 'auth') throw e;
			// Anything else (no answer in time, a 5xx): smaller requests from now on; this one's
			// operations go again, once, in halves (a create the server did make then answers 409
			// and is recognized alone by its externalId), else alone.
			learned.set(w.systemId, Math.floor(taken / 2));
			if (retried || request.length < 2) break;
			retried = true;
			queue = [...primariesOf(request, primaries), ...queue];
		}
	}
	return out;
}

/** The primaries (with their memberships) a request was built from, to build it again smaller. */
function primariesOf(request: BulkOp[], primaries: { op: Op; members: Extract<Op, { type: 'add-membership' }>[] }[]) {
	const keys = new Set(request.flatMap((r) => r.ops.map((op) => op.key)));
	return primaries.filter((p) => keys.has(p.op.key));
}

/**
 * The next request: primaries from the queue while the operation count (creates and updates,
 * plus one PATCH per membership of the people created) and the payload stay within the limits.
 * Each membership PATCH names one new person: RFC 7644 lets one operation carry several
 * `bulkId` references, but SCIMMY resolves only the last of them (and writes the others as
 * they are), so one each is what every server reads alike.
 */
function chunk(
	w: BulkWrites,
	queue: { op: Op; members: Extract<Op, { type: 'add-membership' }>[] }[],
	size: number,
	resolve: (ref: TargetRef) => string,
	out: Map<string, ApplyResult | ConnectorError>
): { request: BulkOp[]; taken: number } {
	const request: BulkOp[] = [];
	const memberPatches: BulkOp[] = [];
	let bytes = 200;
	let taken = 0;
	for (const entry of queue) {
		const one = bulkOpOf(w, entry.op, `b${request.length}`, resolve, out);
		taken++;
		if (!one) continue;
		const patches: BulkOp[] = [];
		if (one.bulkId)
			for (const m of entry.members) {
				let groupId: string;
				try {
					groupId = resolve(m.group);
				} catch {
					continue; // Its group does not exist: left to be applied alone, and skipped there.
				}
				patches.push({
					method: 'PATCH',
					path: `${w.groupsPath}/${encodeURIComponent(groupId)}`,
					data: {
						schemas: [PATCH_OP],
						Operations: [{ op: 'add', path: 'members', value: [{ value: `bulkId:${one.bulkId}` }] }]
					},
					ops: [m],
					recordKind: 'group',
					recordId: groupId
				});
			}
		const cost = [one, ...patches].reduce((n, o) => n + utf8.encode(JSON.stringify(o.data)).byteLength + 120, 0);
		const tooMany = request.length + memberPatches.length + 1 + patches.length > size;
		const tooLarge = w.bulk.maxPayloadBytes !== undefined && bytes + cost > w.bulk.maxPayloadBytes;
		if ((tooMany || tooLarge) && request.length > 0) {
			taken--;
			break;
		}
		// One operation alone over the payload limit: applied alone, outside Bulk.
		if (tooLarge) continue;
		bytes += cost;
		request.push(one);
		// Over the count with its memberships alone: they go alone after the create.
		if (!tooMany) memberPatches.push(...patches);
	}
	// Membership PATCHes after every create they name (servers resolve bulkIds in order or by reference).
	return { request: [...request, ...memberPatches], taken };
}

/** One create or update as a bulk operation; undefined when it goes alone or needs no request. */
function bulkOpOf(
	w: BulkWrites,
	op: Op,
	bulkId: string,
	resolve: (ref: TargetRef) => string,
	out: Map<string, ApplyResult | ConnectorError>
): BulkOp | undefined {
	try {
		switch (op.type) {
			case 'create-person': {
				const data = personToUser(op.record, w.profile);
				const recordId = op.record.externalId ?? String(data.userName);
				return { method: 'POST', path: w.usersPath, bulkId, data, ops: [op], recordKind: 'person', recordId };
			}
			case 'create-group':
				return {
					method: 'POST',
					path: w.groupsPath,
					bulkId,
					data: groupToScim(op.record, w.profile),
					ops: [op],
					recordKind: 'group',
					recordId: op.record.externalId ?? op.record.name
				};
			case 'update-person':
			case 'update-group': {
				const person = op.type === 'update-person';
				const id = resolve(op.target);
				const operations: PatchOperation[] = person
					? personPatch(op.values, w.profile)
					: groupPatch(op.values, w.profile);
				if (operations.length === 0) {
					out.set(op.key, {});
					return undefined;
				}
				return {
					method: 'PATCH',
					path: `${person ? w.usersPath : w.groupsPath}/${encodeURIComponent(id)}`,
					data: { schemas: [PATCH_OP], Operations: operations },
					ops: [op],
					recordKind: person ? 'person' : 'group',
					recordId: id
				};
			}
			default:
				return undefined;
		}
	} catch (e) {
		// Mapping refused it, or its target is not resolved: applied alone, which names the error.
		if (e instanceof MappingError || !(e instanceof ConnectorError)) return undefined;
		throw e;
	}
}

/** Each operation's outcome from the BulkResponse. */
function settle(
	w: BulkWrites,
	request: BulkOp[],
	answer: unknown,
	out: Map<string, ApplyResult | ConnectorError>
): void {
	const parsed = check(BulkResponse, answer);
	if (!parsed.ok) return; // Nothing accounted for: every operation goes alone.
	const answers = parsed.value.Operations;
	const used = new Set<ResponseOp>();
	request.forEach((r, i) => {
		const found =
			(r.bulkId && answers.find((a) => a.bulkId === r.bulkId && !used.has(a))) ||
			(r.method === 'PATCH' &&
				answers.find(
					(a) =>
						!used.has(a) &&
						a.method?.toUpperCase() === 'PATCH' &&
						!!a.location &&
						lastSegment(a.location) === (lastSegment(r.path) ?? '')
				)) ||
			(answers[i] && !used.has(answers[i]) && !answers[i].bulkId === !r.bulkId ? answers[i] : undefined);
		if (!found) return;
		used.add(found);
		const status = Number(typeof found.status === 'object' ? found.status.code : found.status);
		if (status >= 200 && status < 300) {
			if (r.method === 'POST') {
				const id = idOf(found);
				// Created, but which record is not said: the create is looked up when applied alone.
				if (id) out.set(r.ops[0].key, { id });
			} else for (const op of r.ops) out.set(op.key, {});
			return;
		}
		// A conflict is looked up alone (the holder named); a membership PATCH is retried alone.
		if (status === 409 || r.ops.some((op) => op.type === 'add-membership')) return;
		const body = (found.response ?? {}) as { detail?: unknown; scimType?: unknown };
		const detail = typeof body.detail === 'string' ? body.detail.slice(0, 300) : `status ${status}`;
		const scimType = typeof body.scimType === 'string' ? body.scimType.slice(0, 60) : undefined;
		for (const op of r.ops)
			out.set(
				op.key,
				w.error({
					code: codeOf(status),
					recordKind: r.recordKind,
					recordId: r.recordId,
					status,
					scimType,
					retryable: status === 429 || status >= 500,
					detail: `${r.method} ${r.path} in /Bulk: ${detail}`
				})
			);
	});
}

function idOf(found: ResponseOp): string | undefined {
	const response = found.response as { id?: unknown } | null | undefined;
	if (response && typeof response.id === 'string' && response.id !== '') return response.id;
	return found.location ? lastSegment(found.location) : undefined;
}

/**
 * The record id a path or location ends in, decoded: compared whole, so /Users/2 is never taken
 * for /Users/12. Undefined when it is empty or not valid percent-encoding (a server's mistake).
 */
function lastSegment(path: string): string | undefined {
	const last = path
		.replace(/[?#].*$/, '')
		.replace(/\/+$/, '')
		.split('/')
		.pop();
	if (!last) return undefined;
	try {
		return decodeURIComponent(last);
	} catch {
		return undefined;
	}
}

function codeOf(status: number): ConnectorErrorCode {
	if (status === 401 || status === 403) return 'auth';
	if (status === 404) return 'not-found';
	if (status === 409) return 'conflict';
	if (status === 400) return 'invalid';
	if (status === 501) return 'unsupported';
	return 'http';
}
