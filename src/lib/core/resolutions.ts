/**
 * Resolutions are inputs to reconciliation. Each names the records as the person saw them; if any
 * changed since, the resolution is stale: reported back for another look, never applied.
 */
import { recordVersion } from './digest';
import type { RecordKind, RecordRef, Resolution, Side } from './model';
import type { SideIndex } from './side-index';

export interface StaleResolution {
	resolution: Resolution;
	/** Each record that changed: as the person saw it, and as it is now (absent if gone). */
	changed: { then: RecordRef; now?: RecordRef }[];
}

type PerKind<T> = Record<RecordKind, T>;

export interface PreparedResolutions {
	byConflict: Map<string, Resolution>;
	forced: PerKind<{ a: string; b: string }[]>;
	excluded: PerKind<{ a: Set<string>; b: Set<string> }>;
	ignored: PerKind<{ a: Set<string>; b: Set<string> }>;
	stale: StaleResolution[];
	/** Conflict ids whose resolution took effect in this reconciliation. */
	applied: Set<string>;
}

/** Conflict ids start with the reason and the kind: `both-changed:person:…`. */
export function conflictKind(conflictId: string): RecordKind | undefined {
	const kind = conflictId.split(':')[1];
	return kind === 'person' || kind === 'group' ? kind : undefined;
}

export function currentRef(index: SideIndex, kind: RecordKind, side: Side, id: string): RecordRef | undefined {
	const record = kind === 'person' ? index.people.get(id) : index.groups.get(id);
	return record ? { side, kind, id, version: recordVersion(record) } : undefined;
}

const sets = () => ({ a: new Set<string>(), b: new Set<string>() });

export function prepareResolutions(
	resolutions: readonly Resolution[],
	sides: Record<Side, SideIndex>
): PreparedResolutions {
	const out: PreparedResolutions = {
		byConflict: new Map(),
		forced: { person: [], group: [] },
		excluded: { person: sets(), group: sets() },
		ignored: { person: sets(), group: sets() },
		stale: [],
		applied: new Set()
	};
	for (const resolution of resolutions) {
		const changed: StaleResolution['changed'] = [];
		for (const then of resolution.against) {
			const now = currentRef(sides[then.side], then.kind, then.side, then.id);
			if (!now || now.version !== then.version) changed.push({ then, now });
		}
		if (changed.length > 0) {
			out.stale.push({ resolution, changed });
			continue;
		}
		const kind = conflictKind(resolution.conflictId);
		switch (resolution.choice) {
			case 'link':
				if (kind && resolution.link) {
					out.forced[kind].push(resolution.link);
					out.applied.add(resolution.conflictId);
				}
				break;
			case 'create-new':
			case 'ignore':
				if (kind) {
					for (const r of resolution.against) {
						out.excluded[kind][r.side].add(r.id);
						if (resolution.choice === 'ignore') out.ignored[kind][r.side].add(r.id);
					}
					out.applied.add(resolution.conflictId);
				}
				break;
			default:
				out.byConflict.set(resolution.conflictId, resolution);
		}
	}
	return out;
}

/** The side a resolution picks for a field, if it picks one. */
export function chosenSide(resolution: Resolution | undefined, field: string): Side | undefined {
	if (!resolution) return undefined;
	if (resolution.choice === 'take-a') return 'a';
	if (resolution.choice === 'take-b') return 'b';
	if (resolution.choice === 'per-field') return resolution.fields?.[field];
	return undefined;
}
