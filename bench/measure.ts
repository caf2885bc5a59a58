/** Timing and heap for one synchronous case: median of several runs after a warm-up. */
export interface BenchLine {
	case: string;
	[figure: string]: string | number;
}

const gc = (globalThis as { gc?: () => void }).gc;

export function measure<T>(fn: () => T, runs = 5): { value: T; ms: number; peakHeapMB: number } {
	let value = fn(); // warm-up: JIT and caches
	const times: number[] = [];
	let peak = 0;
	for (let i = 0; i < runs; i++) {
		gc?.();
		const before = process.memoryUsage().heapUsed;
		const start = performance.now();
		value = fn();
		times.push(performance.now() - start);
		// Heap grown by the call and still held (result plus garbage not yet collected): an upper
		// bound of what it needed at once, since nothing else runs meanwhile.
		peak = Math.max(peak, process.memoryUsage().heapUsed - before);
	}
	times.sort((x, y) => x - y);
	return { value, ms: Math.round(times[Math.floor(runs / 2)]), peakHeapMB: Math.round(peak / 1048576) };
}
