/**
 * Link setup's "this link writes" preview: the link's fields intersected with what both systems
 * hold, and each field left out named with the system that lacks it and why.
 */
import { describe, expect, it } from 'vitest';
import { render } from 'svelte/server';
import LinkFields from '$lib/components/LinkFields.svelte';
import { DEFAULT_PERSON_FIELDS, type LinkConfig } from '$lib/core';
import { heldFields, linkFields, type FieldHolder } from '$lib/components/link-fields';

const ALL = [...DEFAULT_PERSON_FIELDS, 'active' as const];

const hr: FieldHolder = {
	name: 'HR export',
	capabilities: {
		personFields: ['displayName', 'givenName', 'familyName', 'email', 'employeeNumber'],
		customFields: ['grade'],
		write: false
	}
};
const teamManager: FieldHolder = {
	name: 'Team Manager',
	capabilities: {
		personFields: ['displayName', 'givenName', 'familyName', 'email', 'phone', 'memberType', 'active'],
		customFields: ['rank'],
		write: true
	}
};
const operations: FieldHolder = {
	name: 'Operations',
	capabilities: { personFields: ALL, customFields: ['rank', 'badge'], write: true }
};

const link = (over: Partial<Pick<LinkConfig, 'mode' | 'personFields' | 'fieldMap'>> = {}) => ({
	mode: 'provision' as const,
	personFields: [...DEFAULT_PERSON_FIELDS],
	fieldMap: [],
	...over
});

describe('which fields a link writes', () => {
	it('provisioning: what the source provides and the target can hold, the rest named with why', () => {
		const result = linkFields(link({ fieldMap: [{ a: 'grade', b: 'rank' }] }), { a: hr, b: teamManager });
		expect(result.written.map((f) => f.field)).toEqual([
			'displayName',
			'givenName',
			'familyName',
			'email',
			'custom:grade'
		]);
		expect(result.leftOut).toEqual([
			{ field: 'phone', label: 'Phone', reasons: ['HR export does not provide Phone'] },
			{ field: 'employeeNumber', label: 'Employee number', reasons: ['Team Manager cannot store Employee number'] },
			{ field: 'memberType', label: 'Member type', reasons: ['HR export does not provide Member type'] },
			{
				field: 'buildings',
				label: 'Buildings',
				reasons: ['HR export does not provide Buildings', 'Team Manager cannot store Buildings']
			}
		]);
	});

	it('two-way: only what both systems hold; a system written to "cannot store" what it lacks', () => {
		const result = linkFields(
			link({
				mode: 'two-way',
				personFields: ['email', 'employeeNumber', 'buildings'],
				fieldMap: [{ a: 'badge', b: 'rank' }]
			}),
			{ a: operations, b: teamManager }
		);
		// A custom field each side holds under its own name is written.
		expect(result.written).toEqual([
			{ field: 'email', label: 'Email' },
			{ field: 'custom:badge', label: 'badge (custom)' }
		]);
		expect(result.leftOut.map((f) => [f.field, f.reasons])).toEqual([
			['employeeNumber', ['Team Manager cannot store Employee number']],
			['buildings', ['Team Manager cannot store Buildings']]
		]);
	});

	it('a custom field mapped to a name the other system does not hold is left out, under its own name', () => {
		const result = linkFields(link({ personFields: ['email'], fieldMap: [{ a: 'grade', b: 'shoeSize' }] }), {
			a: hr,
			b: teamManager
		});
		expect(result.written.map((f) => f.field)).toEqual(['email']);
		expect(result.leftOut).toEqual([
			{ field: 'custom:grade', label: 'grade (custom)', reasons: ['Team Manager cannot store grade (custom)'] }
		]);
	});

	it('holds fields as the core names them: standard names and custom:<own name>', () => {
		expect(heldFields(hr.capabilities)).toEqual([
			'displayName',
			'givenName',
			'familyName',
			'email',
			'employeeNumber',
			'custom:grade'
		]);
	});
});

describe('LinkFields', () => {
	it('names what the link writes and each field left out with why', () => {
		const fields = linkFields(link({ personFields: ['email', 'employeeNumber'] }), { a: hr, b: teamManager });
		const { body } = render(LinkFields, { props: { fields } });
		const text = body.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ');
		expect(text).toContain('This link writes: Email.');
		expect(text).toContain('Employee number: Team Manager cannot store Employee number.');
	});
});
