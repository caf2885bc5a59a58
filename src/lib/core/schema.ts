/**
 * Validation at the edges of the core. Every input (a snapshot from a connector, a link's
 * configuration, a resolution from a browser) is checked here; a failure names the system, the
 * record and the field, and every bad record is reported, not only the first.
 */
import * as v from 'valibot';
import {
	ACCESS_GRANTS,
	INCIDENT_TARGETS,
	GROUP_KINDS,
	GROUP_REMOVAL,
	LINK_MODES,
	MEMBER_TYPES,
	PERSON_FIELDS,
	RECORD_KINDS,
	REMOVE_MODES,
	RESOLUTION_CHOICES,
	ROLES,
	SIDES,
	type LinkConfig,
	type Resolution
} from './model';
import { DEFAULT_PERSON_FIELDS } from './fields';
import { isTimeZone } from './time';

const id = v.pipe(
	v.string(),
	v.trim(),
	v.minLength(1, 'must not be empty'),
	v.maxLength(256, 'is longer than 256 characters')
);
const text = v.pipe(v.string(), v.maxLength(1024, 'is longer than 1024 characters'));
const EMAIL = /^[^\s@]+@[^\s@]+$/;

export const PersonSchema = v.object({
	id,
	externalId: v.optional(id),
	displayName: v.pipe(text, v.trim(), v.minLength(1, 'must not be empty')),
	givenName: v.optional(text),
	familyName: v.optional(text),
	email: v.optional(v.pipe(v.string(), v.trim(), v.regex(EMAIL, 'is not an email address'))),
	phone: v.optional(text),
	employeeNumber: v.optional(text),
	memberType: v.optional(v.picklist(MEMBER_TYPES, `must be one of ${MEMBER_TYPES.join(', ')}`)),
	buildings: v.optional(v.array(id)),
	active: v.boolean('must be true or false'),
	custom: v.optional(v.record(v.string(), text)),
	access: v.optional(v.boolean('must be true or false'))
});

export const GroupSchema = v.object({
	id,
	externalId: v.optional(id),
	name: v.pipe(text, v.trim(), v.minLength(1, 'must not be empty')),
	kind: v.picklist(GROUP_KINDS, `must be one of ${GROUP_KINDS.join(', ')}`)
});

export const MembershipSchema = v.object({
	groupId: id,
	personId: id,
	role: v.picklist(ROLES, `must be one of ${ROLES.join(', ')}`)
});

/** One problem with one input, in words an admin can act on. */
export interface InputIssue {
	system?: string;
	/** e.g. `person "p-17"` or `people[17]` when the record has no usable id. */
	record: string;
	field: string;
	message: string;
}

export class ValidationError extends Error {
	constructor(
		readonly issues: InputIssue[],
		what: string
	) {
		const shown = issues.slice(0, 5).map(formatIssue).join('; ');
		super(
			`${what}: ${issues.length} problem${issues.length === 1 ? '' : 's'}: ${shown}${issues.length > 5 ? '; …' : ''}`
		);
		this.name = 'ValidationError';
	}
}

export const formatIssue = (i: InputIssue): string =>
	`${i.system ? `${i.system}: ` : ''}${i.record}, field "${i.field}" ${i.message}`;

const pathOf = (issue: v.BaseIssue<unknown>): string =>
	(issue.path ?? []).map((p) => String((p as { key: unknown }).key)).join('.') || '(record)';

/** Validates a list of records, collecting every issue. */
export function validateRecords<S extends v.GenericSchema>(
	schema: S,
	records: unknown,
	label: string,
	describe: (raw: unknown, index: number) => string,
	system?: string
): { ok: v.InferOutput<S>[]; issues: InputIssue[] } {
	const issues: InputIssue[] = [];
	const ok: v.InferOutput<S>[] = [];
	if (!Array.isArray(records)) {
		return { ok, issues: [{ system, record: label, field: label, message: 'must be a list' }] };
	}
	records.forEach((raw, index) => {
		const result = v.safeParse(schema, raw);
		if (result.success) ok.push(result.output);
		else
			for (const issue of result.issues)
				issues.push({ system, record: describe(raw, index), field: pathOf(issue), message: issue.message });
	});
	return { ok, issues };
}

const DeletionLimitSchema = v.object({
	count: v.pipe(v.number(), v.integer(), v.minValue(0)),
	percent: v.pipe(v.number(), v.minValue(0), v.maxValue(100))
});

const matchField = v.union([
	v.picklist(['externalId', 'email', 'employeeNumber', 'displayName'] as const),
	v.pipe(v.string(), v.regex(/^custom:.+$/, 'must be externalId, email, employeeNumber, displayName or custom:<field>'))
]);

/** Who gets access on which side; the per-person keys name a side and that side's id. */
export const AccessConfigSchema = v.object({
	side: v.optional(v.picklist(SIDES, 'must be a or b'), 'b'),
	grant: v.optional(v.picklist(ACCESS_GRANTS, `must be one of ${ACCESS_GRANTS.join(', ')}`), 'nobody'),
	groups: v.optional(v.pipe(v.array(id), v.maxLength(1000, 'lists more than 1000 groups')), []),
	people: v.optional(
		v.record(
			v.pipe(v.string(), v.regex(/^[ab]:.+$/, 'keys must be a:<person id> or b:<person id>')),
			v.boolean('must be true (grant) or false (never grant)')
		),
		{}
	)
});

const limit = (count = 500, percent = 20) => v.optional(DeletionLimitSchema, { count, percent });
/** Creations may be counted past 100 % of what a link owns (growth has no ceiling, loss has). */
const creationLimit = () =>
	v.optional(
		v.object({
			count: v.pipe(v.number(), v.integer(), v.minValue(0)),
			percent: v.pipe(v.number(), v.minValue(0), v.maxValue(100_000))
		}),
		{ count: 500, percent: 100 }
	);

export const LinkConfigSchema = v.object({
	id,
	name: v.pipe(text, v.trim(), v.minLength(1, 'must not be empty')),
	mode: v.picklist(LINK_MODES),
	systems: v.object({ a: id, b: id }),
	kinds: v.optional(v.pipe(v.array(v.picklist(RECORD_KINDS)), v.minLength(1, 'must name at least one kind')), [
		'group',
		'person'
	]),
	match: v.optional(
		v.object({
			person: v.optional(matchField, 'email'),
			group: v.optional(v.picklist(['externalId', 'name'] as const), 'externalId')
		}),
		{ person: 'email', group: 'externalId' }
	),
	normalization: v.optional(
		v.record(
			v.string(),
			v.object({ caseFold: v.boolean(), collapseSpace: v.boolean(), digitsOnly: v.optional(v.boolean()) })
		),
		{}
	),
	personFields: v.optional(v.array(v.picklist(PERSON_FIELDS)), () => [...DEFAULT_PERSON_FIELDS]),
	fieldMap: v.optional(v.array(v.object({ a: id, b: id })), []),
	authority: v.optional(
		v.object({
			default: v.optional(v.picklist(SIDES), 'a'),
			fields: v.optional(v.record(v.string(), v.picklist(SIDES)), {})
		}),
		{ default: 'a', fields: {} }
	),
	schedule: v.optional(
		v.object({
			timeZone: v.optional(v.pipe(v.string(), v.check(isTimeZone, 'is not an IANA time zone')), 'UTC'),
			hour: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(23)), 2),
			enabled: v.optional(v.boolean(), true)
		}),
		{ timeZone: 'UTC', hour: 2, enabled: true }
	),
	limits: v.optional(v.object({ person: limit(), group: limit(), membership: limit() }), {
		person: { count: 500, percent: 20 },
		group: { count: 500, percent: 20 },
		membership: { count: 500, percent: 20 }
	}),
	creationLimits: v.optional(v.object({ person: creationLimit(), group: creationLimit() }), {
		person: { count: 500, percent: 100 },
		group: { count: 500, percent: 100 }
	}),
	retentionDays: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(3650)), 30),
	removeMode: v.optional(v.picklist(REMOVE_MODES), 'deactivate'),
	groupRemoval: v.optional(
		v.object({
			group: v.optional(v.picklist(GROUP_REMOVAL), 'delete'),
			community: v.optional(v.picklist(GROUP_REMOVAL), 'delete'),
			function: v.optional(v.picklist(GROUP_REMOVAL), 'delete'),
			'message-group': v.optional(v.picklist(GROUP_REMOVAL), 'delete')
		}),
		{ group: 'delete', community: 'delete', function: 'delete', 'message-group': 'delete' }
	),
	enabled: v.optional(v.boolean(), false),
	access: v.optional(AccessConfigSchema),
	incidents: v.optional(
		v.object({
			from: v.optional(v.picklist(SIDES, 'must be a or b'), 'a'),
			as: v.optional(v.picklist(INCIDENT_TARGETS, `must be one of ${INCIDENT_TARGETS.join(', ')}`), 'report')
		})
	)
});

/** A link's configuration with every default filled in, or a ValidationError naming each field. */
export function parseLinkConfig(input: unknown): LinkConfig {
	const result = v.safeParse(LinkConfigSchema, input);
	if (!result.success) {
		const record =
			typeof input === 'object' && input && 'id' in input ? `link "${String((input as { id: unknown }).id)}"` : 'link';
		throw new ValidationError(
			result.issues.map((i) => ({ record, field: pathOf(i), message: i.message })),
			'Invalid link configuration'
		);
	}
	const link = result.output as LinkConfig;
	if (link.access?.grant === 'groups' && link.access.groups.length === 0)
		throw new ValidationError(
			[{ record: `link "${link.id}"`, field: 'access.groups', message: 'must name at least one group' }],
			'Invalid link configuration'
		);
	if (link.systems.a === link.systems.b)
		throw new ValidationError(
			[{ record: `link "${link.id}"`, field: 'systems', message: 'must name two different systems' }],
			'Invalid link configuration'
		);
	return link;
}

const RecordRefSchema = v.object({ side: v.picklist(SIDES), kind: v.picklist(RECORD_KINDS), id, version: v.string() });

export const ResolutionSchema = v.object({
	conflictId: id,
	choice: v.picklist(RESOLUTION_CHOICES),
	fields: v.optional(v.record(v.string(), v.picklist(SIDES))),
	link: v.optional(v.object({ a: id, b: id })),
	against: v.array(RecordRefSchema),
	by: v.optional(v.string()),
	at: v.optional(v.string())
});

export function parseResolutions(input: unknown): Resolution[] {
	const { ok, issues } = validateRecords(ResolutionSchema, input, 'resolutions', (raw, i) => {
		const cid = (raw as { conflictId?: unknown })?.conflictId;
		return typeof cid === 'string' ? `resolution of "${cid}"` : `resolutions[${i}]`;
	});
	for (const r of ok) {
		if (r.choice === 'link' && !r.link)
			issues.push({
				record: `resolution of "${r.conflictId}"`,
				field: 'link',
				message: 'is required to link two records'
			});
		if (r.choice === 'per-field' && !r.fields)
			issues.push({
				record: `resolution of "${r.conflictId}"`,
				field: 'fields',
				message: 'is required for a per-field choice'
			});
	}
	if (issues.length > 0) throw new ValidationError(issues, 'Invalid resolutions');
	return ok as Resolution[];
}
