/** Core cases: reconciling drifted directories of 10k and 100k people, against the floor. */
import { makeLink, reconcile } from '../src/lib/core';
import { floor } from './floor';
import { drifted } from './generate';
import { measure, type BenchLine } from './measure';

const link = makeLink({
	id: 'bench',
	name: 'bench',
	mode: 'two-way',
	systems: { a: 'A', b: 'B' },
	match: { person: 'email', group: 'externalId' }
});

export async function coreCases(emit: (line: BenchLine) => void): Promise<void> {
	for (const people of [10_000, 100_000]) {
		const data = drifted({ people, groups: 5_000, membershipsPerPerson: 3, drift: 0.03, seed: 42 });
		const r = measure(() => reconcile({ link, a: data.a, b: data.b, baseline: data.baseline, now: Date.now() }));
		emit({
			case: `reconcile-${people / 1000}k`,
			people,
			ms: r.ms,
			peakHeapMB: r.peakHeapMB,
			ops: r.value.plan.ops.length,
			conflicts: r.value.conflicts.length
		});
		if (people === 100_000) {
			const f = measure(() => floor(data));
			emit({ case: 'floor', people, ms: f.ms, peakHeapMB: f.peakHeapMB, ratio: Math.round((r.ms / f.ms) * 100) / 100 });
		}
	}
}
