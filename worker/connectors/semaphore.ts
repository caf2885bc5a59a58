/**
 * A counting semaphore: at most `limit` tasks hold a permit at once, the rest wait in order.
 * Connectors bound their in-flight requests with it; the runner can bound operations the same way.
 */
export class Semaphore {
	#active = 0;
	readonly #waiting: (() => void)[] = [];

	constructor(readonly limit: number) {
		if (!Number.isInteger(limit) || limit < 1)
			throw new RangeError(`semaphore limit must be a positive integer, got ${limit}`);
	}

	/** Tasks holding a permit now. */
	get active(): number {
		return this.#active;
	}

	/** Tasks waiting for a permit. */
	get waiting(): number {
		return this.#waiting.length;
	}

	/** Waits for a permit; the returned function gives it back (call it exactly once). */
	acquire(): Promise<() => void> {
		return new Promise((resolve) => {
			const grant = () => {
				this.#active++;
				let released = false;
				resolve(() => {
					if (released) return;
					released = true;
					this.#active--;
					this.#waiting.shift()?.();
				});
			};
			if (this.#active < this.limit) grant();
			else this.#waiting.push(grant);
		});
	}

	/** Runs `task` under a permit, releasing it however the task ends. */
	async run<T>(task: () => Promise<T>): Promise<T> {
		const release = await this.acquire();
		try {
			return await task();
		} finally {
			release();
		}
	}
}

/** Maps `items` through `task` with at most `limit` running at once; results keep input order. */
export async function mapLimit<T, R>(
	items: readonly T[],
	limit: number,
	task: (item: T, index: number) => Promise<R>
): Promise<R[]> {
	const semaphore = new Semaphore(limit);
	return Promise.all(items.map((item, i) => semaphore.run(() => task(item, i))));
}
