/** Who started or asked for something, as people know them. */
import type { StartedBy } from '$lib/api/types';

/**
 * A token's label or an Access email. Runs recorded before the edge kept labels name a token as
 * `token:<label>`: the label is what people gave it.
 */
export const personName = (subject: string | undefined): string =>
	subject ? subject.replace(/^token:/, '') : 'someone';

/** Who started a run, in words: a person's name, the nightly schedule, or an undo by a person. */
export function startedByText(startedBy: StartedBy): string {
	switch (startedBy.kind) {
		case 'schedule':
			return 'the nightly schedule';
		case 'undo':
			return startedBy.subject ? `an undo by ${personName(startedBy.subject)}` : 'an undo';
		default:
			return personName(startedBy.subject);
	}
}
