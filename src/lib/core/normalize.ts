/**
 * Normalization for matching and comparing. Two values that a person would call "the same"
 * (other case, other Unicode composition, stray spaces) normalize to the same string.
 */

export interface NormalizeRule {
	caseFold: boolean;
	/** Collapse runs of inner white space to one space. */
	collapseSpace: boolean;
	/** Remove every character but digits and a leading '+' (phone numbers). */
	digitsOnly?: boolean;
}

export const DEFAULT_RULE: NormalizeRule = { caseFold: true, collapseSpace: true };

/** Per-field rules; fields not named here use DEFAULT_RULE. */
export const FIELD_RULES: Record<string, NormalizeRule> = {
	email: { caseFold: true, collapseSpace: false },
	phone: { caseFold: false, collapseSpace: false, digitsOnly: true },
	externalId: { caseFold: false, collapseSpace: false },
	employeeNumber: { caseFold: false, collapseSpace: false }
};

export const ruleFor = (field: string, overrides?: Record<string, NormalizeRule>): NormalizeRule =>
	overrides?.[field] ?? FIELD_RULES[field] ?? DEFAULT_RULE;

const SPACE = /\s+/g;
const NOT_DIGIT = /[^\d+]/g;

/**
 * NFC, trimmed, optionally case-folded. JavaScript has no full case folding; upper- then
 * lower-casing covers the folds that matter for names (ß -> ss, final sigma).
 */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

export function normalize(value: string | null | undefined, rule: NormalizeRule = DEFAULT_RULE): string {
	if (value == null) return '';
	// Printable ASCII is already NFC and folds by lower-casing alone: the common case, kept cheap.
	if (PRINTABLE_ASCII.test(value)) {
		let s = value.trim();
		if (rule.digitsOnly) return s.replace(NOT_DIGIT, '');
		if (rule.collapseSpace) s = s.replace(SPACE, ' ');
		return rule.caseFold ? s.toLowerCase() : s;
	}
	let s = value.normalize('NFC').trim();
	if (rule.digitsOnly) return s.replace(NOT_DIGIT, '');
	if (rule.collapseSpace) s = s.replace(SPACE, ' ');
	if (rule.caseFold) s = s.toUpperCase().toLowerCase().normalize('NFC');
	return s;
}
