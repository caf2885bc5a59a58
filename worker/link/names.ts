/**
 * Names for the records a run's operations refer to, read from the link's SQLite: the latest read
 * of each side (both of a side's slots, the current one and the one being written) and the run's
 * own creates. The words themselves are the app's (src/lib/api/run-names.ts).
 */
import type { Side } from '$lib/core';
import type { NameLookup } from '$lib/api/run-names';
import type { RunJournal } from './run-journal';

function recordOf(sql: SqlStorage, table: 'snap_people' | 'snap_groups', side: Side, id: string): unknown {
	const row = sql
		.exec<{ rec: string }>(`SELECT rec FROM ${table} WHERE side IN (?, ?) AND id = ? LIMIT 1`, side, `${side}~`, id)
		.toArray()[0];
	return row ? JSON.parse(row.rec) : undefined;
}

/** A look-up of names for one run's page of operations. */
export function nameLookup(sql: SqlStorage, journal: RunJournal, runId: string): NameLookup {
	return {
		person: (side, id) => (recordOf(sql, 'snap_people', side, id) as { displayName?: string } | undefined)?.displayName,
		group: (side, id) => (recordOf(sql, 'snap_groups', side, id) as { name?: string } | undefined)?.name,
		created: (key) => {
			const op = journal.op(runId, key);
			return op?.type === 'create-person'
				? op.record.displayName
				: op?.type === 'create-group'
					? op.record.name
					: undefined;
		}
	};
}
