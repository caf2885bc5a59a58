/** The names of a link's two systems, for words that would otherwise say "side A" and "side B". */
import type { Side } from '$lib/core';
import type { LinkView, SystemView } from '$lib/api/types';
import { linkCacheKey } from '$lib/reconcile/api';
import { cached } from './cached';
import { session } from './session.svelte';

/** Side to system name; a system not (yet) known is called by its id. */
export function systemNames(link: LinkView | undefined, systems: readonly SystemView[]): Record<Side, string> {
	const name = (side: Side) => {
		const id = link?.config.systems[side];
		return systems.find((s) => s.id === id)?.name ?? id ?? (side === 'a' ? 'the source' : 'the target');
	};
	return { a: name('a'), b: name('b') };
}

/** The link's system names, from the edge or this device's copy when offline. */
export async function loadSystemNames(linkId: string): Promise<Record<Side, string>> {
	const [link, systems] = await Promise.all([
		cached(linkCacheKey(linkId), () => session.api.link(linkId)),
		cached('systems', () => session.api.systems())
	]);
	return systemNames(link.value, systems.value);
}
