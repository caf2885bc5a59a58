/**
 * Memberships of one group as one PATCH carrying many members (RFC 7644 §3.5.2): one `add` with
 * every member to add, or one filtered `remove` per member, in one request. The batches come from
 * the core's planBatches; this sends them and says, member by member, what happened.
 *
 * - Size: at most the size this system is known to take (configured, else a default), and at
 *   most the payload it announced. A refusal for size (413, or 400 `tooMany`) halves the size
 *   for the rest of this isolate's life and the batch goes again in halves.
 * - Failure: a batch refused for its content is split in halves until the member it concerns is
 *   found; that membership fails alone, with an error naming the group and the person. A failure
 *   of the request itself (auth, unreachable, the server's own 5xx) fails every membership of the
 *   batch, each naming its person.
 * - A large group is never read to be written. (The PATCH does not ask for the group back
 *   without its members: SCIMMY applies `excludedAttributes` to the record it patches, so the
 *   members it leaves out would be written back as gone.)
 */
import type { Op, TargetRef } from '$lib/core/ops';
import { isPlainMembership } from '$lib/core/batch';
import type { ApplyResult, ConnectorErrorInit } from './types';
import { ConnectorError } from './types';
import { PATCH_OP } from './scim-schema';
import type { PatchOperation } from './scim-map';

/** Members per PATCH unless a system is configured otherwise (RFC 7644 sets no limit). */
export const DEFAULT_MEMBER_BATCH = 500;

/** What a batch needs of the connector: its requests (wire, retries, scrubbing) and its errors. */
export interface ScimWrites {
	systemId: string;
	groupsPath: string;
	/** Largest request body the server announced (bytes), if any. */
	maxPayloadBytes?: number;
	/** One request through the connector's wire: throws ConnectorError. */
	request(
		method: string,
		path: string,
		init: {
			body?: unknown;
			query?: Record<string, string>;
			context: { recordKind?: 'person' | 'group'; recordId?: string; fields?: string[]; signal?: AbortSignal };
		}
	): Promise<unknown>;
	error(init: Omit<ConnectorErrorInit, 'system'>): ConnectorError;
}

/** Sizes learned per system for the isolate's life (each run slice makes a new connector). */
const learned = new Map<string, number>();

/** How many members this system takes per PATCH now: configured, or lower once it refused more. */
export function memberBatchSize(systemId: string, configured = DEFAULT_MEMBER_BATCH): number {
	return Math.min(configured, learned.get(systemId) ?? configured);
}

/** Forgets what was learned (tests). */
export function forgetLearnedSizes(): void {
	learned.clear();
}

/** A refusal that says the request was too large, not wrong. */
export function isSizeRefusal(e: ConnectorError): boolean {
	return e.status === 413 || (e.status === 400 && e.scimType === 'tooMany');
}

/** The request failed whatever it carried: splitting it would only send the same failure again. */
const failsWhole = (e: ConnectorError) =>
	e.code === 'auth' || e.code === 'unreachable' || e.retryable || (e.status !== undefined && e.status >= 500);

type MemberOp = Extract<Op, { type: 'add-membership' | 'remove-membership' }>;

const utf8 = new TextEncoder();

/**
 * Applies memberships of one group, all added or all removed. Operations it cannot batch (another
 * group, a manager, a person not yet resolved) are left out of the answer: applied alone.
 */
export async function applyMemberBatch(
	w: ScimWrites,
	ops: Op[],
	resolve: (ref: TargetRef) => string,
	configured?: number,
	signal?: AbortSignal
): Promise<Map<string, ApplyResult | ConnectorError>> {
	const out = new Map<string, ApplyResult | ConnectorError>();
	const first = ops[0];
	if (!first || !isPlainMembership(first)) return out;
	let groupId: string;
	try {
		groupId = resolve(first.group);
	} catch {
		return out;
	}
	const members: { op: MemberOp; personId: string }[] = [];
	for (const op of ops) {
		if (!isPlainMembership(op) || op.type !== first.type || op.side !== first.side) continue;
		try {
			if (resolve(op.group) !== groupId) continue;
			members.push({ op, personId: resolve(op.person) });
		} catch {
			continue;
		}
	}
	if (members.length === 0) return out;
	const path = `${w.groupsPath}/${encodeURIComponent(groupId)}`;
	const adding = first.type === 'add-membership';
	const operations = (chunk: typeof members): PatchOperation[] =>
		adding
			? [{ op: 'add', path: 'members', value: chunk.map((m) => ({ value: m.personId })) }]
			: chunk.map((m) => ({ op: 'remove', path: `members[value eq ${JSON.stringify(m.personId)}]` }));
	const bodyOf = (chunk: typeof members) => ({ schemas: [PATCH_OP], Operations: operations(chunk) });
	const fits = (chunk: typeof members) =>
		w.maxPayloadBytes === undefined || utf8.encode(JSON.stringify(bodyOf(chunk))).byteLength <= w.maxPayloadBytes;
	const memberError = (m: (typeof members)[number], e: ConnectorError) =>
		w.error({
			...e.toJSON(),
			recordKind: 'group',
			recordId: groupId,
			field: 'members',
			detail: `${adding ? 'adding' : 'removing'} person ${m.personId}: ${e.detail}`
		});

	const send = async (chunk: typeof members): Promise<void> => {
		const size = memberBatchSize(w.systemId, configured);
		if (chunk.length > 1 && (chunk.length > size || !fits(chunk))) {
			const half = Math.ceil(chunk.length / 2);
			const parts = chunk.length > size ? splitEvery(chunk, size) : [chunk.slice(0, half), chunk.slice(half)];
			for (const part of parts) await send(part);
			return;
		}
		try {
			await w.request('PATCH', path, {
				body: bodyOf(chunk),
				context: { recordKind: 'group', recordId: groupId, fields: ['members'], signal }
			});
			for (const m of chunk) out.set(m.op.key, {});
		} catch (e) {
			if (!(e instanceof ConnectorError)) throw e;
			// Removing what is already gone (a retried removal) is done, not failed.
			if (!adding && e.scimType === 'noTarget' && chunk.length === 1) return void out.set(chunk[0].op.key, {});
			if (chunk.length > 1 && isSizeRefusal(e)) {
				learned.set(w.systemId, Math.max(1, Math.floor(chunk.length / 2)));
				return send(chunk);
			}
			if (chunk.length > 1 && !failsWhole(e)) {
				const half = Math.ceil(chunk.length / 2);
				await send(chunk.slice(0, half));
				await send(chunk.slice(half));
				return;
			}
			for (const m of chunk) out.set(m.op.key, memberError(m, e));
		}
	};
	await send(members);
	return out;
}

function splitEvery<T>(list: T[], size: number): T[][] {
	const parts: T[][] = [];
	for (let i = 0; i < list.length; i += size) parts.push(list.slice(i, i + size));
	return parts;
}
