/**
 * Which person fields a link will write, for link setup: the link's fields intersected with what
 * both systems hold (the core's `writableFields`, the same intersection the plan makes), with the
 * fields left out named and explained in an admin's words ("Team Manager cannot store Employee
 * number"). The systems' holdings come from GET /api/systems/:id/capabilities.
 */
import { writableFields, type LinkConfig, type Side } from '$lib/core';
import type { SystemCapabilities } from '$lib/api/types';
import { fieldLabel } from './labels';

/** What link setup needs of a system: its name and what it holds. */
export interface FieldHolder {
	name: string;
	capabilities: Pick<SystemCapabilities, 'personFields' | 'customFields' | 'write'>;
}

/** A system's fields as the core names them: standard names, and `custom:<its own name>`. */
export const heldFields = (c: FieldHolder['capabilities']): string[] => [
	...c.personFields,
	...c.customFields.map((name) => `custom:${name}`)
];

export interface LeftOutField {
	/** The field's canonical key (`custom:<name on side A>` for custom fields). */
	field: string;
	label: string;
	/** One sentence per system that lacks it. */
	reasons: string[];
}

export interface LinkFields {
	written: { field: string; label: string }[];
	leftOut: LeftOutField[];
}

/**
 * The fields `link` writes between `systems.a` and `systems.b`, and those it leaves out, with why.
 * A side that only provides data (the source in provisioning, a read-only export) "does not
 * provide" a field it lacks; a side written to "cannot store" it.
 */
export function linkFields(
	link: Pick<LinkConfig, 'mode' | 'personFields' | 'fieldMap'>,
	systems: Record<Side, FieldHolder>
): LinkFields {
	const { written, omitted } = writableFields(link, {
		a: heldFields(systems.a.capabilities),
		b: heldFields(systems.b.capabilities)
	});
	const providesOnly = (side: Side) => (link.mode === 'provision' && side === 'a') || !systems[side].capabilities.write;
	return {
		written: written.map((field) => ({ field, label: fieldLabel(field) })),
		leftOut: omitted.map(({ field, missingOn }) => {
			const label = fieldLabel(field);
			return {
				field,
				label,
				reasons: missingOn.map(
					(side) => `${systems[side].name} ${providesOnly(side) ? 'does not provide' : 'cannot store'} ${label}`
				)
			};
		})
	};
}
