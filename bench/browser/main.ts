/**
 * The page side: drives the worker and watches its own main thread. The longest main-thread
 * task (PerformanceObserver `longtask`, tasks of 50 ms or more) is recorded while the worker
 * saves and reconciles; 0 means no task reached 50 ms.
 */
import * as Comlink from 'comlink';
import type { BenchApi } from './bench-api';

const worker = Comlink.wrap<BenchApi>(new Worker(new URL('./bench.worker.ts', import.meta.url), { type: 'module' }));

let longest = 0;
let watching = false;
new PerformanceObserver((list) => {
	if (!watching) return;
	for (const e of list.getEntries()) longest = Math.max(longest, e.duration);
}).observe({ type: 'longtask', buffered: false });

async function run(people: number) {
	await worker.generate(people);
	watching = true;
	longest = 0;
	const save = await worker.save(3);
	await worker.prepareReconcile();
	const t = performance.now();
	const preview = await worker.preview();
	const reconcileMs = Math.round(performance.now() - t);
	// Let the observer deliver the last entries.
	await new Promise((r) => setTimeout(r, 100));
	watching = false;
	const coreMs = await worker.coreOnly();
	await worker.cleanup();
	return {
		case: 'browser-snapshot',
		people,
		peopleStored: preview.people,
		ms: save.ms,
		floorMs: save.floorMs,
		ratio: Math.round((save.ms / save.floorMs) * 100) / 100,
		reconcileMs,
		reconcileCoreMs: coreMs,
		ops: preview.ops,
		longestMainTaskMs: Math.round(longest)
	};
}

(window as unknown as { runBench: typeof run }).runBench = run;
document.getElementById('state')!.textContent = 'ready';
