/**
 * `npm run bench`: every benchmark case, one JSON line each. Run with `--expose-gc` (the npm
 * script does) so heap figures start from a collected heap.
 */
// First: it patches Miniflare as it loads (see the file).
import './heap-limit';
import { coreCases } from './core';
import { browserCases } from './browser';
import { edgeCases } from './edge';
import { soakCases } from './soak';
import type { BenchLine } from './measure';

const only = process.argv[2];
const emit = (line: BenchLine) => console.log(JSON.stringify(line));

const suites: Record<string, (emit: (l: BenchLine) => void) => Promise<void>> = {
	core: coreCases,
	browser: browserCases,
	edge: (emit) => edgeCases(emit, undefined, only),
	// wrangler dev under 20 readers, 5 progress streams and a running provisioning (bench/soak.ts).
	soak: soakCases
};

/** The suite a case name belongs to (`npm run bench -- edge-run` runs that case alone). */
const suiteOf = (name: string) =>
	name.startsWith('edge') ? 'edge' : name.startsWith('reconcile') || name === 'floor' ? 'core' : name;

for (const [name, suite] of Object.entries(suites)) {
	if (only && suiteOf(only) !== name) continue;
	await suite(emit);
}
