/**
 * SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2): parsed into a small tree and
 * evaluated against a resource's JSON. Attribute names compare case-insensitively; string values
 * too, except for identifiers (`id`, `externalId`, member values), which are case-exact.
 *
 *   filter := or;  or := and ("or" and)*;  and := unary ("and" unary)*
 *   unary  := "not" "(" filter ")" | "(" filter ")" | attrPath "[" filter "]" | attrPath "pr" | attrPath op value
 *   op     := eq ne co sw ew gt ge lt le;  value := "string" | number | true | false | null
 */

/** A filter or path that cannot be parsed: a 400 `invalidFilter` / `invalidPath`. */
export class ScimSyntaxError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'ScimSyntaxError';
	}
}

export interface AttrPath {
	/** The schema URN when the path names one (extension attributes). */
	schema?: string;
	attr: string;
	sub?: string;
}

export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';
export type Literal = string | number | boolean | null;

export type Filter =
	| { op: 'and' | 'or'; left: Filter; right: Filter }
	| { op: 'not'; filter: Filter }
	| { op: 'pr'; path: AttrPath }
	| { op: CompareOp; path: AttrPath; value: Literal }
	| { op: 'has'; path: AttrPath; filter: Filter };

const COMPARE = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);

type Token =
	{ kind: 'punct'; value: '(' | ')' | '[' | ']' } | { kind: 'string'; value: string } | { kind: 'word'; value: string };

function tokenize(text: string): Token[] {
	const tokens: Token[] = [];
	let i = 0;
	while (i < text.length) {
		const c = text[i];
		if (/\s/.test(c)) {
			i++;
		} else if (c === '(' || c === ')' || c === '[' || c === ']') {
			tokens.push({ kind: 'punct', value: c });
			i++;
		} else if (c === '"') {
			let j = i + 1;
			while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
			if (j >= text.length) throw new ScimSyntaxError(`unterminated string at position ${i + 1}`);
			try {
				tokens.push({ kind: 'string', value: JSON.parse(text.slice(i, j + 1)) });
			} catch {
				throw new ScimSyntaxError(`invalid string at position ${i + 1}`);
			}
			i = j + 1;
		} else {
			let j = i;
			while (j < text.length && !/[\s()[\]"]/.test(text[j])) j++;
			tokens.push({ kind: 'word', value: text.slice(i, j) });
			i = j;
		}
	}
	return tokens;
}

/** `urn:...:User:name.givenName` -> { schema: 'urn:...:User', attr: 'name', sub: 'givenName' }. */
export function parseAttrPath(text: string): AttrPath {
	let schema: string | undefined;
	let rest = text;
	if (text.toLowerCase().startsWith('urn:')) {
		const at = text.lastIndexOf(':');
		schema = text.slice(0, at);
		rest = text.slice(at + 1);
	}
	const parts = rest.split('.');
	if (parts.length > 2 || parts.some((p) => !/^[A-Za-z$][\w$-]*$/.test(p)))
		throw new ScimSyntaxError(`"${text}" is not an attribute path`);
	return { schema, attr: parts[0], ...(parts[1] ? { sub: parts[1] } : {}) };
}

class Parser {
	private at = 0;
	constructor(private readonly tokens: Token[]) {}

	done(): boolean {
		return this.at >= this.tokens.length;
	}

	private peek(): Token | undefined {
		return this.tokens[this.at];
	}

	private next(what: string): Token {
		const t = this.tokens[this.at++];
		if (!t) throw new ScimSyntaxError(`the filter ends where ${what} was expected`);
		return t;
	}

	private isWord(value: string): boolean {
		const t = this.peek();
		return t?.kind === 'word' && t.value.toLowerCase() === value;
	}

	private expect(value: string): void {
		const t = this.next(`"${value}"`);
		if (t.kind === 'string' || t.value !== value)
			throw new ScimSyntaxError(`expected "${value}" but found "${t.value}"`);
	}

	filter(): Filter {
		let left = this.and();
		while (this.isWord('or')) {
			this.at++;
			left = { op: 'or', left, right: this.and() };
		}
		return left;
	}

	private and(): Filter {
		let left = this.unary();
		while (this.isWord('and')) {
			this.at++;
			left = { op: 'and', left, right: this.unary() };
		}
		return left;
	}

	private unary(): Filter {
		if (this.isWord('not')) {
			this.at++;
			this.expect('(');
			const inner = this.filter();
			this.expect(')');
			return { op: 'not', filter: inner };
		}
		const t = this.next('an attribute');
		if (t.kind === 'punct' && t.value === '(') {
			const inner = this.filter();
			this.expect(')');
			return inner;
		}
		if (t.kind !== 'word') throw new ScimSyntaxError(`expected an attribute but found "${t.value}"`);
		const path = parseAttrPath(t.value);
		const after = this.peek();
		if (after?.kind === 'punct' && after.value === '[') {
			this.at++;
			const inner = this.filter();
			this.expect(']');
			return { op: 'has', path, filter: inner };
		}
		const opToken = this.next('an operator');
		const op = opToken.kind === 'word' ? opToken.value.toLowerCase() : '';
		if (op === 'pr') return { op: 'pr', path };
		if (!COMPARE.has(op))
			throw new ScimSyntaxError(
				`"${opToken.value}" is not a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)`
			);
		const valueToken = this.next('a value');
		return { op: op as CompareOp, path, value: literal(valueToken) };
	}
}

function literal(t: Token): Literal {
	if (t.kind === 'string') return t.value;
	if (t.kind === 'punct') throw new ScimSyntaxError(`expected a value but found "${t.value}"`);
	const w = t.value.toLowerCase();
	if (w === 'true') return true;
	if (w === 'false') return false;
	if (w === 'null') return null;
	if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(t.value)) return Number(t.value);
	throw new ScimSyntaxError(`"${t.value}" is not a value (strings need double quotes)`);
}

export function parseFilter(text: string): Filter {
	if (text.trim() === '') throw new ScimSyntaxError('the filter is empty');
	const parser = new Parser(tokenize(text));
	const filter = parser.filter();
	if (!parser.done()) throw new ScimSyntaxError('unexpected text after the end of the filter');
	return filter;
}

export interface PatchPath {
	path: AttrPath;
	/** `members[value eq "x"]`: which elements of a multi-valued attribute. */
	filter?: Filter;
	/** `emails[type eq "work"].value`: the sub-attribute of the selected elements. */
	subAfterFilter?: string;
}

/** A PATCH `path`: `attr`, `attr.sub`, `urn:...:attr`, `attr[filter]`, `attr[filter].sub`. */
export function parsePatchPath(text: string): PatchPath {
	const open = text.indexOf('[');
	if (open < 0) return { path: parseAttrPath(text.trim()) };
	const close = text.lastIndexOf(']');
	if (close < open) throw new ScimSyntaxError(`"${text}" has an unclosed "["`);
	const path = parseAttrPath(text.slice(0, open).trim());
	if (path.sub) throw new ScimSyntaxError(`"${text}": a filter applies to an attribute, not a sub-attribute`);
	const filter = parseFilter(text.slice(open + 1, close));
	const rest = text.slice(close + 1).trim();
	if (rest && !/^\.[A-Za-z$][\w$-]*$/.test(rest)) throw new ScimSyntaxError(`"${text}" is not a valid path`);
	return { path, filter, ...(rest ? { subAfterFilter: rest.slice(1) } : {}) };
}

// ---- evaluation ---------------------------------------------------------------------------

type Json = Record<string, unknown>;

/** The key of `obj` that equals `name` ignoring case, if any. */
export function keyOf(obj: Json, name: string): string | undefined {
	if (name in obj) return name;
	const lower = name.toLowerCase();
	return Object.keys(obj).find((k) => k.toLowerCase() === lower);
}

/** The object holding the path's attribute: the resource, or its extension object. */
export function containerOf(resource: Json, path: AttrPath, coreSchemas: readonly string[]): Json | undefined {
	if (!path.schema || coreSchemas.some((s) => s.toLowerCase() === path.schema!.toLowerCase())) return resource;
	const key = keyOf(resource, path.schema);
	const ext = key ? resource[key] : undefined;
	return ext && typeof ext === 'object' && !Array.isArray(ext) ? (ext as Json) : undefined;
}

const CASE_EXACT = new Set(['id', 'externalid']);

/** The values a path reaches (several for multi-valued attributes), and whether they are case-exact. */
function valuesAt(
	resource: Json,
	path: AttrPath,
	coreSchemas: readonly string[]
): { values: unknown[]; exact: boolean } {
	const container = containerOf(resource, path, coreSchemas);
	const key = container ? keyOf(container, path.attr) : undefined;
	const top = key ? container![key] : undefined;
	const exact =
		CASE_EXACT.has(path.attr.toLowerCase()) ||
		(path.attr.toLowerCase() === 'members' && (path.sub ?? 'value').toLowerCase() === 'value');
	const list = Array.isArray(top) ? top : top === undefined || top === null ? [] : [top];
	const values = list.flatMap((v) => {
		if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
			// A complex value compares by the sub-attribute named, else by its "value".
			const sub = keyOf(v as Json, path.sub ?? 'value');
			return sub === undefined ? [] : [(v as Json)[sub]];
		}
		return path.sub ? [] : [v];
	});
	return { values: values.filter((v) => v !== undefined && v !== null), exact };
}

function compare(op: CompareOp, actual: unknown, expected: Literal, exact: boolean): boolean {
	if (expected === null) return op === 'eq' ? actual === null : op === 'ne' ? actual !== null : false;
	if (typeof expected === 'boolean' || typeof actual === 'boolean') {
		if (op === 'eq') return actual === expected;
		if (op === 'ne') return actual !== expected;
		return false;
	}
	if (typeof expected === 'number' && typeof actual === 'number') {
		switch (op) {
			case 'eq':
				return actual === expected;
			case 'ne':
				return actual !== expected;
			case 'gt':
				return actual > expected;
			case 'ge':
				return actual >= expected;
			case 'lt':
				return actual < expected;
			case 'le':
				return actual <= expected;
			default:
				return false;
		}
	}
	const norm = (s: string) => (exact ? s : s.toLowerCase());
	const a = norm(String(actual));
	const e = norm(String(expected));
	switch (op) {
		case 'eq':
			return a === e;
		case 'ne':
			return a !== e;
		case 'co':
			return a.includes(e);
		case 'sw':
			return a.startsWith(e);
		case 'ew':
			return a.endsWith(e);
		case 'gt':
			return a > e;
		case 'ge':
			return a >= e;
		case 'lt':
			return a < e;
		case 'le':
			return a <= e;
	}
}

/** True when `resource` matches `filter`. */
export function matches(resource: Json, filter: Filter, coreSchemas: readonly string[]): boolean {
	switch (filter.op) {
		case 'and':
			return matches(resource, filter.left, coreSchemas) && matches(resource, filter.right, coreSchemas);
		case 'or':
			return matches(resource, filter.left, coreSchemas) || matches(resource, filter.right, coreSchemas);
		case 'not':
			return !matches(resource, filter.filter, coreSchemas);
		case 'pr': {
			const { values } = valuesAt(resource, filter.path, coreSchemas);
			return values.some((v) => v !== '' && !(Array.isArray(v) && v.length === 0));
		}
		case 'has': {
			const container = containerOf(resource, filter.path, coreSchemas);
			const key = container ? keyOf(container, filter.path.attr) : undefined;
			const list = key ? container![key] : undefined;
			return (
				Array.isArray(list) && list.some((el) => el && typeof el === 'object' && matches(el as Json, filter.filter, []))
			);
		}
		case 'ne': {
			const { values, exact } = valuesAt(resource, filter.path, coreSchemas);
			return values.length === 0 || values.every((v) => compare('ne', v, filter.value, exact));
		}
		default: {
			const { values, exact } = valuesAt(resource, filter.path, coreSchemas);
			return values.some((v) => compare(filter.op, v, filter.value, exact));
		}
	}
}

/** For an index look-up: the value of a top-level `attr eq "value"` filter, else undefined. */
export function simpleEquality(filter: Filter): { attr: string; value: string } | undefined {
	if (filter.op !== 'eq' || typeof filter.value !== 'string' || filter.path.sub) return undefined;
	return { attr: filter.path.attr.toLowerCase(), value: filter.value };
}
