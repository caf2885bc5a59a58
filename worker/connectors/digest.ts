/**
 * Versions for what connectors read: the core's, so a snapshot read here and one validated by the
 * core carry the same version for the same content.
 */
export { digest64 as digest, snapshotVersion } from '$lib/core';
