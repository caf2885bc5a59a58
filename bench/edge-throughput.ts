/**
 * Throughput cases at the edge (workerd, V8 heap capped as edge.ts caps it):
 *
 * - edge-big-group: 5,000 people into one group on SCIMMY: the people by Bulk, the group's
 *   memberships as multi-member PATCHes (one manager alone). `ms` (goal: under 60 s), `requests`
 *   (writes the target received).
 * - edge-first-provision-100k: a real first provisioning of 100k people, 5k groups and 300k
 *   memberships from one sandbox into another, each directory and the link in a workerd of its
 *   own (the link's heap capped at 128 MB; the sandboxes', playing the systems, at
 *   EDGE_SANDBOX_HEAP_MB). `ms` (from enabling to the run's end), `requests` (SCIM writes the
 *   target sandbox answered), `peakMB` (the largest heap V8 had committed in the link's isolate,
 *   sampled over the inspector; the sandboxes' peaks beside it).
 */
import type { BenchLine } from './measure';
import {
	HEAP_MB,
	bootstrapped,
	directory,
	heapSampler,
	journal,
	provision,
	provisioningLink,
	runToEnd,
	sandboxInfo,
	seedSandbox,
	startEdge,
	targetWrites,
	type Api,
	type Edge
} from './edge';
import { startScimmyProcess } from '../tests/support/scimmy-process';

export async function throughputCases(emit: (line: BenchLine) => void, want: (name: string) => boolean): Promise<void> {
	if (want('edge-big-group')) emit(await edgeBigGroup());
	if (want('edge-first-provision-100k'))
		emit(await firstProvision(Number(process.env.EDGE_PROVISION_PEOPLE ?? 100_000)));
}

async function edgeBigGroup(): Promise<BenchLine> {
	const target = await startScimmyProcess();
	const edge = await startEdge();
	try {
		const api = await bootstrapped(edge);
		const records = directory(5000, 1, 1);
		const { run } = await provision(edge, api, records, { baseUrl: target.url, token: target.token });
		return {
			case: 'edge-big-group',
			people: records.people.length,
			memberships: records.memberships.length,
			ms: run.durationMs,
			requests: await targetWrites(target),
			ops: run.counts.total,
			heapLimitMB: HEAP_MB
		};
	} finally {
		await edge.stop();
		await target.stop();
	}
}

/**
 * The heap of the two sandboxes' workerds in the first provisioning, in MB: they play the systems
 * on either side, and a sandbox written up to 100k people over SCIM needs more than 128 MB (its
 * directory lives in memory beside SQLite), so that is measured, not imposed.
 */
const SANDBOX_HEAP_MB = Number(process.env.EDGE_SANDBOX_HEAP_MB ?? 512);

/**
 * Each directory in its own workerd, as Cloudflare would place three Durable Objects (each
 * isolate under its own 128 MB): the source and target sandboxes serve their public SCIM route,
 * and the link's workerd reaches them as SCIM systems over 127.0.0.1. One workerd would hold two
 * 100k-person directories and the link in one isolate, which no deployment does.
 */
async function firstProvision(people: number): Promise<BenchLine> {
	const records = directory(people, Math.ceil(people / 20), 3);
	const edges: Edge[] = [];
	const start = async (heapMB = HEAP_MB) => {
		const edge = await startEdge({ heapMB });
		edges.push(edge);
		return { edge, api: await bootstrapped(edge) };
	};
	try {
		// The sandboxes stand in for the systems on either side: their own heap is reported, not capped.
		const source = await start(SANDBOX_HEAP_MB);
		const target = await start(SANDBOX_HEAP_MB);
		const served = async ({ edge, api }: { edge: Edge; api: Api }, name: string, seed?: typeof records) => {
			const { id } = await api.call('POST', '/api/systems', { name, connector: 'sandbox', region: 'eu' });
			if (seed) await seedSandbox(edge, id, seed);
			const { token } = await api.call('POST', `/api/sandbox/${id}/token`, {});
			return { id, baseUrl: `${edge.url}/api/sandbox/${id}/scim/v2`, token };
		};
		const from = await served(source, 'Bench source', records);
		const to = await served(target, 'Bench target');
		const link = await start();
		const system = (name: string, s: { baseUrl: string; token: string }) =>
			link.api.call('POST', '/api/systems', {
				name,
				connector: 'scim',
				baseUrl: s.baseUrl,
				region: 'eu',
				credentials: { token: s.token }
			});
		const a = await system('Source over SCIM', from);
		const b = await system('Target over SCIM', to);
		const linkId = await provisioningLink(link.api, 'Bench first provisioning', a.id, b.id);
		const heaps = await Promise.all([link, source, target].map(({ edge }) => heapSampler(edge.inspectorPort)));
		const started = performance.now();
		await link.api.post(`/api/links/${linkId}/enable`);
		const run = await runToEnd(link.api, linkId, false);
		const ms = Math.round(performance.now() - started);
		const [linkHeap, sourceHeap, targetHeap] = await Promise.all(heaps.map((h) => h.stop()));
		if (run.tally.done !== run.counts.total) {
			const all = await journal(link.api, linkId, run.id, run.counts.total);
			const byType = new Map<string, number>();
			for (const { op } of all) byType.set(op.type, (byType.get(op.type) ?? 0) + 1);
			const left = all.filter((o) => !o.outcome);
			throw new Error(
				`the first provisioning did not apply everything: ${JSON.stringify(run.tally)}; journal ${all.length} ${JSON.stringify([...byType])} vs counts ${JSON.stringify(run.counts)}; without outcome: ${JSON.stringify(left.slice(0, 20))}`
			);
		}
		const info = await sandboxInfo(target.edge, to.id);
		if (info.people !== people || info.memberships !== records.memberships.length)
			throw new Error(`the target holds ${JSON.stringify(info)}, not the source`);
		const mb = (bytes: number) => Math.round(bytes / 1048576);
		return {
			case: 'edge-first-provision-100k',
			people,
			groups: records.groups.length,
			memberships: records.memberships.length,
			status: run.status,
			// From enabling (its reconciliation reads both systems) to the run's end.
			ms,
			runMs: run.durationMs,
			requests: info.scimWrites,
			ops: run.counts.total,
			heapLimitMB: HEAP_MB,
			// The link's isolate: the largest heap V8 had committed, and the largest in use sampled.
			peakMB: mb(linkHeap.maxTotal),
			heapUsedMB: mb(linkHeap.max),
			sandboxHeapLimitMB: SANDBOX_HEAP_MB,
			sourcePeakMB: mb(sourceHeap.maxTotal),
			targetPeakMB: mb(targetHeap.maxTotal),
			heapSamples: linkHeap.samples
		};
	} finally {
		for (const edge of edges) await edge.stop();
	}
}
