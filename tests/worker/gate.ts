/**
 * A gate in front of one system's writes, on a link's Durable Object: `free` writes go straight
 * through, the others wait until the test opens it. A stop then deterministically arrives while
 * writes are in flight.
 */
import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import type { Connector } from '../../worker/connectors/types';
import type { LinkDeps, LinkDO } from '../../worker/link/link-do';

export interface Gate {
	free: number;
	open: boolean;
	/** Writes waiting at the gate now. */
	waiting: number;
	/** Keys of the operations applied through it, in order. */
	applied: string[];
}

export const newGate = (free: number): Gate => ({ free, open: false, waiting: 0, applied: [] });

/**
 * Puts the gate in front of `systemId`'s writes on the link's current instance, one write per
 * operation (a batch would pass the gate as one), with `deps` (concurrency, slice) as given.
 */
export async function gateWrites(linkId: string, systemId: string, gate: Gate, deps: Partial<LinkDeps>): Promise<void> {
	await runInDurableObject(env.LINKS.getByName(linkId), (instance: LinkDO) => {
		const real = instance.deps.connector;
		let started = 0;
		instance.deps = {
			...instance.deps,
			batching: false,
			...deps,
			connector: async (id, config) => {
				const c = await real(id, config);
				if (id !== systemId) return c;
				const wrapped: Connector = Object.create(c);
				wrapped.apply = async (op, resolve) => {
					if (++started > gate.free) {
						gate.waiting++;
						// Polled in the object's own context: the test's request only flips the flag.
						while (!gate.open) await new Promise((r) => setTimeout(r, 5));
						gate.waiting--;
					}
					const result = await c.apply(op, resolve);
					gate.applied.push(op.key);
					return result;
				};
				return wrapped;
			}
		};
	});
}

/** Waits until `check` holds, failing after `timeoutMs` with what it waited for and the gate. */
export async function until(check: () => boolean, what: string, gate: Gate, timeoutMs = 30_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!check()) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(gate)}`);
		await new Promise((r) => setTimeout(r, 10));
	}
}
