/**
 * Large JSON values (a 100k-person Reconciliation) in bounded pieces: serialized one array element
 * at a time, so neither the whole text nor a row above the SQLite value limit (2 MB) ever exists.
 */

/**
 * The JSON text of `value`, in parts. Arrays and plain objects are opened up; every array element
 * is stringified on its own, so the largest part is the largest single element.
 */
export function* jsonParts(value: unknown): Generator<string> {
	if (Array.isArray(value)) {
		yield '[';
		for (let i = 0; i < value.length; i++) {
			if (i > 0) yield ',';
			const el = value[i];
			// JSON writes null for what it cannot represent inside arrays.
			yield el === undefined || typeof el === 'function' || typeof el === 'symbol'
				? 'null'
				: (JSON.stringify(el) ?? 'null');
		}
		yield ']';
		return;
	}
	if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
		yield '{';
		let first = true;
		for (const [key, v] of Object.entries(value)) {
			if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
			yield `${first ? '' : ','}${JSON.stringify(key)}:`;
			first = false;
			yield* jsonParts(v);
		}
		yield '}';
		return;
	}
	yield JSON.stringify(value) ?? 'null';
}

/**
 * Groups parts into chunks of about `size` UTF-16 code units. 400k code units are at most 1.2 MB
 * of UTF-8 (3 bytes per unit, surrogate pairs 4 bytes per 2 units): under the 2 MB row limit.
 */
export function* chunked(parts: Iterable<string>, size = 400_000): Generator<string> {
	let buffer: string[] = [];
	let length = 0;
	for (const part of parts) {
		if (part.length > size) {
			if (length > 0) yield buffer.join('');
			buffer = [];
			length = 0;
			for (let i = 0; i < part.length;) {
				let end = Math.min(i + size, part.length);
				// Never split a surrogate pair: each chunk is stored (and encoded) on its own.
				const last = part.charCodeAt(end - 1);
				if (end < part.length && last >= 0xd800 && last <= 0xdbff) end--;
				yield part.slice(i, end);
				i = end;
			}
			continue;
		}
		buffer.push(part);
		length += part.length;
		if (length >= size) {
			yield buffer.join('');
			buffer = [];
			length = 0;
		}
	}
	if (length > 0) yield buffer.join('');
}
