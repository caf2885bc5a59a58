/**
 * Whether the edge can be reached. The browser's own flag (navigator.onLine, online/offline
 * events) is not enough: it can say "online" with no route to the edge (and does, for a page
 * loaded from the service worker while offline). So every API call reports whether it got an
 * answer, and while the edge is unreachable a light probe (/api/health) notices its return.
 */
const PROBE_MS = 15_000;

export class Network {
	#browserOnline = $state(typeof navigator === 'undefined' ? true : navigator.onLine);
	#reachable = $state(true);
	#listeners = new Set<() => void>();
	#probe: ReturnType<typeof setInterval> | undefined;

	get online(): boolean {
		return this.#browserOnline && this.#reachable;
	}

	/** Starts listening; returns the stop function. */
	start(): () => void {
		const up = () => {
			this.#browserOnline = true;
			this.#reachable = true;
			this.#stopProbe();
			this.#notify();
		};
		const down = () => (this.#browserOnline = false);
		addEventListener('online', up);
		addEventListener('offline', down);
		this.#browserOnline = navigator.onLine;
		return () => {
			removeEventListener('online', up);
			removeEventListener('offline', down);
			this.#stopProbe();
		};
	}

	/** Called by the API client after each request: did anything answer? */
	report(answered: boolean): void {
		if (answered === this.#reachable) return;
		this.#reachable = answered;
		if (answered) {
			this.#stopProbe();
			this.#notify();
		} else {
			this.#probe ??= setInterval(() => void this.#check(), PROBE_MS);
		}
	}

	/** Calls `fn` each time the connection comes back. */
	onReconnect(fn: () => void): () => void {
		this.#listeners.add(fn);
		return () => this.#listeners.delete(fn);
	}

	async #check(): Promise<void> {
		if (!this.#browserOnline) return;
		try {
			const res = await fetch('/api/health', { cache: 'no-store' });
			this.report(res.ok || res.status < 500);
		} catch {
			// still unreachable
		}
	}

	#stopProbe(): void {
		clearInterval(this.#probe);
		this.#probe = undefined;
	}

	#notify(): void {
		for (const l of this.#listeners) l();
	}
}

export const network = new Network();

/** A fetch that tells `network` whether the edge answered. */
export const reportingFetch: typeof fetch = async (input, init) => {
	try {
		const res = await fetch(input, init);
		network.report(true);
		return res;
	} catch (e) {
		if ((e as Error)?.name !== 'AbortError') network.report(false);
		throw e;
	}
};
