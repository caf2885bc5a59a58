/**
 * The soak: `wrangler dev` as `npm start` runs it, under ordinary load for SOAK_SECONDS (default
 * 300), to show that workerd's memory stays flat. In wrangler dev 4.86 a Response passed through a
 * Durable Object's `stub.fetch()` stays in workerd's heap (STACK.md); before the sandboxes were
 * reached over RPC, 20 readers and a provisioning run grew workerd until V8 aborted.
 *
 * Set-up (not measured): the PWA is built if build/index.html is missing; the project is copied
 * (see freeze; SOAK_REF=<commit> copies a commit instead); in the edge bench's workerd, on
 * throwaway state: the bootstrap (owner token), a source sandbox seeded over RPC with 10k people,
 * 500 communities and 30k memberships, an empty target sandbox, and a provisioning link between
 * them, enabled. Then wrangler dev takes that state over, and the first real run starts with the load.
 *
 * Load, all on 127.0.0.1, every loop bounded by the deadline and a request count:
 * - 20 readers, each cycling through GET /api/links, /api/links/:id, /api/links/:id/runs,
 *   /api/links/:id/plan, /api/systems/:id/snapshot of both sandboxes (10k people read through the
 *   connector) and a page of the source's public SCIM /Users (with a sandbox token); each names
 *   the answer it holds (If-None-Match), as the app does, so an unchanged plan is a 304 (a
 *   system's snapshot is read either way, and not sent again when its records did not change);
 *   each reads a body to its end as it comes, without decoding it (see Call.discard), and asks
 *   again as soon as it has its answer (SOAK_PACE_MS=<ms> makes it wait that long first);
 * - 5 progress streams (GET /api/links/:id/runs/:runId/events), each following the running run and
 *   reconnecting to the next one;
 * - a runner: when a run ends it changes 50 people in the source (SCIM PATCH) and starts the next
 *   real run, so something keeps writing.
 *
 * One JSON line: requests; errors (network errors, time-outs after 60 s, and non-2xx answers but
 * the expected 409 of a run started while one runs); GETs sent again after workerd closed their
 * kept-alive connection unanswered, as a browser does (resentAfterClose, see closedBeforeAnswer);
 * p50/p95/max in ms (a progress stream counts until its headers; p95LightMs leaves out the plan
 * and snapshot reads, 3-17 MB each); the resident memory of every workerd (VmRSS: wrangler's proxy
 * and the Worker's) at the start of the load, after a 30 s warm-up and at the end, and the
 * Worker isolate's V8 heap in use at the same moments; whether a workerd was replaced; and how
 * many "RPC stub/result was not disposed" warnings wrangler printed. Goals: no errors, p95 under
 * 1 s, memory at the end within 1.5x of the memory after warm-up. Figures are printed, never
 * asserted.
 * SOAK_DEBUG=1 prints the memory and CPU series, latency by route and the first errors to stderr,
 * and what the Worker and the link answered while a request had no headers for 20 s;
 * SOAK_PROFILE=1 the functions workerd spent the load in; SOAK_PROBE=1 times each route alone.
 * To tell the Worker's share from wrangler's: SOAK_DIRECT=1 sends the load past wrangler's proxy,
 * SOAK_WORKERD=1 runs it in the edge bench's own workerd with no wrangler at all, SOAK_FRESH=1
 * opens a connection per request. SOAK_RUNS=<n> caps the runner's runs (1: the first 10k run
 * alone), SOAK_PACE_MS=<ms> paces the readers, SOAK_DROP_MS=<ms> closes progress streams early.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
	cpSync,
	existsSync,
	mkdirSync,
	mkdtempSync,
	readdirSync,
	readFileSync,
	rmSync,
	symlinkSync,
	writeFileSync
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startWranglerDev, type WranglerDev } from '../tests/support/wrangler-dev';
import { Api, cpuProfiler, directory, heapUsageMB, provisioningLink, seedSandbox, startEdge } from './edge';
import type { BenchLine } from './measure';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SECONDS = Number(process.env.SOAK_SECONDS ?? 300);
const WARM_UP_SECONDS = Math.min(30, SECONDS / 3);
const PEOPLE = 10_000;
const READERS = 20;
const STREAMS = 5;
/**
 * How long a reader waits after each answer before its next request (SOAK_PACE_MS, default 0: a
 * tight loop, as docs/soak.md's figures are taken unless they say otherwise). Pacing the readers
 * to a poll a second does not lower p95: the runs finish sooner, so more of them start, and the
 * runner alone keeps the isolate's one thread busy.
 */
const PACE_MS = Number(process.env.SOAK_PACE_MS ?? 0);
/**
 * SOAK_DROP_MS=<ms>: each progress stream is closed after a random time up to this, as a phone
 * that sleeps or loses its network closes it, and the client follows the run again (default 0:
 * a stream is followed until its run ends).
 */
const DROP_MS = Number(process.env.SOAK_DROP_MS ?? 0);
/**
 * Runs the runner starts at most (SOAK_RUNS; SOAK_NORUN=1 is 0): by default one after another
 * for the whole soak, each re-reading both 10k directories; SOAK_RUNS=1 is the one 10k run alone.
 */
const RUNS = process.env.SOAK_NORUN ? 0 : Number(process.env.SOAK_RUNS ?? 1000);
/** No request waits longer than this: a loop always comes back to its deadline. */
const REQUEST_TIMEOUT_MS = 60_000;
/** With SOAK_DEBUG, a request this long without headers makes the soak probe the Worker and the link. */
const STUCK_MS = 20_000;
const DEBUG = !!process.env.SOAK_DEBUG;
/** A stall of the soak's own event loop worth reporting (ms). */
const STALL_MS = 200;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function soakCases(emit: (line: BenchLine) => void): Promise<void> {
	ensureBuild();
	if (process.env.SOAK_FRESH) {
		// undici is Node's fetch and comes with miniflare; its global dispatcher is the one fetch uses.
		const { Agent, setGlobalDispatcher } = await import('undici');
		setGlobalDispatcher(new Agent({ pipelining: 0 }));
	}
	const dir = mkdtempSync(join(tmpdir(), 'rostersync-soak-'));
	try {
		const root = freeze(join(dir, 'project'), process.env.SOAK_REF);
		const state = join(dir, 'state');
		const credentialsKey = randomBytes(32).toString('base64');
		const setup = await prepare(root, state, credentialsKey);
		const server = process.env.SOAK_WORKERD
			? await ownWorkerd(root, state, credentialsKey)
			: await wranglerDev(root, state, credentialsKey);
		try {
			if (process.env.SOAK_PROBE) await probe(server, setup);
			else
				emit({
					...(await soak(server, setup)),
					...(process.env.SOAK_WORKERD ? { server: 'workerd' } : process.env.SOAK_DIRECT ? { server: 'direct' } : {}),
					...(process.env.SOAK_REF ? { ref: process.env.SOAK_REF } : {})
				});
		} finally {
			await server.stop();
		}
	} finally {
		if (process.env.SOAK_PROFILE) cpSync(join(dir, 'project/bench/out/edge-bundle/index.js'), '/tmp/soak-bundle.js');
		rmSync(dir, { recursive: true, force: true });
	}
}

/** What the load runs against. */
interface Server {
	url: string;
	/** The inspector's port, and how the Worker's target there is named (bench/edge.ts's own by default). */
	inspector: { port: number; match?: string };
	/** The workerd processes serving, as they are now. */
	processes(): number[];
	/** wrangler dev's proxy workerd (the port clients connect to), when there is one. */
	proxy?: number;
	/** What wrangler printed ('' without wrangler). */
	output(): string;
	stop(): Promise<void>;
}

/**
 * wrangler dev as `npm start` runs it: two workerd, one for its proxy Worker (the port clients
 * connect to), one for this Worker. SOAK_DIRECT=1 sends the load to the second one, past the proxy.
 */
async function wranglerDev(root: string, state: string, credentialsKey: string): Promise<Server> {
	serveBundle(root);
	const dev = await startWranglerDev({
		timeoutMs: 120_000,
		persistTo: state,
		credentialsKey,
		root,
		// SOAK_DIRECT needs the debug log: it is where wrangler names the Worker's own address.
		logLevel: process.env.SOAK_DIRECT ? 'debug' : 'info'
	});
	const processes = () => workerds(dev.pid);
	return {
		url: process.env.SOAK_DIRECT ? userWorkerUrl(dev) : dev.url,
		inspector: { port: dev.inspectorPort, match: '/ws' },
		processes,
		proxy: processes().find((pid) => cmdline(pid).includes(`entry=127.0.0.1:${new URL(dev.url).port}`)),
		output: () => dev.output(),
		stop: () => dev.stop()
	};
}

/**
 * SOAK_WORKERD=1: the same bundle and state in the edge bench's own workerd (bench/edge.ts, V8's
 * heap capped as Cloudflare caps an isolate), with no wrangler in between: what wrangler dev adds
 * (its proxy Worker, its inspector) is then out of the figures.
 */
async function ownWorkerd(root: string, state: string, credentialsKey: string): Promise<Server> {
	const edge = await startEdge({ persistRoot: join(state, 'v3'), credentialsKey, root });
	return {
		url: edge.url,
		inspector: { port: edge.inspectorPort },
		processes: () => (rssMB(edge.pid) > 0 ? [edge.pid] : []),
		output: () => '',
		stop: () => edge.stop()
	};
}

/**
 * A copy of what wrangler dev serves (worker/, src/, wrangler.toml, build/; node_modules/ linked):
 * wrangler dev rebuilds and restarts workerd whenever one of its sources changes, so in a
 * working tree that others edit the soak would restart midway. SOAK_REF=<commit> takes the copy
 * from git instead (the code before a fix, say). Returns the copy's directory.
 */
function freeze(root: string, ref: string | undefined): string {
	const sources = ['worker', 'src', 'wrangler.toml', 'package.json', 'tsconfig.json'];
	mkdirSync(root, { recursive: true });
	if (ref) {
		const archive = spawnSync('git', ['archive', '--format=tar', ref, ...sources], { cwd: ROOT, maxBuffer: 1 << 30 });
		if (archive.status !== 0) throw new Error(`git archive ${ref}: ${archive.stderr}`);
		const tar = spawnSync('tar', ['-x', '-C', root], { input: archive.stdout });
		if (tar.status !== 0) throw new Error(`tar: ${tar.stderr}`);
	} else {
		for (const path of sources) cpSync(join(ROOT, path), join(root, path), { recursive: true });
	}
	// Copied, not linked: the PWA is rebuilt by others' browser tests, and wrangler watches it too.
	for (const path of ['build', '.svelte-kit']) cpSync(join(ROOT, path), join(root, path), { recursive: true });
	symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
	return root;
}

/**
 * Points the copy's wrangler.toml at the Worker bundle prepare() made (`wrangler deploy --dry-run`,
 * the same modules wrangler dev would build), without bundling: wrangler dev then watches no
 * source at all, not even node_modules/, which others' vite runs write into.
 */
function serveBundle(root: string): void {
	const config = join(root, 'wrangler.toml');
	const text = readFileSync(config, 'utf8');
	if (!/^main = "worker\/index\.ts"$/m.test(text)) throw new Error('wrangler.toml: main is not worker/index.ts');
	writeFileSync(config, text.replace(/^main = .*$/m, 'main = "bench/out/edge-bundle/index.js"\nno_bundle = true'));
}

/** wrangler dev serves build/ (wrangler.toml [assets]): built once when missing. */
function ensureBuild(): void {
	if (existsSync(join(ROOT, 'build/index.html'))) return;
	const built = spawnSync(join(ROOT, 'node_modules/.bin/vite'), ['build'], { cwd: ROOT, encoding: 'utf8' });
	if (built.status !== 0) throw new Error(`vite build failed: ${built.stderr}${built.stdout}`);
}

interface Setup {
	owner: string;
	source: string;
	target: string;
	linkId: string;
	setupMs: number;
}

/**
 * The systems and the link, made in a workerd of the edge bench's own (bench/edge.ts) on the
 * state wrangler dev then takes over: the source is filled through the SandboxDO's `seed` RPC in
 * seconds, which from outside wrangler dev would take 10k SCIM requests.
 */
async function prepare(root: string, state: string, credentialsKey: string): Promise<Setup> {
	const started = performance.now();
	const edge = await startEdge({ persistRoot: join(state, 'v3'), credentialsKey, root });
	try {
		const api = new Api(edge.url);
		const { token: owner } = await api.call<{ token: string }>('POST', '/api/bootstrap');
		api.authorize(owner);
		const sandbox = async (name: string) =>
			(await api.call<{ id: string }>('POST', '/api/systems', { name, connector: 'sandbox', region: 'eu' })).id;
		const source = await sandbox('Soak source');
		const target = await sandbox('Soak target');
		await seedSandbox(edge, source, directory(PEOPLE, PEOPLE / 20, 3));
		const linkId = await provisioningLink(api, 'Soak', source, target);
		await api.call('POST', `/api/links/${linkId}/enable`);
		return {
			owner,
			source,
			target,
			linkId,
			setupMs: Math.round(performance.now() - started)
		};
	} finally {
		await edge.stop();
	}
}

/** Counts and latencies of every request made under load. */
class Tally {
	requests = 0;
	errors = 0;
	conflicts = 0;
	/** GETs sent again once after the server closed a kept-alive connection unanswered (closedBeforeAnswer). */
	resent = 0;
	readonly ms: number[] = [];
	readonly samples: string[] = [];
	/** Called once for a request that had no headers after STUCK_MS (SOAK_DEBUG). */
	onStuck?: (what: string) => void;
	/** What the probes found while a request was stuck. */
	readonly stuck: string[] = [];
	/** Latencies by route (ids and queries left out), for SOAK_DEBUG. */
	readonly byRoute = new Map<string, number[]>();
	/** Answers by route and status ("200", "304"), for SOAK_DEBUG: how often a read was made again. */
	readonly statuses = new Map<string, Map<number, number>>();

	ok(ms: number, route = '', status?: number): void {
		this.requests++;
		this.time(ms, route);
		if (status === undefined) return;
		const counts = this.statuses.get(routeKey(route)) ?? new Map<number, number>();
		counts.set(status, (counts.get(status) ?? 0) + 1);
		this.statuses.set(routeKey(route), counts);
	}

	fail(what: string, ms?: number, route = ''): void {
		this.requests++;
		this.errors++;
		if (ms !== undefined) this.time(ms, route);
		if (this.samples.length < 20) this.samples.push(what);
	}

	private time(ms: number, route: string): void {
		this.ms.push(ms);
		const key = routeKey(route);
		const list = this.byRoute.get(key) ?? [];
		list.push(ms);
		this.byRoute.set(key, list);
	}

	percentile(p: number, ms = this.ms): number {
		const sorted = [...ms].sort((x, y) => x - y);
		return sorted.length === 0 ? 0 : Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]);
	}

	/** The p-th latency of the requests other than the two that read everything (plan, snapshot). */
	lightPercentile(p: number): number {
		const light = [...this.byRoute].filter(([route]) => !/\/(plan|snapshot)$/.test(route)).flatMap(([, ms]) => ms);
		return this.percentile(p, light);
	}

	routes(): string {
		return [...this.byRoute]
			.map(([route, ms]) => {
				const counts = [...(this.statuses.get(route) ?? [])].map(([status, n]) => `${status}:${n}`).join(' ');
				return `${route}: n=${ms.length} p50=${this.percentile(0.5, ms)} p95=${this.percentile(0.95, ms)} ${counts}`;
			})
			.join('\n');
	}
}

/** Reads `res`'s body to its end (a cut one throws as text() would), keeping none of it. */
async function drain(res: Response): Promise<string> {
	const reader = res.body?.getReader();
	if (!reader) return '';
	while (!(await reader.read()).done);
	return '';
}

/** A route with its ids and query left out. */
function routeKey(route: string): string {
	return route
		.replace(/\?.*$/, '')
		.replace(/\/(sys|lnk)_[^/]+/g, '/:id')
		.replace(/\/(runs|Users)\/[^/]+/g, '/$1/:id');
}

interface Call {
	method?: string;
	body?: unknown;
	token: string;
	/** Statuses that are no error (besides 2xx). */
	expected?: number[];
	/** If-None-Match: the ETag of the answer the caller holds. */
	held?: string;
	/**
	 * A 2xx body is read to its end but not decoded or kept: a reader needs only the status and
	 * the tag, and turning 17 MB plans into strings would take the cores the Worker is measured on.
	 * Read promptly, too: fetch() fails a gzipped body read more than 5 s after workerd finished
	 * sending it ("other side closed": workerd closes the idle kept-alive connection; docs/soak.md).
	 */
	discard?: boolean;
}

/**
 * Whether `e` is a kept-alive connection the server closed before any answer came. workerd closes
 * a kept-alive connection 5 s after its last answer unless the next request was read by then,
 * and a thread saturated by a 10k run reads it late: the request sent at once is dropped. A
 * browser sends an idempotent request again on a new connection when that happens (Chromium
 * does for a reused connection closed or reset before any answer); so does this client, once.
 * The close arrives as "other side closed", or as a reset when the request was already sent.
 * (SOAK_FRESH=1 opens a connection per request instead: no such closes at all.)
 */
const closedBeforeAnswer = (e: unknown): boolean =>
	e instanceof Error && e.cause instanceof Error && /other side closed|ECONNRESET/.test(e.cause.message);

/** One request, its body read to the end, counted in `tally` (when given). */
async function request(
	origin: string,
	path: string,
	call: Call,
	tally?: Tally
): Promise<{ status: number; text: string; etag?: string } | undefined> {
	const start = performance.now();
	const method = call.method ?? 'GET';
	for (let attempt = 0; ; attempt++) {
		// Where a failure happened, for SOAK_DEBUG: before the answer's headers, or while its body came.
		let headersAt: number | undefined;
		// How a cut body was sent: packed or plain, with a length or chunked.
		let framing = '';
		const stuck = tally?.onStuck
			? setTimeout(() => headersAt === undefined && tally.onStuck?.(`${method} ${path}`), STUCK_MS)
			: undefined;
		try {
			const res = await fetch(`${origin}${path}`, {
				method,
				headers: {
					authorization: `Bearer ${call.token}`,
					...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
					...(call.held ? { 'if-none-match': call.held } : {})
				},
				body: call.body === undefined ? undefined : JSON.stringify(call.body),
				signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS)
			});
			headersAt = performance.now() - start;
			framing = `${res.headers.get('content-encoding') ?? 'plain'}, ${res.headers.get('content-length') ?? 'chunked'}`;
			const text = call.discard && res.ok ? await drain(res) : await res.text();
			const ms = performance.now() - start;
			const route = `${method} ${path}`;
			if (res.ok || res.status === 304) tally?.ok(ms, route, res.status);
			else if (call.expected?.includes(res.status)) {
				tally?.ok(ms, route, res.status);
				if (res.status === 409 && tally) tally.conflicts++;
			} else tally?.fail(`${route}: ${res.status} ${text.slice(0, 200)}`, ms, route);
			return { status: res.status, text, ...(res.headers.get('etag') ? { etag: res.headers.get('etag')! } : {}) };
		} catch (e) {
			if (attempt === 0 && headersAt === undefined && method === 'GET' && closedBeforeAnswer(e)) {
				if (tally) tally.resent++;
				continue;
			}
			const when =
				headersAt === undefined
					? `no headers after ${Math.round(performance.now() - start)} ms`
					: `headers after ${Math.round(headersAt)} ms, body unfinished at ${Math.round(performance.now() - start)} ms (${framing})`;
			tally?.fail(
				`${method} ${path}: ${e instanceof Error ? `${e.message} (${String(e.cause)})` : e}; ${when}, started ${new Date(Date.now() - (performance.now() - start)).toISOString().slice(11, 19)}`
			);
			return undefined;
		} finally {
			clearTimeout(stuck);
		}
	}
}

/** The JSON answer of a set-up request, which must succeed. */
async function must<T = any>(origin: string, path: string, call: Call): Promise<T> {
	const res = await request(origin, path, call);
	if (!res || res.status >= 300)
		throw new Error(
			`${call.method ?? 'GET'} ${path}: ${res ? `${res.status} ${res.text.slice(0, 300)}` : 'no answer'}`
		);
	return (res.text ? JSON.parse(res.text) : undefined) as T;
}

/** `items` through `fn`, `limit` at a time. */
async function each<T>(items: T[], limit: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
	let next = 0;
	await Promise.all(
		Array.from({ length: limit }, async () => {
			while (next < items.length) {
				const i = next++;
				await fn(items[i], i);
			}
		})
	);
}

/** Every workerd under wrangler's process `root`. */
function workerds(root: number): number[] {
	const parent = new Map<number, number>();
	const names = new Map<number, string>();
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
			names.set(Number(entry), stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')));
			parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
		} catch {
			// exited meanwhile
		}
	}
	const under = (pid: number): boolean => {
		for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === root) return true;
		return false;
	};
	return [...names].filter(([pid, name]) => name.startsWith('workerd') && under(pid)).map(([pid]) => pid);
}

/** The command line of `pid`, or '' when it is gone. */
function cmdline(pid: number): string {
	try {
		return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
	} catch {
		return '';
	}
}

/** CPU time `pid` used (user and system), in hundredths of a second (clock ticks on Linux). */
function cpuTicks(pid: number): number {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		return Number(fields[11]) + Number(fields[12]);
	} catch {
		return 0;
	}
}

/**
 * The soak's own event loop, late: while it is, this process sends and reads nothing, so a request
 * it stamped waits here, not in workerd, and an answer's bytes wait in the socket. Reported so a
 * latency is not blamed on the Worker that the load generator caused.
 */
function watchStalls(overMs: number) {
	const every = 50;
	const stalls: { at: number; ms: number }[] = [];
	let last = performance.now();
	const timer = setInterval(() => {
		const now = performance.now();
		const late = now - last - every;
		if (late > overMs) stalls.push({ at: Date.now() - late, ms: Math.round(late) });
		last = now;
	}, every);
	return {
		stop: () => clearInterval(timer),
		max: () => Math.max(0, ...stalls.map((s) => s.ms)),
		total: () => stalls.reduce((sum, s) => sum + s.ms, 0),
		list: () => stalls.map((s) => `${new Date(s.at).toISOString().slice(11, 19)} ${s.ms} ms`).join(', ')
	};
}

/** VmRSS of `pid` in MB, or 0 when the process is gone. */
function rssMB(pid: number): number {
	try {
		const status = readFileSync(`/proc/${pid}/status`, 'utf8');
		return Math.round(Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) / 1024);
	} catch {
		return 0;
	}
}

async function soak(server: Server, setup: Setup): Promise<BenchLine> {
	const origin = server.url;
	const { owner, source, target, linkId } = setup;
	const { token: scimToken } = await must<{ token: string }>(origin, `/api/sandbox/${source}/token`, {
		method: 'POST',
		body: {},
		token: owner
	});
	// Every workerd counts: before the sandboxes were reached over RPC, it was wrangler's proxy that grew.
	const processes = server.processes();
	if (processes.length === 0) throw new Error('no workerd process serves the Worker');
	const entry = server.proxy;
	const memory = () => server.processes().reduce((sum, pid) => sum + rssMB(pid), 0);
	const cpu = () => server.processes().reduce((sum, pid) => sum + cpuTicks(pid), 0);

	const profile = process.env.SOAK_PROFILE
		? await cpuProfiler(server.inspector.port, server.inspector.match)
		: undefined;
	const tally = new Tally();
	// A request without headers for STUCK_MS: does the Worker answer meanwhile, and the link's
	// Durable Object? (Link requests unanswered for 60 s were seen a few times; see docs/soak.md.)
	let probing = false;
	if (DEBUG)
		tally.onStuck = (what) => {
			if (probing || tally.stuck.length >= 10) return;
			probing = true;
			const at = new Date().toISOString().slice(11, 19);
			// Sent outside the tally: they are not part of the load.
			const timed = async (path: string) => {
				const t = performance.now();
				const res = await request(origin, path, { token: owner });
				const ms = Math.round(performance.now() - t);
				return res ? `${path} ${res.status} in ${ms} ms` : `${path} unanswered after ${ms} ms`;
			};
			void Promise.all(['/api/health', `/api/links/${linkId}`, `/api/links/${linkId}/runs?limit=1`].map(timed)).then(
				(found) => {
					tally.stuck.push(`${at} ${what}: no headers after ${STUCK_MS / 1000} s; meanwhile ${found.join('; ')}`);
					probing = false;
				}
			);
		};
	const stalls = watchStalls(STALL_MS);
	const start = Date.now();
	const deadline = start + SECONDS * 1000;
	const left = () => deadline - Date.now();
	const rss = { start: memory(), warm: 0, peak: 0 };
	// The Worker isolate's V8 heap beside workerd's resident memory (not while the profiler holds
	// the inspector): growth outside the heap is workerd's or wrangler's, not the Worker's objects.
	const heap = async () =>
		profile ? undefined : await heapUsageMB(server.inspector.port, server.inspector.match).catch(() => undefined);
	const heaps = { start: await heap(), warm: undefined as Awaited<ReturnType<typeof heap>> };
	const series: string[] = [];
	let lastTicks = cpu();
	let lastOwn = cpuTicks(process.pid);
	let lastAt = Date.now();
	const sampler = (async () => {
		while (left() > 0) {
			const now = memory();
			rss.peak = Math.max(rss.peak, now);
			if (!rss.warm && Date.now() - start >= WARM_UP_SECONDS * 1000) {
				rss.warm = now;
				heaps.warm = await heap();
			}
			// Share of one core both workerd used since the last sample (a Worker runs on one thread).
			const ticks = cpu();
			const own = cpuTicks(process.pid);
			const seconds = Math.max(0.001, (Date.now() - lastAt) / 1000);
			const busy = Math.round((ticks - lastTicks) / seconds);
			// And this process's: the load generator on the same two cores.
			const soakBusy = Math.round((own - lastOwn) / seconds);
			let health = '';
			if (DEBUG) {
				const t = performance.now();
				health = await fetch(`${origin}/api/health`, { signal: AbortSignal.timeout(3000) }).then(
					(r) => `/health ${r.status} ${Math.round(performance.now() - t)} ms`,
					() => '/health timeout'
				);
			}
			const split = server.processes().map((p) => `${p === entry ? 'proxy' : p}:${rssMB(p)}`);
			series.push(
				`${Math.round((Date.now() - start) / 1000)}s:${now}MB(${split.join(',')})/${busy}%/soak ${soakBusy}%${health}`
			);
			lastTicks = ticks;
			lastOwn = own;
			lastAt = Date.now();
			await sleep(Math.min(5000, Math.max(0, left())));
		}
	})();

	let runsStarted = 0;
	let runsEnded = 0;
	const runner = (async () => {
		for (let round = 0; left() > 0 && round < RUNS; round++) {
			if (round > 0) {
				// Something for the next run to write: 50 people of the source renamed.
				const renamed = Array.from({ length: 50 }, (_, i) => `p${(round * 50 + i) % PEOPLE}`);
				await each(renamed, 4, async (id) => {
					if (left() <= 0) return;
					await request(
						origin,
						`/api/sandbox/${source}/scim/v2/Users/${id}`,
						{
							method: 'PATCH',
							body: {
								schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
								Operations: [{ op: 'replace', path: 'displayName', value: `Renamed ${round}` }]
							},
							token: scimToken
						},
						tally
					);
				});
			}
			const started = await request(
				origin,
				`/api/links/${linkId}/runs`,
				{ method: 'POST', body: { dryRun: false }, token: owner, expected: [409] },
				tally
			);
			if (started?.status === 202) runsStarted++;
			const runId = started?.status === 202 ? (JSON.parse(started.text).id as string) : undefined;
			for (let polls = 0; left() > 0 && polls < 100_000; polls++) {
				await sleep(Math.min(2000, Math.max(0, left())));
				const res = await request(
					origin,
					runId ? `/api/links/${linkId}/runs/${runId}?limit=1` : `/api/links/${linkId}/runs?limit=1`,
					{ token: owner },
					tally
				);
				if (!res || res.status !== 200) continue;
				const status = runId ? JSON.parse(res.text).status : JSON.parse(res.text)[0]?.status;
				if (status !== 'running') {
					runsEnded++;
					break;
				}
			}
		}
	})();

	const routes = [
		() => '/api/links',
		() => `/api/links/${linkId}`,
		() => `/api/links/${linkId}/runs`,
		() => `/api/links/${linkId}/plan`,
		() => `/api/systems/${source}/snapshot`,
		() => `/api/systems/${target}/snapshot`,
		() => `/api/sandbox/${source}/scim/v2/Users?startIndex=${1 + Math.floor(Math.random() * PEOPLE)}&count=100`
	];
	const only = process.env.SOAK_ROUTES ? routes.filter((r) => new RegExp(process.env.SOAK_ROUTES!).test(r())) : routes;
	// Each reader polls as the app does: it names the answer it holds (If-None-Match), so a plan
	// or snapshot that did not change is a 304, not megabytes again.
	const readers = Array.from({ length: READERS }, async (_, reader) => {
		const held = new Map<string, string>();
		for (let n = 0; left() > 0 && n < 1_000_000; n++) {
			const path = only[(reader + n) % only.length]();
			const token = path.startsWith('/api/sandbox/') ? scimToken : owner;
			const res = await request(origin, path, { token, held: held.get(path), discard: true }, tally);
			if (res?.etag && res.status === 200) held.set(path, res.etag);
			if (PACE_MS > 0) await sleep(Math.min(PACE_MS, Math.max(0, left())));
		}
	});

	const streams = Array.from({ length: STREAMS }, async () => {
		for (let n = 0; left() > 0 && n < 100_000; n++) {
			const runs = await request(origin, `/api/links/${linkId}/runs?limit=1`, { token: owner }, tally);
			const run = runs?.status === 200 ? (JSON.parse(runs.text)[0] as { id: string; status: string }) : undefined;
			if (run?.status !== 'running') {
				await sleep(Math.min(1000, Math.max(0, left())));
				continue;
			}
			await follow(
				origin,
				`/api/links/${linkId}/runs/${run.id}/events`,
				owner,
				DROP_MS > 0 ? Math.min(left(), Math.random() * DROP_MS) : left(),
				tally
			);
		}
	});

	await Promise.all([...readers, ...streams, runner, sampler]);
	stalls.stop();
	if (profile) console.error(await profile.stop());
	const rssEnd = memory();
	const heapEnd = await heap();
	const died = processes.filter((pid) => rssMB(pid) === 0).length;
	const replaced = server.processes().filter((pid) => !processes.includes(pid)).length;
	const proxyEnd = entry === undefined ? 0 : rssMB(entry);
	const warnings = (server.output().match(/RPC (stub|result) was not disposed/g) ?? []).length;
	const reloads = (server.output().match(/Reloading local server/g) ?? []).length;
	if (DEBUG) {
		console.error(`rss series (MB): ${series.join(' ')}`);
		console.error(`latency by route (ms):\n${tally.routes()}`);
		if (tally.samples.length > 0) console.error(`first errors:\n${tally.samples.join('\n')}`);
		if (tally.stuck.length > 0) console.error(`while requests were stuck:\n${tally.stuck.join('\n')}`);
		console.error(`the soak's own event loop late by over ${STALL_MS} ms: ${stalls.list() || 'never'}`);
		if (server.output()) {
			const log = join(tmpdir(), `rostersync-soak-wrangler-${process.pid}.log`);
			writeFileSync(log, server.output());
			console.error(`wrangler's output: ${log}`);
		}
		if (died > 0) console.error(`a workerd is gone; wrangler's last words:\n${server.output().slice(-4000)}`);
	}
	return {
		case: 'soak',
		seconds: SECONDS,
		people: PEOPLE,
		readers: READERS,
		paceMs: PACE_MS,
		streams: STREAMS,
		requests: tally.requests,
		errors: tally.errors,
		expected409: tally.conflicts,
		resentAfterClose: tally.resent,
		p50Ms: tally.percentile(0.5),
		p95Ms: tally.percentile(0.95),
		maxMs: tally.percentile(1),
		// The load generator's own longest stall and their sum (ms): requests waited here meanwhile.
		loadStallMaxMs: stalls.max(),
		loadStallTotalMs: stalls.total(),
		p95LightMs: tally.lightPercentile(0.95),
		runsStarted,
		runsEnded,
		rssStartMB: rss.start,
		rssWarmMB: rss.warm,
		rssEndMB: rssEnd,
		rssPeakMB: Math.max(rss.peak, rssEnd),
		endOverWarm: rss.warm ? Math.round((rssEnd / rss.warm) * 100) / 100 : 0,
		proxyRssEndMB: proxyEnd,
		// The Worker isolate's V8 heap in use (MB), where the inspector answered.
		...(heaps.start ? { heapStartMB: heaps.start.used } : {}),
		...(heaps.warm ? { heapWarmMB: heaps.warm.used } : {}),
		...(heapEnd ? { heapEndMB: heapEnd.used } : {}),
		workerdDied: died,
		workerdReplaced: replaced,
		reloads,
		rpcDisposeWarnings: warnings,
		setupMs: setup.setupMs
	};
}

/**
 * Reads a run's progress stream until the server ends it (the run is over) or `ms` pass (then it
 * is closed here, which is no error). Counted as one request, its latency until the headers; a
 * kept-alive connection closed before them is connected again by the caller, as EventSource does.
 */
async function follow(origin: string, path: string, token: string, ms: number, tally: Tally): Promise<void> {
	const controller = new AbortController();
	const timer = setTimeout(() => controller.abort(), ms);
	const start = performance.now();
	let answered = false;
	try {
		const res = await fetch(`${origin}${path}`, {
			headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
			signal: controller.signal
		});
		answered = true;
		const headersMs = performance.now() - start;
		if (!res.ok || !res.body) {
			tally.fail(`GET ${path}: ${res.status} ${(await res.text()).slice(0, 200)}`, headersMs, `GET ${path}`);
			return;
		}
		tally.ok(headersMs, `GET ${path}`);
		// Drained to the end; the events themselves are not needed.
		for await (const _ of res.body);
	} catch (e) {
		if (!answered && closedBeforeAnswer(e)) tally.resent++;
		else if (!controller.signal.aborted)
			tally.fail(`GET ${path}: ${e instanceof Error ? `${e.message} (${String(e.cause)})` : e}`);
	} finally {
		clearTimeout(timer);
	}
}

/**
 * The address of the workerd that runs the Worker, behind wrangler's proxy (SOAK_DIRECT=1): the
 * load then bypasses the proxy Worker that `npm start`'s port is, to tell its failures from ours.
 */
function userWorkerUrl(dev: WranglerDev): string {
	const found = [
		...dev.output().matchAll(/"userWorkerUrl":\{"protocol":"http:","hostname":"([^"]+)","port":"(\d+)"\}/g)
	].at(-1);
	if (!found) throw new Error("SOAK_DIRECT: wrangler's debug log names no userWorkerUrl");
	return `http://${found[1]}:${found[2]}`;
}

/** SOAK_PROBE=1: instead of the soak, one request at a time to each route, idle and during the first run. */
async function probe(server: Server, setup: Setup): Promise<void> {
	const { owner, source, target, linkId } = setup;
	const { token: scimToken } = await must<{ token: string }>(server.url, `/api/sandbox/${source}/token`, {
		method: 'POST',
		body: {},
		token: owner
	});
	const paths = [
		'/api/links',
		`/api/links/${linkId}`,
		`/api/links/${linkId}/runs`,
		`/api/links/${linkId}/plan`,
		`/api/systems/${source}/snapshot`,
		`/api/systems/${target}/snapshot`,
		`/api/sandbox/${source}/scim/v2/Users?startIndex=5000&count=100`
	];
	const round = async (label: string) => {
		for (const path of paths) {
			const times: number[] = [];
			let bytes = 0;
			for (let i = 0; i < 3; i++) {
				const t = performance.now();
				const res = await request(server.url, path, { token: path.startsWith('/api/sandbox/') ? scimToken : owner });
				times.push(Math.round(performance.now() - t));
				bytes = res?.text.length ?? 0;
				if (res && res.status !== 200) console.error(`  ${res.status} ${res.text.slice(0, 300)}`);
			}
			console.error(`${label} ${path.replace(/(sys|lnk)_[^/]+/g, ':id')}: ${times.join(' ')} ms, ${bytes} chars`);
		}
	};
	await round('idle');
	await must(server.url, `/api/links/${linkId}/runs`, { method: 'POST', body: { dryRun: false }, token: owner });
	for (let i = 0; i < 3; i++) await round(`run${i}`);
}
