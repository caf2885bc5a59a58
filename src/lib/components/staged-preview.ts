/**
 * What approving a staged set does, as the confirmation sheet shows it: the staged operations as
 * they would run, and what cannot be reversed, including what waits with staged creations (their
 * invitations are sent once the accounts exist).
 */
import { groupIrreversible, irreversibleReason, previewOps } from '$lib/core';
import type { ChangePreview, StagedDeletes } from '$lib/api/types';
import { emptyNames } from '$lib/api/run-names';

export function stagedPreview(s: StagedDeletes): ChangePreview {
	const ops = s.ops.map((op) => ({ ...op, staged: false }));
	const own = ops.flatMap((op) => {
		const reason = irreversibleReason(op);
		return reason ? [{ type: op.type, reason }] : [];
	});
	const invites = s.waiting?.invite ?? 0;
	const notices = s.waiting?.['notify-transfer'] ?? 0;
	const following = [
		...Array.from({ length: invites }, () => ({
			type: 'invite' as const,
			reason: irreversibleReason({ type: 'invite' })!
		})),
		...Array.from({ length: notices }, () => ({
			type: 'notify-transfer' as const,
			reason: irreversibleReason({ type: 'notify-transfer' })!
		}))
	];
	return {
		...previewOps(ops, { irreversible: groupIrreversible([...own, ...following]) }),
		names: s.names ?? emptyNames()
	};
}
