import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';
import svelteConfig from './svelte.config.js';

export default ts.config(
	{ ignores: ['build/', '.svelte-kit/', '.wrangler/', 'node_modules/', 'test-results/', 'bench/out/'] },
	js.configs.recommended,
	...ts.configs.recommended,
	...svelte.configs.recommended,
	{
		languageOptions: { globals: { ...globals.browser, ...globals.node } },
		rules: {
			// Unused names are mistakes, except the `_` placeholders of destructuring and callbacks.
			'@typescript-eslint/no-unused-vars': [
				'error',
				{ argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }
			],
			// The core and the edge use `!` where a preceding check makes a value present.
			'@typescript-eslint/no-non-null-assertion': 'off',
			// A static SPA served from the site's root: resolve() would return every href unchanged.
			'svelte/no-navigation-without-resolve': 'off',
			// State managers keep plain Sets and Maps for bookkeeping nobody renders; what renders is
			// declared with runes ($state, $state.raw), replaced rather than mutated.
			'svelte/prefer-svelte-reactivity': 'off'
		}
	},
	{
		// Tests and benchmarks poke at JSON answers whose shape the assertion itself checks.
		files: ['tests/**', 'bench/**'],
		rules: { '@typescript-eslint/no-explicit-any': 'off' }
	},
	{
		files: ['**/*.svelte', '**/*.svelte.ts'],
		languageOptions: {
			parserOptions: { projectService: true, extraFileExtensions: ['.svelte'], parser: ts.parser, svelteConfig }
		}
	}
);
