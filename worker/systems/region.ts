/** Both systems of a link must live in the same region: data does not cross regions. */
import { DomainError } from '../errors';

/**
 * Throws a `region-mismatch` DomainError (422 at the API) when `a` and `b` are in different regions. The link
 * engine calls it before creating a link; PATCH /api/systems calls it before moving a linked system.
 */
export function assertSameRegion(
	a: { id: string; name: string; region: string },
	b: { id: string; name: string; region: string }
): void {
	if (a.region === b.region) return;
	throw new DomainError(
		'region-mismatch',
		`"${a.name}" is in region ${a.region} and "${b.name}" is in region ${b.region}: both systems of a link must be in the same region, so their data never leaves it.`,
		undefined,
		{ regions: { [a.id]: a.region, [b.id]: b.region } }
	);
}
