/** Query parameters, validated like bodies: a bad one is a 400 naming it, never a value SQLite cannot bind. */
import { ApiError } from './errors';

/**
 * A non-negative whole number in plain digits (`?limit=50`), or `fallback` when absent. Fractions,
 * exponents (`1e20`, past what SQLite binds as an integer), signs and empty values are refused.
 */
export function intParam(url: URL, name: string, fallback: number): number {
	const raw = url.searchParams.get(name);
	if (raw === null) return fallback;
	if (!/^\d{1,15}$/.test(raw))
		throw new ApiError('invalid', `Query parameter ${name} must be a non-negative integer.`, [
			{ field: name, message: 'must be a non-negative integer' }
		]);
	return Number(raw);
}
