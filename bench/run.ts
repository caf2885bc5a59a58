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
import { ruleCases } from './rules';
import type { BenchLine } from './measure';

const only = process.argv[2];
const emit = (line: BenchLine) => console.log(JSON.stringify(line));

const suites: Record<string, (emit: (l: BenchLine) => void) => Promise<void>> = {
	core: coreCases,
	browser: browserCases,
	edge: (emit) => edgeCases(emit, undefined, only),
	// wrangler dev under 20 readers, 5 progress streams and a running provisioning (bench/soak.ts).
	soak: soakCases,
	// 100k people, a rule over 10 buildings: in the core, and at the edge under the 128 MB cap (bench/rules.ts).
	rules: (emit) => ruleCases(emit, only)
};

/** The suite a case name belongs to (`npm run bench -- edge-run` runs that case alone). */
const suiteOf = (name: string) =>
	name.startsWith('edge')
		? 'edge'
		: name.startsWith('reconcile') || name === 'floor'
			? 'core'
			: name.startsWith('rule-')
				? 'rules'
				: name;

for (const [name, suite] of Object.entries(suites)) {
	if (only && suiteOf(only) !== name) continue;
	await suite(emit);
}
