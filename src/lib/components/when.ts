/** Short, local renderings of instants and durations. */
export const when = (iso: string | undefined): string =>
	iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '—';

export function duration(ms: number | undefined): string {
	if (ms === undefined) return '—';
	if (ms < 1000) return `${ms} ms`;
	const s = Math.round(ms / 100) / 10;
	return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}
