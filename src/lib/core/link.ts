/** Link configuration helpers. */
import type { LinkConfig } from './model';
import { parseLinkConfig } from './schema';

/** A complete link from the few fields a person must choose; everything else takes its default. */
export const makeLink = (
	fields: Pick<LinkConfig, 'id' | 'name' | 'mode' | 'systems'> & Partial<LinkConfig>
): LinkConfig => parseLinkConfig(fields);
