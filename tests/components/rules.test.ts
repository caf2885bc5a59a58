/**
 * The rules screens' words and choices: what the setup form offers from a system's snapshot, what
 * keeps a draft from being previewed, and what each way of turning a rule off or undoing a run
 * says it touches. Components rendered on the server, as they first paint.
 */
import { describe, expect, it, test } from 'vitest';
import { render } from 'svelte/server';
import type { Person } from '$lib/core';
import type { RuleActionPreview, RulePreview, RuleRunSummary } from '$lib/api/rules';
import {
	disableChoices,
	draftConfig,
	draftProblems,
	emptyDraft,
	peopleMapDraft,
	peopleMapOf,
	ruleChoices,
	ruleOpLabel,
	ruleSummary,
	runCounts,
	undoSummary
} from '$lib/components/rules';
import RuleDisable from '$lib/components/RuleDisable.svelte';
import RuleForm from '$lib/components/RuleForm.svelte';
import RulePreviewPanel from '$lib/components/RulePreviewPanel.svelte';
import RuleRunList from '$lib/components/RuleRunList.svelte';

const person = (id: string, over: Partial<Person> = {}): Person => ({
	id,
	displayName: id,
	active: true,
	...over
});

const text = (html: string) =>
	html
		.replace(/<!--[^]*?-->/g, '')
		.replace(/<[^>]+>/g, ' ')
		.replace(/\s+/g, ' ')
		.trim();

describe('what the setup form offers', () => {
	it('message groups by name, and each building with how many people hold it (numbers in order)', () => {
		const c = ruleChoices({
			takenAt: '2026-12-01T09:00:00Z',
			groups: [
				{ id: 'g1', name: 'Staff news', kind: 'message-group' },
				{ id: 'g2', name: 'All students', kind: 'message-group' },
				{ id: 'c1', name: 'North Station', kind: 'community' }
			],
			people: [
				person('p1', { memberType: 'staff', buildings: ['B10', 'B2', 'B2'] }),
				person('p2', { memberType: 'student', buildings: ['B2'] }),
				person('p3', {})
			]
		});
		expect(c.groups).toEqual([
			{ id: 'g2', name: 'All students' },
			{ id: 'g1', name: 'Staff news' }
		]);
		expect(c.buildings).toEqual([
			{ id: 'B2', people: 2 },
			{ id: 'B10', people: 1 }
		]);
		expect(c.typed).toBe(2);
	});

	it('a directory without message groups offers every group', () => {
		const c = ruleChoices({ takenAt: 'x', groups: [{ id: 'g', name: 'Team', kind: 'group' }], people: [] });
		expect(c.groups).toEqual([{ id: 'g', name: 'Team' }]);
		expect(c.buildings).toEqual([]);
	});
});

describe('a draft', () => {
	test.each([
		[{}, []],
		[{ groupId: '' }, ['groupId']],
		[{ name: '  ' }, ['name']],
		[{ scope: 'buildings' as const }, ['buildings']],
		[{ scope: 'buildings' as const, buildings: ['B1'] }, []],
		[{ memberTypes: [] }, ['memberTypes']]
	])('%o is missing %o', (over, missing) => {
		expect(Object.keys(draftProblems({ ...emptyDraft('g1', 'Staff news'), ...over }))).toEqual(missing);
	});

	it('sends buildings only with the Buildings group type, and a trimmed name', () => {
		const draft = { ...emptyDraft('g1', ' Staff news '), buildings: ['B1'] };
		expect(draftConfig(draft)).toEqual({
			name: 'Staff news',
			groupId: 'g1',
			scope: 'organization',
			buildings: [],
			memberTypes: ['staff'],
			role: 'member'
		});
		expect(draftConfig({ ...draft, scope: 'buildings' }).buildings).toEqual(['B1']);
	});

	test.each([
		[
			{ scope: 'organization', buildings: [], memberTypes: ['staff', 'student'], role: 'member' },
			'Everyone in the organization · staff and students · as Member'
		],
		[
			{ scope: 'buildings', buildings: ['LIN'], memberTypes: ['student'], role: 'member' },
			'Building LIN · students only · as Member'
		],
		[
			{ scope: 'buildings', buildings: ['LIN', 'WAS'], memberTypes: ['staff'], role: 'manager' },
			'Buildings LIN, WAS · staff only · as Manager (no edit)'
		]
	] as const)('%o reads "%s"', (rule, words) => {
		expect(ruleSummary({ ...rule, buildings: [...rule.buildings], memberTypes: [...rule.memberTypes] })).toBe(words);
	});
});

const action = (remove: number, add = 0, role = 0, names: string[] = []): RuleActionPreview => ({
	remove,
	add,
	role,
	people: names.map((n, i) => ({ id: `p${i}`, name: n, change: 'leave', role: 'member' }))
});

describe('turning a rule off', () => {
	it('says how many people each choice touches', () => {
		const c = disableChoices(action(0), action(3), 3);
		expect(c.keep).toMatchObject({ touches: 0, title: 'Keep the members it added' });
		expect(c.keep.text).toContain('Removes nobody: the 3 people it added stay');
		expect(c.remove).toMatchObject({ touches: 3, title: 'Remove the 3 people it added' });
		expect(c.remove.text).toContain('Members added by hand, and members from before the rule, stay.');
	});

	it('one person, and nobody left to remove', () => {
		expect(disableChoices(action(0), action(1), 1).remove.title).toBe('Remove the 1 person it added');
		expect(disableChoices(action(0), action(0), 0).remove.text).toContain('Nobody to remove');
	});

	it('renders both choices with their counts and who would be removed', () => {
		const { body } = render(RuleDisable, {
			props: {
				keep: action(0),
				remove: action(2, 0, 0, ['Ada Lovelace', 'Bo Dahl']),
				owned: 2,
				onchoose: () => {},
				oncancel: () => {}
			}
		});
		const t = text(body);
		expect(t).toContain('Keep the members it added');
		expect(t).toContain('Remove the 2 people it added');
		expect(t).toContain('Ada Lovelace');
		expect(t).toContain('Bo Dahl');
	});
});

describe('undoing a run', () => {
	test.each([
		[action(2), 'Undo removes 2 people it added.'],
		[action(0, 1), 'Undo adds back 1 person it removed.'],
		[action(1, 0, 1), 'Undo removes 1 person it added, gives 1 person their previous role back.'],
		[action(0), 'Nothing to reverse: every change of this run is already gone.']
	])('%o: %s', (p, words) => expect(undoSummary(p)).toBe(words));
});

describe('a run', () => {
	const run = (over: Partial<RuleRunSummary> = {}): RuleRunSummary => ({
		id: 'rrn_1',
		ruleId: 'r1',
		dryRun: false,
		trigger: 'snapshot',
		status: 'done',
		startedAt: '2026-12-01T09:00:00Z',
		tally: { total: 3, done: 3, failed: 0, skipped: 0, staged: 0, pending: 0 },
		counts: { add: 2, remove: 1, role: 0 },
		...over
	});

	it('counts what it did, or would do', () => {
		expect(runCounts(run())).toBe('2 added · 1 removed · 0 role changes');
		expect(runCounts(run({ dryRun: true }))).toBe('would add 2 · remove 1 · change 0 roles');
	});

	it('lists each run with status, trigger and counts; an undone one says so', () => {
		const { body } = render(RuleRunList, {
			props: {
				runs: [run({ undoneBy: 'rrn_2', startedBy: 'local owner', trigger: 'person' })],
				href: (id: string) => `/x/${id}`
			}
		});
		const t = text(body);
		expect(t).toContain('Done');
		expect(t).toContain('undone');
		expect(t).toContain('local owner · started by a person · 2 added · 1 removed · 0 role changes');
		expect(body).toContain('href="/x/rrn_1"');
	});

	test.each([
		[{ type: 'add-membership', role: 'member' }, 'joins as Member'],
		[{ type: 'set-role', role: 'manager', before: 'member' }, 'becomes Manager (was Member)'],
		[{ type: 'remove-membership', before: 'member' }, 'leaves the group']
	])('%o: %s', (op, words) => {
		expect(ruleOpLabel({ key: 'k', side: 'b', step: 0, group: { id: 'g' }, person: { id: 'p' }, ...op } as never)).toBe(
			words
		);
	});
});

describe('the preview', () => {
	const preview: RulePreview = {
		takenAt: '2026-12-01T09:00:00Z',
		wanted: 40,
		joining: 37,
		leaving: 1,
		roleChanges: 0,
		alreadyMembers: 3,
		people: [
			{ id: 'p1', name: 'Ada Lovelace', change: 'join', role: 'member', memberType: 'student', buildings: ['LIN'] }
		],
		total: 41,
		offset: 0,
		limit: 100,
		warnings: [
			{
				code: 'no-staff-manager',
				message: 'Nobody of staff manages this student group: add the safety team manager by hand.'
			},
			{ code: 'role-disagreement', message: 'Another rule adds the same people as Manager.', ruleIds: ['r9'] }
		]
	};

	it('shows the counts, the warnings with what to do, and how many people it concerns', () => {
		const { body } = render(RulePreviewPanel, {
			props: {
				preview,
				fetchPage: async () => preview,
				ruleName: (id: string) => (id === 'r9' ? 'Lincoln managers' : id)
			}
		});
		const t = text(body);
		expect(t).toMatch(/37 join 1 leave 0 role changes 3 already members/);
		expect(t).toContain(
			'No staff manager. Nobody of staff manages this student group: add the safety team manager by hand.'
		);
		expect(t).toContain(
			'Rules disagree on the role. Another rule adds the same people as Manager. (Other rules: Lincoln managers.)'
		);
		expect(t).toContain('41 people concerned');
		expect(t).toContain('The rule wants 40 people in the group.');
	});

	it('no warnings: no warning list', () => {
		const { body } = render(RulePreviewPanel, {
			props: { preview: { ...preview, warnings: [] }, fetchPage: async () => preview }
		});
		expect(body).not.toContain('data-testid="rule-warning"');
	});
});

describe('the settings form', () => {
	const choices = ruleChoices({
		takenAt: 'x',
		groups: [{ id: 'g1', name: 'Lincoln students', kind: 'message-group' }],
		people: [person('p1', { memberType: 'student', buildings: ['LIN'] })]
	});

	it('in the admins words; buildings only with the Buildings group type', () => {
		const org = text(render(RuleForm, { props: { choices, draft: emptyDraft('g1', 'Lincoln students') } }).body);
		for (const words of [
			'Group type',
			'Organization',
			'Buildings',
			'Type of group members',
			'Staff',
			'Student',
			'Permission settings',
			'Member',
			'Manager (not allowed to edit group)'
		])
			expect(org).toContain(words);
		expect(org).not.toContain('LIN (1)');
		const b = text(
			render(RuleForm, { props: { choices, draft: { ...emptyDraft('g1', 'x'), scope: 'buildings' } } }).body
		);
		expect(b).toContain('LIN (1)');
	});

	it('a student group reminds of the staff safety team manager; problems show once asked', () => {
		const draft = { ...emptyDraft('g1', 'x'), memberTypes: ['student' as const], scope: 'buildings' as const };
		const t = text(render(RuleForm, { props: { choices, draft, showProblems: true } }).body);
		expect(t).toContain('needs a staff safety team manager');
		expect(t).toContain('Choose at least one building.');
	});
});

describe('where buildings and member types are read', () => {
	it('an unset map shows the defaults; empty fields stay unset, values are trimmed and listed once', () => {
		expect(peopleMapDraft(undefined)).toEqual({ building: '', memberType: '', staff: 'staff', student: 'student' });
		expect(
			peopleMapOf({
				building: ' department ',
				memberType: '',
				staff: 'Teacher, staff ,teacher,Teacher',
				student: ' , '
			})
		).toEqual({ building: 'department', staff: ['Teacher', 'staff', 'teacher'] });
	});

	it('a saved map reads back the same', () => {
		const map = {
			building: 'urn:x:User:buildings',
			memberType: 'userType',
			staff: ['Faculty'],
			student: ['Pupil', 'Learner']
		};
		expect(peopleMapOf(peopleMapDraft(map))).toEqual(map);
	});
});
