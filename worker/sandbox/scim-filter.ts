/**
 * SCIM filters (RFC 7644 §3.4.2.2): parsed by scim2-parse-filter, guarded and evaluated here. The
 * sandbox's list filters and the value filters of PATCH paths (`members[value eq "x"]`) both go
 * through `parseFilter` and `matches`, for the sandbox and for the connector's local PATCH alike.
 *
 * What the guard adds to the package:
 * - bounds (length, nesting) and no control characters: its tokenizer backtracks exponentially on
 *   an unterminated string of newlines, so such text never reaches it;
 * - string values are JSON strings, as the RFC says (the package reads only `\"` as an escape);
 * - attribute paths are checked (`name.givenName`, `urn:...:User:buildings`), nothing else.
 *
 * How values compare: attribute names without case; strings without case too, except identifiers
 * (`id`, `externalId`, member values, managers), which are case-exact.
 */
import { Tester, parse, type Filter } from 'scim2-parse-filter';
import { CORE_GROUP, CORE_USER } from '../connectors/scim-schema';

export type { Filter };

/** Longest filter accepted; real clients send a few hundred characters at most. */
export const MAX_FILTER_LENGTH = 4096;
/** Deepest nesting of and/or/not/[] accepted. */
export const MAX_FILTER_DEPTH = 32;

/** A filter that cannot be parsed: a 400 `invalidFilter` (or `invalidPath` in a PATCH path). */
export class ScimSyntaxError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'ScimSyntaxError';
	}
}

const CORE_SCHEMAS = [CORE_USER, CORE_GROUP].map((s) => `${s.toLowerCase()}:`);
const ATTR_PATH = /^(?:urn:[^\s[\]"()]+:)?[A-Za-z$][\w$-]*(?:\.[A-Za-z$][\w$-]*)?$/i;
const STRING_LITERAL = /"(?:[^"\\]|\\.)*"/g;

/** `text` cut for an error message (filters are echoed to the client that sent them). */
const clip = (text: string, max = 120) => (text.length > max ? `${text.slice(0, max)}…` : text);

/** Parses a filter, or throws ScimSyntaxError saying what is wrong with it. */
export function parseFilter(text: string): Filter {
	if (text.length > MAX_FILTER_LENGTH) throw new ScimSyntaxError(`is longer than ${MAX_FILTER_LENGTH} characters`);
	// eslint-disable-next-line no-control-regex
	const control = /[\u0000-\u001f\u007f]/.exec(text);
	if (control) throw new ScimSyntaxError(`has a control character at position ${control.index + 1}`);
	if (text.trim() === '') throw new ScimSyntaxError('is empty');
	// An escaped backslash is hidden from the package as \u005c; every string is decoded as JSON below.
	const hidden = text.replace(STRING_LITERAL, (literal) => literal.replace(/\\\\/g, '\\u005c'));
	let filter: Filter;
	try {
		filter = parse(hidden);
	} catch (e) {
		throw new ScimSyntaxError(e instanceof RangeError ? 'is nested too deeply' : clip(messageOf(e)));
	}
	return checked(filter, 1);
}

function messageOf(e: unknown): string {
	return e instanceof Error ? e.message : 'cannot be parsed';
}

/** The filter with its strings decoded as JSON, after checking paths and depth. */
function checked(f: Filter, depth: number): Filter {
	if (depth > MAX_FILTER_DEPTH) throw new ScimSyntaxError(`is nested deeper than ${MAX_FILTER_DEPTH} levels`);
	switch (f.op) {
		case 'and':
		case 'or':
			return { op: f.op, filters: f.filters.map((x) => checked(x, depth + 1)) };
		case 'not':
			return { op: 'not', filter: checked(f.filter, depth + 1) };
		case '[]':
			return { op: '[]', attrPath: attrPath(f.attrPath), valFilter: checked(f.valFilter, depth + 1) };
		case 'pr':
			return { op: 'pr', attrPath: attrPath(f.attrPath) };
		default: {
			let compValue = f.compValue;
			if (typeof compValue === 'string') {
				// The package left every escape but \" as it came: undo that, then read the string as JSON.
				try {
					compValue = JSON.parse(`"${compValue.replace(/"/g, '\\"')}"`) as string;
				} catch {
					throw new ScimSyntaxError(`the string "${clip(compValue)}" has an invalid escape`);
				}
			} else if (typeof compValue === 'number' && !Number.isFinite(compValue)) {
				throw new ScimSyntaxError(`the number in "${clip(f.attrPath)} ${f.op}" is out of range`);
			}
			return { op: f.op, attrPath: attrPath(f.attrPath), compValue };
		}
	}
}

function attrPath(path: string): string {
	if (!ATTR_PATH.test(path)) throw new ScimSyntaxError(`"${clip(path)}" is not an attribute path`);
	const lower = path.toLowerCase();
	// A core attribute may be named with its schema (`urn:...:core:2.0:User:userName`).
	const core = CORE_SCHEMAS.find((s) => lower.startsWith(s));
	return core ? path.slice(core.length) : path;
}

type Json = Record<string, unknown>;
type CompareOp = Extract<Filter, { compValue: unknown }>['op'];
type Literal = string | number | boolean | null;

/** Whether the attribute at `path` (dot-separated, below `scope`) holds identifiers: compared exactly. */
function caseExact(scope: readonly string[], path: string): boolean {
	const full = [...scope, path].join('.').toLowerCase();
	const last = full.slice(full.lastIndexOf('.') + 1);
	const attr = last.slice(last.lastIndexOf(':') + 1);
	return (
		attr === 'id' || attr === 'externalid' || attr === 'managers' || full === 'members' || full === 'members.value'
	);
}

function compare(op: CompareOp, actual: unknown, expected: Literal, exact: boolean): boolean {
	if (expected === null) return false;
	if (typeof expected === 'boolean' || typeof actual === 'boolean') {
		if (op === 'eq') return actual === expected;
		return false;
	}
	if (typeof expected === 'number' && typeof actual === 'number') {
		switch (op) {
			case 'eq':
				return actual === expected;
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
	if (typeof actual === 'object') return false;
	const norm = (s: string) => (exact ? s : s.toLowerCase());
	const a = norm(String(actual));
	const e = norm(String(expected));
	switch (op) {
		case 'eq':
			return a === e;
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
		default:
			return false;
	}
}

/** Some value reached: the elements of a multi-valued attribute, a complex value by its `value`. */
function someValue(v: unknown, test: (x: unknown) => boolean): boolean {
	if (Array.isArray(v)) return v.some((x) => someValue(x, test));
	if (v !== null && typeof v === 'object') {
		const key = Object.keys(v).find((k) => k.toLowerCase() === 'value');
		return key !== undefined && someValue((v as Json)[key], test);
	}
	return v !== undefined && v !== null && test(v);
}

const present = (v: unknown): boolean =>
	v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && !v.some(present));

/**
 * The package's walk over a resource (attribute names without case, multi-valued attributes
 * searched element by element) with SCIM's comparison rules: string case by attribute, `ne` true
 * when no value equals, `pr` false for empty values.
 */
class ScimTester extends Tester {
	readonly #scope: string[];

	constructor(scope: readonly string[] = []) {
		super();
		this.#scope = [...scope];
	}

	override test(r: unknown, f: Filter): boolean {
		switch (f.op) {
			case '[]': {
				// Element by element: the package would test the whole list, so `emails[type eq "home"
				// and primary eq true]` matched a home email and another, primary one.
				const inner = f.valFilter;
				this.#scope.push(f.attrPath);
				try {
					return this.attrTest(this.attrPath(f.attrPath), r, (v) =>
						(Array.isArray(v) ? v : [v]).some((el) => el !== null && typeof el === 'object' && this.test(el, inner))
					);
				} finally {
					this.#scope.pop();
				}
			}
			case 'pr':
				return this.attrTest(this.attrPath(f.attrPath), r, present);
			case 'ne':
				return !this.test(r, { ...f, op: 'eq' });
			case 'eq':
			case 'co':
			case 'sw':
			case 'ew':
			case 'gt':
			case 'ge':
			case 'lt':
			case 'le': {
				const exact = caseExact(this.#scope, f.attrPath);
				const op = f.op;
				return this.attrTest(this.attrPath(f.attrPath), r, (v) =>
					someValue(v, (x) => compare(op, x, f.compValue, exact))
				);
			}
			default:
				return super.test(r, f);
		}
	}
}

/**
 * True when `resource` matches `filter`. `scope` names the multi-valued attribute the resource is
 * an element of, for a PATCH value filter (`members` for `members[value eq "x"]`).
 */
export function matches(resource: unknown, filter: Filter, scope: readonly string[] = []): boolean {
	return new ScimTester(scope).test(resource, filter);
}

/** For an index look-up: the value of a top-level `attr eq "value"` filter, else undefined. */
export function simpleEquality(filter: Filter): { attr: string; value: string } | undefined {
	if (filter.op !== 'eq' || typeof filter.compValue !== 'string' || /[.:]/.test(filter.attrPath)) return undefined;
	return { attr: filter.attrPath.toLowerCase(), value: filter.compValue };
}

/**
 * The attributes a value filter pins (`type eq "work"`, or several with `and`): the element a PATCH
 * creates when the filter selects none. Undefined for any other filter.
 */
export function equalitySeed(filter: Filter): Json | undefined {
	if (filter.op === 'eq' && filter.compValue !== null && !/[.:]/.test(filter.attrPath))
		return { [filter.attrPath]: filter.compValue };
	if (filter.op === 'and') {
		const parts = filter.filters.map(equalitySeed);
		return parts.every((p) => p !== undefined) ? Object.assign({}, ...parts) : undefined;
	}
	return undefined;
}
