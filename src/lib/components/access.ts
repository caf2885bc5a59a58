/**
 * The Access page's pure part: who of the synced people stands how, from the link's plan and the
 * access side's snapshot, and the settings a choice on the page makes.
 */
import type { AccessConfig, Person, Reconciliation, Side, Snapshot } from '$lib/core';
import { NO_ACCESS, accessCounts } from '$lib/core';

/** One synced person as the page lists them. */
export interface AccessRow {
	/** The review's key for the person's answer: `a:<id>` or `b:<id>`. */
	key: string;
	name: string;
	/** Has access on the access side now. */
	has: boolean;
	/** What the plan does about it. */
	change?: 'grant' | 'revoke';
	/** The review's answer for this person, over the rule. */
	own?: boolean;
}

/** The link's access settings, defaults filled in. */
export const accessOf = (config: { access?: AccessConfig }): AccessConfig => config.access ?? NO_ACCESS;

/** Who gains and who loses access in a plan (staged operations wait, and are not counted). */
export const accessPreview = (plan: Pick<Reconciliation, 'plan'>) => accessCounts(plan.plan.ops);

/** Synced people (pairs on both sides, or being created), by name, with their state and answer. */
export function accessRows(
	rec: Pick<Reconciliation, 'pairs'>,
	snapshots: Record<Side, Pick<Snapshot, 'people'>>,
	config: AccessConfig
): AccessRow[] {
	const people = {
		a: new Map(snapshots.a.people.map((p) => [p.id, p])),
		b: new Map(snapshots.b.people.map((p) => [p.id, p]))
	};
	const rows: AccessRow[] = [];
	for (const pair of rec.pairs) {
		if (pair.kind !== 'person' || pair.situation === 'conflict' || pair.situation === 'remove') continue;
		if (pair.note === 'ignored') continue;
		const a = pair.a !== undefined ? people.a.get(pair.a) : undefined;
		const b = pair.b !== undefined ? people.b.get(pair.b) : undefined;
		const onSide: Person | undefined = config.side === 'a' ? a : b;
		const key = pair.a !== undefined ? `a:${pair.a}` : `b:${pair.b}`;
		const own = config.people[`a:${pair.a}`] ?? config.people[`b:${pair.b}`];
		rows.push({
			key,
			name: (a ?? b)?.displayName ?? key,
			has: onSide?.access === true,
			...(pair.access ? { change: pair.access } : {}),
			...(own !== undefined ? { own } : {})
		});
	}
	return rows.sort((x, y) => x.name.localeCompare(y.name));
}

/** The settings after a person's answer: true grants, false never grants, undefined follows the rule. */
export function withAnswer(config: AccessConfig, row: Pick<AccessRow, 'key'>, own: boolean | undefined): AccessConfig {
	const people = { ...config.people };
	// A pair is answered under one key; an older answer under its other record's key goes.
	delete people[row.key];
	if (own !== undefined) people[row.key] = own;
	return { ...config, people };
}
