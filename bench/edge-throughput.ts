/**
 * Throughput cases at the edge (workerd, V8 heap capped as edge.ts caps it):
 *
 * - edge-big-group: 5,000 people into one group on SCIMMY: the people by Bulk, the group's
 *   memberships as multi-member PATCHes (one manager alone). `ms` (goal: under 60 s), `requests`
 *   (writes the target received).
 * - edge-first-provision-100k: a real first provisioning of 100k people, 5k groups and 300k
 *   memberships from one sandbox into another, in one workerd. Both sandboxes keep their
 *   directories in the same isolate as the link, so the heap figure counts all three. `ms`,
 *   `requests` (SCIM writes the target sandbox answered), `peakMB` (the largest heap V8 had
 *   committed, sampled over the inspector).
 */
import type { BenchLine } from './measure';
import { HEAP_MB, bootstrapped, directory, heapSampler, provision, sandboxInfo, startEdge, targetWrites } from './edge';
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

async function firstProvision(people: number): Promise<BenchLine> {
	const edge = await startEdge();
	try {
		const api = await bootstrapped(edge);
		const records = directory(people, Math.ceil(people / 20), 3);
		// Sampled from the run on: seeding the source is the bench's own work (it fills a sandbox
		// through RPC in 30k-record messages, long single tasks the inspector cannot interrupt).
		let heap: Awaited<ReturnType<typeof heapSampler>> | undefined;
		const result = await provision(edge, api, records, { sandbox: true }, async () => {
			heap = await heapSampler(edge.inspectorPort);
		});
		const sampled = await heap!.stop();
		const info = await sandboxInfo(edge, result.sinkId);
		if (info.people !== people || info.memberships !== records.memberships.length)
			throw new Error(`the target holds ${JSON.stringify(info)}, not the source`);
		const mb = (bytes: number) => Math.round(bytes / 1048576);
		return {
			case: 'edge-first-provision-100k',
			people,
			groups: records.groups.length,
			memberships: records.memberships.length,
			status: result.run.status,
			ms: result.run.durationMs,
			requests: info.scimWrites,
			ops: result.run.counts.total,
			heapLimitMB: HEAP_MB,
			peakMB: mb(sampled.maxTotal),
			heapUsedMB: mb(sampled.max),
			heapSamples: sampled.samples
		};
	} finally {
		await edge.stop();
	}
}
