// `npm start`: build the PWA, then serve it and the API from one `wrangler dev` process.
//   PORT=8787 (default) · extra arguments go to wrangler, e.g. `npm start -- --test-scheduled`
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name) => `${root}node_modules/.bin/${name}`;
const port = process.env.PORT ?? '8787';

ensureDevVars(`${root}.dev.vars`);

const build = spawnSync(bin('vite'), ['build'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const env = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false' };
const wrangler = spawn(bin('wrangler'), ['dev', '--ip', '127.0.0.1', '--port', port, ...process.argv.slice(2)], {
	cwd: root,
	stdio: 'inherit',
	env
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => wrangler.kill(signal));
wrangler.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

/** Creates .dev.vars with a random CREDENTIALS_KEY, or adds the key if the file lacks one. */
function ensureDevVars(path) {
	const current = existsSync(path) ? readFileSync(path, 'utf8') : '';
	if (/^CREDENTIALS_KEY=\S+/m.test(current)) return;
	const line = `CREDENTIALS_KEY=${randomBytes(32).toString('base64')}\n`;
	const rest = current.replace(/^CREDENTIALS_KEY=.*\n?/m, '');
	const header = current ? '' : '# Local secrets for wrangler dev. Never commit this file.\n';
	writeFileSync(path, header + rest + (rest && !rest.endsWith('\n') ? '\n' : '') + line, { mode: 0o600 });
	console.log(`Wrote a new CREDENTIALS_KEY to ${path}`);
}
