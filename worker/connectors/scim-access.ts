/**
 * Access to a SCIM system for a synced person, in whichever form the server keeps it, chosen from
 * what it declares in /Schemas: the Rostersync User extension's `access` flag (the sandboxes),
 * else an entitlement, else a role (both multi-valued core attributes, the value ACCESS_VALUE), else
 * the account's `active` state, as Entra and Okta provisioning treat an app assignment.
 * Pure functions: scim.ts sends what they build.
 */
import type { Person } from '$lib/core/model';
import { ACCESS_FIELDS } from '$lib/core/access';
import type { PatchOperation, ScimProfile } from './scim-map';

export const ACCESS_CARRIERS = ['extension', 'entitlements', 'roles', 'active'] as const;
export type AccessCarrier = (typeof ACCESS_CARRIERS)[number];

/** The entitlement or role value that stands for access to the system. */
export const ACCESS_VALUE = 'rostersync-access';

/** The extension attribute that holds the flag. */
export const ACCESS_ATTRIBUTE = 'access';

/** How this server keeps access (undefined: it keeps none a client can write). */
export function accessCarrier(profile: ScimProfile): AccessCarrier | undefined {
	if (profile.userExt && profile.userExtAttributes.includes(ACCESS_ATTRIBUTE)) return 'extension';
	const core = profile.coreAttributes;
	// A server that declares no core schema is assumed to hold `active` only: the one attribute all keep.
	if (core?.includes('entitlements')) return 'entitlements';
	if (core?.includes('roles')) return 'roles';
	if (!core || core.includes('active')) return 'active';
	return undefined;
}

/** The marker the snapshot's `fields` carry, so the core knows how to read and plan access. */
export function accessField(carrier: AccessCarrier | undefined): string | undefined {
	if (!carrier) return undefined;
	return carrier === 'active' ? ACCESS_FIELDS.active : ACCESS_FIELDS.flag;
}

const listed = (list: unknown): boolean =>
	Array.isArray(list) &&
	list.some((x) => typeof x === 'object' && x !== null && (x as { value?: unknown }).value === ACCESS_VALUE);

/**
 * The person's access as the resource shows it, for the flag carriers (`active` is read as the
 * person's `active`). Only a granted access is written onto the person: absent reads as none, and
 * records of servers that never saw a grant stay as they were.
 */
export function readAccess(resource: Record<string, unknown>, profile: ScimProfile): Pick<Person, 'access'> {
	const carrier = accessCarrier(profile);
	let has = false;
	if (carrier === 'extension') {
		const ext = resource[profile.userExt!];
		const flag = ext && typeof ext === 'object' ? (ext as Record<string, unknown>)[ACCESS_ATTRIBUTE] : undefined;
		if (flag === false || flag === 'false' || flag === 'False') return { access: false };
		has = flag === true || flag === 'true' || flag === 'True';
	} else if (carrier === 'entitlements' || carrier === 'roles') has = listed(resource[carrier]);
	return has ? { access: true } : {};
}

/** PATCH operations that grant or revoke access on this server. */
export function accessPatch(grant: boolean, profile: ScimProfile): PatchOperation[] {
	const carrier = accessCarrier(profile);
	switch (carrier) {
		case 'extension':
			return [{ op: 'replace', path: `${profile.userExt}:${ACCESS_ATTRIBUTE}`, value: grant }];
		case 'entitlements':
		case 'roles':
			return grant
				? [{ op: 'add', path: carrier, value: [{ value: ACCESS_VALUE }] }]
				: [{ op: 'remove', path: `${carrier}[value eq ${JSON.stringify(ACCESS_VALUE)}]` }];
		case 'active':
			return [{ op: 'replace', path: 'active', value: grant }];
		case undefined:
			return [];
	}
}
