/**
 * The browser benchmark page, built apart from the app (never part of the product UI):
 * `vite build --config bench/browser/vite.config.ts` writes bench/out/browser/.
 */
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

export default defineConfig({
	root: fileURLToPath(new URL('.', import.meta.url)),
	resolve: { alias: { $lib: fileURLToPath(new URL('../../src/lib', import.meta.url)) } },
	worker: { format: 'es' },
	logLevel: 'warn',
	build: { outDir: fileURLToPath(new URL('../out/browser', import.meta.url)), emptyOutDir: true, target: 'es2022' }
});
