/**
 * Edge cases: the link engine inside workerd, against a sandbox source and a SCIMMY target on
 * 127.0.0.1. The Worker is bundled by wrangler exactly as for a deploy (`wrangler deploy
 * --dry-run`) and run by Miniflare (workerd) from this process, which also lets the bench fill
 * the sandboxes through their Durable Object's `seed` RPC instead of 100k SCIM requests. workerd
 * is stopped at the end (dispose, then its process id is killed if it is still there).
 *
 * - edge-run: a full provisioning run of 10k people, 500 groups and 30k memberships from a
 *   sandbox to SCIMMY, through the API. `opsPerSec` is the run's SCIM writes (invitations are
 *   outbox rows, not SCIM calls) over the run's whole duration (reading both systems,
 *   reconciling, every slice with its journal writes, committing the baseline).
 *   `limitOpsPerSec` is the same SCIM calls (the same connector code and payloads, in the same
 *   stage order) made by a plain Node loop at the same concurrency (the connector's 4 requests in
 *   flight) against the same SCIMMY, emptied: the target's own limit. `ratio` = the two.
 * - edge-dry-run: a dry run of a 100k-person two-way link between two directories holding the
 *   same people (5k groups, 300k memberships each side, 3% of people drifted): the first
 *   reconciliation before enabling, every person matched. Both directories are served read-only
 *   from this process (a plain SCIM server, below), not by sandboxes: a sandbox keeps its
 *   directory in the Worker's own isolate, which would then count it. It runs first, in a fresh
 *   isolate. `ms` is the run's duration.
 *
 * Memory: workerd runs with V8's heap capped at `heapLimitMB` (128, the Workers limit; see
 * heap-limit.ts), so a case that completes fits: one that needs more dies with "Reached heap
 * limit". EDGE_HEAP_MB=64 tries a tighter cap. Within the cap, `peakMB` is the largest heap V8
 * had committed during the dry run (Runtime.getHeapUsage `totalSize` over the V8 inspector,
 * sampled every few ms, and between the parts of a reconciliation); `heapUsedMB` the largest heap
 * in use sampled; `longestSampleWaitMs` the longest the isolate took to answer (it answers
 * between tasks). `rssPeakMB` is how far workerd's peak resident memory (VmHWM, reset through
 * /proc/<pid>/clear_refs) rose, SQLite's page cache included.
 *
 * EDGE_DEBUG=1 prints workerd's log, the target's request counts and the heap samples;
 * EDGE_PROFILE=1 prints where the dry run spent its CPU instead of sampling the heap.
 * `npm run bench edge` runs these alone. Figures are printed, never asserted.
 */
// First: Miniflare must be loaded through it (see heap-limit.ts).
import { withHeapLimit } from './heap-limit';
import { spawnSync } from 'node:child_process';
import { createServer, request as httpRequest } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Log, LogLevel, Miniflare } from 'miniflare';
import { resolver, runPlan, type Group, type Membership, type Op, type OpOutcome, type Person } from '../src/lib/core';
import { ScimConnector } from '../worker/connectors/scim';
import { groupToScim, personToUser, type ScimProfile } from '../worker/connectors/scim-map';
import { mapLimit } from '../worker/connectors/semaphore';
import { startScimmyProcess, type ScimmyProcess } from '../tests/support/scimmy-process';
import { freePort } from '../tests/support/wrangler-dev';
import type { BenchLine } from './measure';
import { throughputCases } from './edge-throughput';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Requests in flight to one system: the SCIM connector's default, which the edge uses too. */
const CONCURRENCY = 4;

export interface Edge {
	url: string;
	mf: Miniflare;
	/** The V8 inspector of workerd (for the isolate's heap). */
	inspectorPort: number;
	/** workerd's process id (for its memory, and to make sure it is gone at the end). */
	pid: number;
	stop(): Promise<void>;
}

/** The Worker's name in Miniflare (its inspector target is `core:user:<name>`). */
const WORKER = 'rostersync';
/** A second Worker that seeds sandboxes over RPC for this process (see seedSandbox). */
const SEEDER = 'bench-seeder';
const SEEDER_SCRIPT = `export default {
	async fetch(request, env) {
		const { systemId, records, append, info } = await request.json();
		if (info) return Response.json(await env.SANDBOXES.getByName(systemId).info());
		return Response.json(await env.SANDBOXES.getByName(systemId).seed(records, { append }));
	}
};`;

/**
 * Bundles the Worker with wrangler (as `wrangler deploy` would) and starts it in workerd. With
 * `persistRoot` its Durable Objects are stored there (as `wrangler dev --persist-to <dir>` stores
 * them under <dir>/v3), so another workerd can take over what this one set up; `root` is a copy of
 * the project to bundle instead of this one.
 */
export async function startEdge(
	options: {
		persistRoot?: string;
		credentialsKey?: string;
		root?: string;
		bindings?: Record<string, string>;
		/** V8's heap cap for this workerd, in MB (HEAP_MB unless said otherwise). */
		heapMB?: number;
	} = {}
): Promise<Edge> {
	const root = options.root ?? ROOT;
	const outdir = join(root, 'bench/out/edge-bundle');
	rmSync(outdir, { recursive: true, force: true });
	const built = spawnSync(join(ROOT, 'node_modules/.bin/wrangler'), ['deploy', '--dry-run', '--outdir', outdir], {
		cwd: root,
		encoding: 'utf8',
		env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false', CI: '1' }
	});
	if (built.status !== 0) throw new Error(`wrangler could not bundle the Worker: ${built.stderr}${built.stdout}`);
	const compatibilityDate = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(
		readFileSync(join(root, 'wrangler.toml'), 'utf8')
	)![1];
	const before = new Set(workerdChildren());
	const inspectorPort = await freePort();
	withHeapLimit(options.heapMB ?? HEAP_MB);
	const mf = new Miniflare({
		inspectorPort,
		workers: [
			{
				name: WORKER,
				modules: true,
				modulesRoot: outdir,
				scriptPath: join(outdir, 'index.js'),
				compatibilityDate,
				// The bindings of wrangler.toml (the PWA's assets are not needed by the API).
				durableObjects: {
					LINKS: { className: 'LinkDO', useSQLite: true },
					ACCOUNT: { className: 'AccountDO', useSQLite: true },
					SANDBOXES: { className: 'SandboxDO', useSQLite: true },
					RULES: { className: 'RulesDO', useSQLite: true }
				},
				bindings: {
					CREDENTIALS_KEY: options.credentialsKey ?? randomBytes(32).toString('base64'),
					LOCAL_BOOTSTRAP: '1',
					...options.bindings
				}
			},
			{
				name: SEEDER,
				modules: true,
				script: SEEDER_SCRIPT,
				compatibilityDate,
				durableObjects: { SANDBOXES: { className: 'SandboxDO', scriptName: WORKER, useSQLite: true } }
			}
		],
		...(options.persistRoot ? { defaultPersistRoot: options.persistRoot } : {}),
		host: '127.0.0.1',
		port: 0,
		// No request to Cloudflare for the `cf` object (there is no internet here).
		cf: false,
		// EDGE_DEBUG=1 shows the Worker's own log lines and workerd's errors.
		log: new Log(process.env.EDGE_DEBUG ? LogLevel.DEBUG : LogLevel.WARN)
	});
	const url = (await mf.ready).origin;
	const pid = workerdChildren().find((p) => !before.has(p));
	if (pid === undefined) throw new Error('no workerd process found');
	return {
		url,
		mf,
		inspectorPort,
		pid,
		stop: async () => {
			await mf.dispose();
			try {
				process.kill(pid, 'SIGKILL');
			} catch {
				// already gone
			}
		}
	};
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Minimal CDP client over a WebSocket (RFC 6455 text frames, client frames masked). */
async function cdp(wsUrl: string) {
	const url = new URL(wsUrl);
	const socket = connect(Number(url.port), url.hostname);
	await new Promise<void>((r) => socket.once('connect', () => r()));
	const key = randomBytes(16).toString('base64');
	socket.write(
		`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`
	);
	let buffer = Buffer.alloc(0);
	let upgraded = false;
	const pending = new Map<number, (v: any) => void>();
	socket.on('data', (chunk) => {
		buffer = Buffer.concat([buffer, chunk]);
		if (!upgraded) {
			const end = buffer.indexOf('\r\n\r\n');
			if (end < 0) return;
			upgraded = true;
			buffer = buffer.subarray(end + 4);
		}
		for (;;) {
			if (buffer.length < 2) return;
			let len = buffer[1] & 0x7f;
			let offset = 2;
			if (len === 126) {
				if (buffer.length < 4) return;
				len = buffer.readUInt16BE(2);
				offset = 4;
			} else if (len === 127) {
				if (buffer.length < 10) return;
				len = Number(buffer.readBigUInt64BE(2));
				offset = 10;
			}
			if (buffer.length < offset + len) return;
			const opcode = buffer[0] & 0x0f;
			const payload = buffer.subarray(offset, offset + len);
			buffer = buffer.subarray(offset + len);
			if (opcode === 1) {
				const msg = JSON.parse(payload.toString());
				if (msg.id !== undefined) pending.get(msg.id)?.(msg);
			}
		}
	});
	let id = 0;
	const send = (method: string, params: object = {}) =>
		new Promise<any>((resolve) => {
			const n = ++id;
			pending.set(n, resolve);
			const data = Buffer.from(JSON.stringify({ id: n, method, params }));
			const mask = randomBytes(4);
			const head =
				data.length < 126
					? Buffer.from([0x81, 0x80 | data.length])
					: Buffer.from([0x81, 0x80 | 126, data.length >> 8, data.length & 0xff]);
			const masked = Buffer.from(data.map((b, i) => b ^ mask[i % 4]));
			socket.write(Buffer.concat([head, mask, masked]));
		});
	return { send, close: () => socket.destroy() };
}

/**
 * A DevTools connection to the inspector target whose address holds `match` (the Worker's own by
 * default; wrangler dev's inspector proxy names its one target `/ws`).
 */
async function inspect(inspectorPort: number, match = `core:user:${WORKER}`) {
	const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as {
		webSocketDebuggerUrl: string;
	}[];
	const target = targets.find((t) => t.webSocketDebuggerUrl.includes(match));
	if (!target) throw new Error(`no inspector target ${match}`);
	return cdp(target.webSocketDebuggerUrl);
}

/**
 * Samples the Worker isolate's V8 heap (Runtime.getHeapUsage over the inspector) as fast as the
 * isolate answers; V8 answers between and during tasks (an interrupt), so long synchronous work
 * is sampled too. `stop()` gives the largest used size seen.
 */
export async function heapSampler(inspectorPort: number) {
	const client = await inspect(inspectorPort);
	let maxTotal = 0;
	/** The longest wait for an answer (ms): the isolate was inside one long native call then. */
	let longestWait = 0;
	const used = async () => {
		const asked = Date.now();
		let timer: ReturnType<typeof setTimeout> | undefined;
		// Long (a loaded machine stretches the isolate's longest tasks), and cleared: a pending timer would keep the bench alive.
		const answer = await Promise.race([
			client.send('Runtime.getHeapUsage'),
			new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), 600_000)))
		]).finally(() => clearTimeout(timer));
		if (!answer) throw new Error('the inspector did not answer Runtime.getHeapUsage for 10 minutes');
		longestWait = Math.max(longestWait, Date.now() - asked);
		maxTotal = Math.max(maxTotal, answer.result.totalSize as number);
		return answer.result.usedSize as number;
	};
	// (workerd does not answer HeapProfiler.collectGarbage: the baseline is the heap as it is.)
	const baseline = await used();
	let max = baseline;
	let samples = 0;
	let running = true;
	const t0 = Date.now();
	const series: string[] = [];
	const loop = (async () => {
		while (running) {
			const u = await used();
			max = Math.max(max, u);
			samples++;
			if (process.env.EDGE_DEBUG) series.push(`${Date.now() - t0}:${Math.round(u / 1048576)}`);
			await sleep(5);
		}
	})();
	return {
		baseline,
		stop: async () => {
			running = false;
			await loop;
			client.close();
			if (process.env.EDGE_DEBUG) console.error(series.join(' '));
			return { baseline, max, maxTotal, samples, longestWait };
		}
	};
}

/**
 * The V8 heap of the inspector target `match` (used and reserved, in MB), asked once: where a
 * process's resident memory grows, this tells the isolate's objects from what workerd holds
 * outside them. V8 collects when it chooses; workerd does not answer HeapProfiler.collectGarbage.
 */
export async function heapUsageMB(inspectorPort: number, match?: string) {
	const client = await inspect(inspectorPort, match);
	try {
		const { result } = await client.send('Runtime.getHeapUsage');
		return { used: Math.round(result.usedSize / 1048576), total: Math.round(result.totalSize / 1048576) };
	} finally {
		client.close();
	}
}

/**
 * EDGE_PROFILE=1: a CPU profile of the Worker isolate during the dry run, printed as the functions
 * with the most self time (for finding where a run spends its CPU, not a figure of the bench).
 * `match` picks the inspector target (wrangler dev's inspector proxy names its one target `/ws`).
 */
export async function cpuProfiler(inspectorPort: number, match?: string) {
	const client = await inspect(inspectorPort, match);
	await client.send('Profiler.enable');
	await client.send('Profiler.start');
	return {
		stop: async () => {
			const answer = await client.send('Profiler.stop');
			client.close();
			// The whole profile, for a look at who called what (Chrome's DevTools open it).
			if (process.env.PROFILE_OUT) writeFileSync(process.env.PROFILE_OUT, JSON.stringify(answer.result.profile));
			const { nodes, samples, timeDeltas } = answer.result.profile as {
				nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
				samples: number[];
				timeDeltas: number[];
			};
			const byNode = new Map(nodes.map((n) => [n.id, n]));
			const self = new Map<string, number>();
			samples.forEach((id, i) => {
				const f = byNode.get(id)!.callFrame;
				const name = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`;
				self.set(name, (self.get(name) ?? 0) + (timeDeltas[i] ?? 0) / 1000);
			});
			return [...self]
				.sort((x, y) => y[1] - x[1])
				.slice(0, 40)
				.map(([n, ms]) => `${Math.round(ms)} ms  ${n}`)
				.join('\n');
		}
	};
}

/** workerd processes started by this process. */
function workerdChildren(): number[] {
	const out: number[] = [];
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
			const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
			const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
			if (ppid === process.pid && comm.startsWith('workerd')) out.push(Number(entry));
		} catch {
			// exited meanwhile
		}
	}
	return out;
}

/** VmRSS and VmHWM of a process, in bytes. */
export function memory(pid: number): { rss: number; hwm: number } {
	const status = readFileSync(`/proc/${pid}/status`, 'utf8');
	const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
	return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

export class Api {
	constructor(
		readonly origin: string,
		private token = ''
	) {}

	authorize(token: string) {
		this.token = token;
	}

	async call<T = any>(method: string, path: string, body?: unknown, expected = [200, 201, 202]): Promise<T> {
		let res: Response | undefined;
		for (let attempt = 1; !res; attempt++) {
			try {
				res = await fetch(`${this.origin}${path}`, {
					method,
					headers: {
						authorization: `Bearer ${this.token}`,
						...(body === undefined ? {} : { 'content-type': 'application/json' })
					},
					body: body === undefined ? undefined : JSON.stringify(body)
				});
			} catch (e) {
				// A kept-alive connection the server closed while this process was busy: once more.
				if (attempt < 2) continue;
				throw new Error(`${method} ${path}: ${e instanceof Error ? `${e.message} (${String(e.cause)})` : e}`, {
					cause: e
				});
			}
		}
		const text = await res.text();
		if (!expected.includes(res.status)) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 500)}`);
		return (text ? JSON.parse(text) : undefined) as T;
	}

	/**
	 * A POST that may take longer than fetch waits for headers (5 minutes): enabling a 100k-person
	 * link reconciles it inside the request. Sent once, without a time limit.
	 */
	post<T = any>(path: string): Promise<T> {
		return new Promise((resolve, reject) => {
			const req = httpRequest(`${this.origin}${path}`, {
				method: 'POST',
				headers: { authorization: `Bearer ${this.token}` }
			});
			req.on('response', (res) => {
				let text = '';
				res.setEncoding('utf8');
				res.on('data', (chunk: string) => (text += chunk));
				res.on('end', () =>
					res.statusCode === 200
						? resolve((text ? JSON.parse(text) : undefined) as T)
						: reject(new Error(`POST ${path}: ${res.statusCode} ${text.slice(0, 500)}`))
				);
			});
			req.on('error', reject);
			req.end();
		});
	}
}

/** `n` people in `groups` communities, `perPerson` memberships each (the first member of a group manages it). */
export function directory(
	n: number,
	groups: number,
	perPerson: number
): { people: Person[]; groups: Group[]; memberships: Membership[] } {
	const people: Person[] = Array.from({ length: n }, (_, i) => ({
		id: `p${i}`,
		externalId: `E${i}`,
		displayName: `Person ${i}`,
		givenName: 'Person',
		familyName: String(i),
		email: `person.${i}@example.org`,
		employeeNumber: String(100_000 + i),
		active: true
	}));
	const list: Group[] = Array.from({ length: groups }, (_, j) => ({
		id: `g${j}`,
		externalId: `G${j}`,
		name: `Community ${j}`,
		kind: 'community'
	}));
	const memberships: Membership[] = [];
	const managed = new Set<string>();
	for (let i = 0; i < n; i++) {
		for (let k = 0; k < perPerson; k++) {
			const g = list[(i * perPerson + k) % groups];
			const role = managed.has(g.id) ? 'member' : 'manager';
			managed.add(g.id);
			memberships.push({ groupId: g.id, personId: people[i].id, role });
		}
	}
	return { people, groups: list, memberships };
}

/** A sandbox system's counts (records, SCIM writes it answered) through the seeder Worker. */
export async function sandboxInfo(edge: Edge, systemId: string): Promise<Record<string, number>> {
	const seeder = await edge.mf.getWorker(SEEDER);
	const res = await seeder.fetch('http://seeder/', { method: 'POST', body: JSON.stringify({ systemId, info: true }) });
	if (!res.ok) throw new Error(`sandbox ${systemId}: ${res.status} ${await res.text()}`);
	return (await res.json()) as Record<string, number>;
}

/**
 * Fills an empty sandbox system through its Durable Object's `seed` RPC, in bounded messages. The
 * RPC is made by the seeder Worker, not through Miniflare's proxy (`getDurableObjectNamespace`):
 * the proxy reads `stub.seed` as a property over RPC before calling it, which hands it a stub of
 * the method that it never disposes ("An RPC stub was not disposed properly" once it is collected).
 */
export async function seedSandbox(edge: Edge, systemId: string, records: ReturnType<typeof directory>): Promise<void> {
	const seeder = await edge.mf.getWorker(SEEDER);
	const seed = async (part: Partial<typeof records>, append: boolean) => {
		const res = await seeder.fetch('http://seeder/', {
			method: 'POST',
			body: JSON.stringify({ systemId, records: part, append })
		});
		if (!res.ok) throw new Error(`seeding ${systemId} failed: ${res.status} ${await res.text()}`);
		return (await res.json()) as boolean;
	};
	const parts: Partial<typeof records>[] = [{ groups: records.groups }];
	for (let i = 0; i < records.people.length; i += 10_000) parts.push({ people: records.people.slice(i, i + 10_000) });
	for (let i = 0; i < records.memberships.length; i += 30_000)
		parts.push({ memberships: records.memberships.slice(i, i + 30_000) });
	for (const [i, part] of parts.entries()) {
		if (!(await seed({ people: [], groups: [], memberships: [], ...part }, i > 0)))
			throw new Error(`sandbox ${systemId} was not empty`);
	}
}

/** What a plain SCIM server without Rostersync's extensions looks like to the connector. */
const PLAIN_PROFILE: ScimProfile = {
	enterprise: true,
	userExtAttributes: [],
	fieldMap: {},
	attributeTypes: {},
	defaultGroupKind: 'community'
};

/**
 * A read-only SCIM directory served from pre-rendered resources, outside workerd: for the 100k
 * dry run, so that workerd's memory is the link's own (a sandbox keeps its directory in the same
 * isolate). It answers what the connector reads: /Users and /Groups pages; discovery is 404 (the
 * connector then assumes a plain server).
 */
async function staticScim(
	records: ReturnType<typeof directory>,
	token: string
): Promise<{ url: string; close(): Promise<void> }> {
	const users = records.people.map(({ id, ...p }) => JSON.stringify({ ...personToUser(p, PLAIN_PROFILE), id }));
	const members = new Map<string, string[]>();
	for (const m of records.memberships) {
		let list = members.get(m.groupId);
		if (!list) members.set(m.groupId, (list = []));
		list.push(m.personId);
	}
	const groups = records.groups.map(({ id, ...g }) =>
		JSON.stringify({
			...groupToScim(g, PLAIN_PROFILE),
			id,
			members: (members.get(id) ?? []).map((value) => ({ value }))
		})
	);
	const server = createServer((req, res) => {
		const url = new URL(req.url ?? '/', 'http://x');
		const send = (status: number, body: string) => {
			res.writeHead(status, { 'content-type': 'application/scim+json' });
			res.end(body);
		};
		if (req.headers.authorization !== `Bearer ${token}`)
			return send(
				401,
				JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '401', detail: 'bad token' })
			);
		const list = url.pathname === '/scim/v2/Users' ? users : url.pathname === '/scim/v2/Groups' ? groups : undefined;
		// A real run's updates (the nightly case's first run) are accepted and change nothing here.
		if (req.method === 'PATCH' && url.pathname.startsWith('/scim/v2/Users/')) {
			res.writeHead(204);
			return res.end();
		}
		if (!list || req.method !== 'GET')
			return send(
				404,
				JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '404', detail: 'not here' })
			);
		const start = Math.max(1, Number(url.searchParams.get('startIndex') ?? 1));
		const count = Math.max(0, Number(url.searchParams.get('count') ?? 100));
		const page = list.slice(start - 1, start - 1 + count);
		send(
			200,
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":${list.length},"startIndex":${start},"itemsPerPage":${page.length},"Resources":[${page.join(',')}]}`
		);
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/scim/v2`,
		close: () =>
			new Promise<void>((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			})
	};
}

/** The same directory with `fraction` of the people changed (another phone number). */
function drift(records: ReturnType<typeof directory>, fraction: number): ReturnType<typeof directory> {
	const every = Math.round(1 / fraction);
	return {
		...records,
		people: records.people.map((p, i) => (i % every === 0 ? { ...p, phone: `+31 6 ${10_000_000 + i}` } : p))
	};
}

export async function runToEnd(
	api: Api,
	linkId: string,
	dryRun: boolean
): Promise<{
	id: string;
	durationMs: number;
	status: string;
	tally: Record<string, number>;
	counts: { total: number; byType: Record<string, number> };
}> {
	const started = await api.call('POST', `/api/links/${linkId}/runs`, { dryRun });
	for (;;) {
		const run = await api.call('GET', `/api/links/${linkId}/runs/${started.id}?limit=1`);
		if (run.status !== 'running') {
			// A run with some failed operations ends partial, as a run with failures ended done before.
			if (run.status !== 'done' && run.status !== 'partial')
				throw new Error(`run ${run.id} ${run.status}: ${JSON.stringify(run.error)}`);
			return run;
		}
		await sleep(200);
	}
}

/** Every operation of a run, with its outcome, page by page. */
export async function journal(
	api: Api,
	linkId: string,
	runId: string,
	total: number
): Promise<{ op: Op; outcome?: OpOutcome }[]> {
	const out: { op: Op; outcome?: OpOutcome }[] = [];
	for (let offset = 0; offset < total; offset += 5000)
		out.push(...(await api.call('GET', `/api/links/${linkId}/runs/${runId}?offset=${offset}&limit=5000`)).ops);
	return out;
}

/**
 * The same SCIM calls as the edge run, batched as the edge batches them (the core's runPlan with
 * the connector's batches, over the run's operations in slices of the edge's size), by a plain
 * loop in Node: CONCURRENCY requests in flight, no journal, no Durable Object.
 */
async function plainBatchedLoop(target: ScimmyProcess, ops: Op[]): Promise<{ ms: number; ops: number }> {
	const scim = new ScimConnector({
		systemId: 'loop',
		baseUrl: target.url,
		token: target.token,
		concurrency: CONCURRENCY
	});
	await scim.discover();
	const outcomes = new Map<string, OpOutcome>();
	const writes = ops.filter((op) => op.type !== 'invite' && op.type !== 'notify-transfer');
	const start = performance.now();
	for (let i = 0; i < writes.length; i += SLICE_OPS)
		await runPlan(writes.slice(i, i + SLICE_OPS), outcomes, {
			apply: { a: (op, res) => scim.apply(op, res), b: (op, res) => scim.apply(op, res) },
			applyBatch: { b: (batch, res) => scim.applyBatch(batch, res) },
			batching: { b: scim.batching() },
			concurrency: 8
		});
	return { ms: performance.now() - start, ops: writes.length };
}

/** Operations per slice of a run at the edge (LinkDO's slice.ops). */
const SLICE_OPS = 1000;

/** The same SCIM calls as the edge run, by a plain loop: stage by stage, CONCURRENCY in flight. */
export async function plainLoop(target: ScimmyProcess, ops: Op[]): Promise<{ ms: number; ops: number }> {
	const scim = new ScimConnector({
		systemId: 'loop',
		baseUrl: target.url,
		token: target.token,
		concurrency: CONCURRENCY
	});
	await scim.discover();
	const outcomes = new Map<string, OpOutcome>();
	const resolve = resolver(outcomes);
	const writes = ops.filter((op) => op.type !== 'invite' && op.type !== 'notify-transfer');
	const start = performance.now();
	for (const step of [...new Set(writes.map((op) => op.step))].sort((x, y) => x - y)) {
		await mapLimit(
			writes.filter((op) => op.step === step),
			CONCURRENCY,
			async (op) => {
				const { id } = await scim.apply(op, resolve);
				outcomes.set(op.key, { key: op.key, status: 'done', ...(id ? { id } : {}) });
			}
		);
	}
	return { ms: performance.now() - start, ops: writes.length };
}

/** V8's heap cap for workerd, in MB: the Workers limit unless EDGE_HEAP_MB says otherwise. */
export const HEAP_MB = Number(process.env.EDGE_HEAP_MB ?? 128);

/** `sizes` only for trying the bench quickly at a smaller scale; `npm run bench` uses the defaults. */
/**
 * `only`: one case by name (`npm run bench -- edge-run`); the whole suite otherwise. The
 * throughput cases (edge-big-group, edge-first-provision-100k) are in edge-throughput.ts.
 */
export async function edgeCases(
	emit: (line: BenchLine) => void,
	sizes = { run: Number(process.env.EDGE_RUN_PEOPLE ?? 10_000), dry: 100_000 },
	only?: string
): Promise<void> {
	const want = (name: string) => !only || only === 'edge' || only === name;
	if (want('edge-run') || want('edge-dry-run') || want('edge-nightly-dry-run')) {
		const target = await startScimmyProcess();
		const edge = await startEdge();
		try {
			const api = await bootstrapped(edge);
			// The dry run first, in a fresh isolate: its heap figures are then its own.
			const dry = want('edge-dry-run') || want('edge-nightly-dry-run') ? await edgeDryRun(edge, api, sizes.dry) : [];
			if (want('edge-run')) emit(await edgeRun(edge, api, target, sizes.run));
			for (const line of dry) if (want(String(line.case))) emit(line);
		} finally {
			await edge.stop();
			await target.stop();
		}
	}
	await throughputCases(emit, want);
}

/** The API of a fresh edge, as its first owner. */
export async function bootstrapped(edge: Edge): Promise<Api> {
	const api = new Api(edge.url);
	const boot = await api.call<{ token: string }>('POST', '/api/bootstrap');
	api.authorize(boot.token);
	return api;
}

/** Writes a SCIMMY target received (its log: every request but reads). */
export async function targetWrites(target: ScimmyProcess): Promise<number> {
	const log: string[] = (await (await fetch(`${target.control}/state`)).json()).log;
	if (process.env.EDGE_DEBUG) {
		const kinds = new Map<string, number>();
		for (const l of log) {
			const k = l.replace(/\/[0-9a-f-]{36}/g, '/:id').replace(/\?.*$/, '?…');
			kinds.set(k, (kinds.get(k) ?? 0) + 1);
		}
		console.error([...kinds]);
	}
	return log.filter((l) => !l.startsWith('GET ')).length;
}

/**
 * A provisioning link from a seeded sandbox to a SCIM system, enabled, and its first real run to
 * the end: the run, its operations, and the CPU the target used meanwhile.
 */
export async function provision(
	edge: Edge,
	api: Api,
	records: ReturnType<typeof directory>,
	sink: { baseUrl?: string; token?: string; sandbox?: boolean },
	/** Called once the source is seeded, before the link exists (e.g. to start sampling the heap). */
	onSeeded?: () => Promise<void>
): Promise<{ run: Awaited<ReturnType<typeof runToEnd>>; linkId: string; sinkId: string }> {
	const source = await api.call('POST', '/api/systems', { name: 'Bench source', connector: 'sandbox', region: 'eu' });
	await seedSandbox(edge, source.id, records);
	await onSeeded?.();
	const target = sink.sandbox
		? await api.call('POST', '/api/systems', { name: 'Bench target', connector: 'sandbox', region: 'eu' })
		: await api.call('POST', '/api/systems', {
				name: 'Bench SCIM',
				connector: 'scim',
				baseUrl: sink.baseUrl,
				region: 'eu',
				credentials: { token: sink.token }
			});
	const linkId = await provisioningLink(api, 'Bench run', source.id, target.id);
	await api.call('POST', `/api/links/${linkId}/enable`);
	const run = await runToEnd(api, linkId, false);
	if (run.tally.done !== run.counts.total)
		throw new Error(`the edge run did not apply everything: ${JSON.stringify(run.tally)}`);
	return { run, linkId, sinkId: target.id };
}

/** A provisioning link from `a` to `b` matched by externalId, with no safety limit in the way: its id. */
export async function provisioningLink(api: Api, name: string, a: string, b: string): Promise<string> {
	const noLimits = { count: 1_000_000, percent: 100 };
	const link = await api.call('POST', '/api/links', {
		name,
		mode: 'provision',
		systems: { a, b },
		match: { person: 'externalId', group: 'externalId' },
		limits: { person: noLimits, group: noLimits, membership: noLimits }
	});
	return link.config.id;
}

/**
 * 10k people, 500 groups, 30k memberships: sandbox -> SCIMMY with batches and Bulk; the same
 * batched SCIM calls by a plain loop (ratio); then the same run with batching and Bulk turned off
 * (WRITE_BATCHING=0, a second workerd) for `baselineMs`.
 */
async function edgeRun(edge: Edge, api: Api, target: ScimmyProcess, people: number): Promise<BenchLine> {
	const records = directory(people, Math.ceil(people / 20), 3);
	const cpu = () => fetch(`${target.control}/cpu`).then((r) => r.json() as Promise<{ user: number; system: number }>);
	const reset = () => fetch(`${target.control}/reset`, { method: 'POST' });
	await reset();
	const cpu0 = await cpu();
	const { run, linkId } = await provision(edge, api, records, { baseUrl: target.url, token: target.token });
	const cpu1 = await cpu();
	const requests = await targetWrites(target);
	const ops = (await journal(api, linkId, run.id, run.counts.total)).map((o) => o.op);
	const writes = ops.filter((op) => op.type !== 'invite' && op.type !== 'notify-transfer').length;
	const opsPerSec = writes / (run.durationMs / 1000);

	await reset();
	const cpu2 = await cpu();
	const loop = await plainBatchedLoop(target, ops);
	const cpu3 = await cpu();
	const loopRequests = await targetWrites(target);

	// The baseline: the same run, one request per operation.
	await reset();
	const plain = await startEdge({ bindings: { WRITE_BATCHING: '0' } });
	let baseline: Awaited<ReturnType<typeof runToEnd>>;
	let baselineRequests: number;
	try {
		baseline = (
			await provision(plain, await bootstrapped(plain), records, { baseUrl: target.url, token: target.token })
		).run;
		baselineRequests = await targetWrites(target);
	} finally {
		await plain.stop();
	}
	const busy = (a: typeof cpu0, b: typeof cpu0, ms: number) =>
		Math.round(((b.user + b.system - a.user - a.system) / 1000 / ms) * 100) / 100;
	const synced = records.people.length + records.groups.length + records.memberships.length;
	return {
		case: 'edge-run',
		people,
		ms: run.durationMs,
		requests,
		recordsPerSec: Math.round(synced / (run.durationMs / 1000)),
		baselineMs: baseline.durationMs,
		baselineRequests,
		msOverBaseline: Math.round((run.durationMs / baseline.durationMs) * 100) / 100,
		// The edge against a plain loop making the same batched calls.
		ratio: Math.round((loop.ms / run.durationMs) * 100) / 100,
		loopMs: Math.round(loop.ms),
		loopRequests,
		opsPerSec: Math.round(opsPerSec),
		writes,
		heapLimitMB: HEAP_MB,
		// Share of one core the target used: near 1 means the target was the limit.
		targetBusy: busy(cpu0, cpu1, run.durationMs),
		targetBusyLoop: busy(cpu2, cpu3, loop.ms)
	};
}

/** A dry run of a link with the isolate's heap sampled (or, with EDGE_PROFILE, its CPU profiled). */
async function measuredDryRun(edge: Edge, api: Api, linkId: string, name: string, people: number): Promise<BenchLine> {
	// Profiling slows the isolate down too much for heap samples to mean anything: one or the other.
	const profile = process.env.EDGE_PROFILE ? await cpuProfiler(edge.inspectorPort) : undefined;
	const heap = profile
		? { stop: async () => ({ baseline: 0, max: 0, maxTotal: 0, samples: 0, longestWait: 0 }) }
		: await heapSampler(edge.inspectorPort);
	const before = memory(edge.pid);
	writeFileSync(`/proc/${edge.pid}/clear_refs`, '5');
	const dry = await runToEnd(api, linkId, true);
	if (profile) console.error(await profile.stop());
	const after = memory(edge.pid);
	const sampled = await heap.stop();
	const mb = (bytes: number) => Math.round(bytes / 1048576);
	return {
		case: name,
		people,
		status: dry.status,
		ms: dry.durationMs,
		heapLimitMB: HEAP_MB,
		// The isolate's V8 heap at its largest during the run: the heap V8 had committed (it cannot
		// have held more than that, and committed memory is not returned within the few ms
		// between samples, so a peak inside long synchronous work is not missed).
		peakMB: mb(sampled.maxTotal),
		// The largest heap in use actually sampled (a peak between samples can be missed).
		heapUsedMB: mb(sampled.max),
		heapBeforeMB: mb(sampled.baseline),
		// workerd's resident memory rise: V8 grows its heap lazily when memory is plentiful, and
		// SQLite's page cache is in it too, so this is an upper bound.
		rssPeakMB: mb(after.hwm - before.rss),
		ops: dry.counts.total,
		heapSamples: sampled.samples,
		// The longest the isolate took to answer a sample: a peak inside it is only seen as committed heap.
		longestSampleWaitMs: sampled.longestWait
	};
}

/**
 * 100k people on both sides of a two-way link, 3% drifted: the first reconciliation, as a dry run
 * (`edge-dry-run`); then, once a real run has made the baseline, the same link's nightly dry run
 * (`edge-nightly-dry-run`: 100k baseline pairs read part by part, the drift planned again).
 */
async function edgeDryRun(edge: Edge, api: Api, people: number): Promise<BenchLine[]> {
	const records = directory(people, Math.ceil(people / 20), 3);
	const token = randomBytes(16).toString('hex');
	const [sa, sb] = await Promise.all([staticScim(records, token), staticScim(drift(records, 0.03), token)]);
	try {
		const system = (name: string, url: string) =>
			api.call('POST', '/api/systems', { name, connector: 'scim', baseUrl: url, region: 'eu', credentials: { token } });
		const a = await system('Bench 100k A', sa.url);
		const b = await system('Bench 100k B', sb.url);
		const link = await api.call('POST', '/api/links', {
			name: 'Bench dry run',
			mode: 'two-way',
			systems: { a: a.id, b: b.id },
			match: { person: 'email', group: 'externalId' }
		});
		await sleep(1000);
		const first = await measuredDryRun(edge, api, link.config.id, 'edge-dry-run', people);
		// The nightly case: sync enabled, one real run to make the baseline (its updates go to B,
		// which accepts and ignores them), then the next dry run.
		await api.call('POST', `/api/links/${link.config.id}/enable`);
		const real = await runToEnd(api, link.config.id, false);
		if (real.status !== 'done') throw new Error(`the nightly case's first run ended ${real.status}`);
		const nightly = await measuredDryRun(edge, api, link.config.id, 'edge-nightly-dry-run', people);
		return [first, nightly];
	} finally {
		await Promise.all([sa.close(), sb.close()]);
	}
}
