/**
 * Incident pushes: when an incident closes in one system, its key data (title, type, start and end,
 * location, the people involved with their roles and times) goes to the other system, as an incident
 * report or as an exercise/event record with attendance. Pure: the payload's validation, the mapping
 * of its people through the link's pairs, the record written, its idempotency key and the retry
 * schedule. The edge (worker/link/incidents.ts) stores, sends and retries.
 */
import * as v from 'valibot';
import type { IncidentTarget } from './model';
import { fnv1a } from './digest';
import { ValidationError } from './schema';

export { INCIDENT_TARGETS, type IncidentConfig, type IncidentTarget } from './model';

const instant = v.pipe(
	v.string('must be an ISO 8601 time'),
	v.isoTimestamp('must be an ISO 8601 time with a zone, e.g. 2026-12-01T10:00:00Z')
);
const text = (max: number) =>
	v.pipe(
		v.string('must be a string'),
		v.trim(),
		v.minLength(1, 'must not be empty'),
		v.maxLength(max, `is longer than ${max} characters`)
	);

/** What the closing system sends (POST /api/links/:id/incidents). */
export const IncidentPayloadSchema = v.pipe(
	v.object({
		id: text(256),
		title: text(512),
		type: text(128),
		startedAt: instant,
		endedAt: instant,
		location: v.optional(v.pipe(v.string('must be a string'), v.maxLength(512, 'is longer than 512 characters'))),
		people: v.pipe(
			v.array(
				v.object({
					id: text(256),
					role: text(128),
					from: v.optional(instant),
					to: v.optional(instant)
				}),
				'must be a list'
			),
			v.maxLength(5000, 'lists more than 5000 people')
		)
	}),
	v.forward(
		v.check((p) => Date.parse(p.endedAt) >= Date.parse(p.startedAt), 'must not be before startedAt'),
		['endedAt']
	)
);
export type IncidentPayload = v.InferOutput<typeof IncidentPayloadSchema>;

/** The payload, or a ValidationError naming each bad field (`people.2.role`). */
export function parseIncident(raw: unknown): IncidentPayload {
	const result = v.safeParse(IncidentPayloadSchema, raw);
	if (result.success) return result.output;
	const id = typeof raw === 'object' && raw && 'id' in raw ? String((raw as { id: unknown }).id) : undefined;
	throw new ValidationError(
		result.issues.map((i) => ({
			record: id ? `incident "${id}"` : 'incident',
			field: (i.path ?? []).map((p) => String((p as { key: unknown }).key)).join('.') || '(payload)',
			message: i.message
		})),
		'Invalid incident'
	);
}

/** One person of the incident as the target gets them: its own id, with role and times. */
export interface Attendee {
	personId: string;
	role: string;
	from: string;
	to: string;
}

/** The record written to the target system. */
export interface IncidentRecord {
	kind: IncidentTarget;
	/** The incident's id in the system it closed in. */
	sourceId: string;
	title: string;
	type: string;
	startedAt: string;
	endedAt: string;
	location?: string;
	/** `report`: the people involved; `event`: the attendance. */
	people: Attendee[];
}

/**
 * The incident's people through the link's pairs (`pairOf`: the id on the target side of the person
 * with this id on the closing side). Those without a pair are named, not guessed: they are left out
 * of the record and listed with the push.
 */
export function mapIncident(
	payload: IncidentPayload,
	as: IncidentTarget,
	pairOf: (id: string) => string | undefined
): { record: IncidentRecord; unmapped: string[] } {
	const people: Attendee[] = [];
	const unmapped: string[] = [];
	const seen = new Set<string>();
	for (const p of payload.people) {
		const target = pairOf(p.id);
		if (target === undefined) {
			if (!unmapped.includes(p.id)) unmapped.push(p.id);
			continue;
		}
		const key = `${target}\u0000${p.role}`;
		if (seen.has(key)) continue;
		seen.add(key);
		people.push({ personId: target, role: p.role, from: p.from ?? payload.startedAt, to: p.to ?? payload.endedAt });
	}
	const record: IncidentRecord = {
		kind: as,
		sourceId: payload.id,
		title: payload.title,
		type: payload.type,
		startedAt: payload.startedAt,
		endedAt: payload.endedAt,
		people
	};
	if (payload.location) record.location = payload.location;
	return { record, unmapped };
}

/**
 * The idempotency key of an incident's push: the link and the incident only, so a retried webhook
 * or a second close of the same incident is the same push, written once.
 */
export const incidentKey = (linkId: string, incidentId: string): string =>
	`incident:${fnv1a(`${linkId}\u0000${incidentId}`)}${fnv1a(`${linkId}\u0000${incidentId}`, 7)}`;

export const PUSH_STATES = ['pending', 'delivered', 'failed'] as const;
export type PushState = (typeof PUSH_STATES)[number];

/** Attempts before a push is left `failed` for an owner to send again. */
export const MAX_PUSH_ATTEMPTS = 6;

/**
 * When the next attempt goes after `attempts` failed ones: 30 s, 1, 2, 4, 8 min (doubling, capped
 * at an hour), with up to 10 % jitter so a target that was down is not hit by every link at once;
 * undefined once the attempts are used up.
 */
export function nextAttemptAt(attempts: number, now: number, random = 0): number | undefined {
	if (attempts >= MAX_PUSH_ATTEMPTS) return undefined;
	const base = Math.min(30_000 * 2 ** Math.max(0, attempts - 1), 3_600_000);
	return now + Math.round(base * (1 + 0.1 * random));
}

/** A push as the app lists it. */
export interface IncidentPush {
	key: string;
	incidentId: string;
	title: string;
	as: IncidentTarget;
	state: PushState;
	attempts: number;
	receivedAt: number;
	updatedAt: number;
	/** Epoch ms of the next automatic attempt (pending only). */
	nextAt?: number;
	lastError?: string;
	/** The record's id in the target system, once written. */
	targetId?: string;
	/** The target system. */
	system: string;
	/** People of the incident the link has no pair for, by their id on the closing side. */
	unmapped: string[];
	/** How many people the record carries. */
	people: number;
	/** Every attempt with its outcome. */
	journal: { at: number; outcome: 'delivered' | 'failed' | 'duplicate'; error?: string; by?: string }[];
}
