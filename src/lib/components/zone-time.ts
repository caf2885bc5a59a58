/** Instants in a link's own time zone, as its schedule and retention are reckoned. */
export const inZone = (iso: string, timeZone: string): string =>
	new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short', timeZone });
