/** How runs end, and when one may be stopped or undone: one line a case. */
import { describe, expect, test } from 'vitest';
import {
	finalStatus,
	isUndoBarrier,
	stopRefusal,
	undoRefusal,
	type FinalStatus,
	type RunEnding,
	type RunFacts
} from '../../src/lib/core';

/** `done/failed/pending` as the run's tally. */
const tally = (t: string) => {
	const [done, failed, pending] = t.split('/').map(Number);
	return { done, failed, pending };
};

describe('finalStatus', () => {
	test.each<[string, string, RunEnding, FinalStatus]>([
		['nothing to do', '0/0/0', {}, 'done'],
		['every operation done', '12/0/0', {}, 'done'],
		['some failed, some done', '11/1/0', {}, 'partial'],
		['every operation failed', '0/3/0', {}, 'failed'],
		['the run itself failed after writing', '5/0/0', { error: true }, 'failed'],
		['the source could not be read', '0/0/0', { error: true, beforePlan: true }, 'failed'],
		['stopped with operations left', '3/0/7', { stopRequested: true }, 'stopped'],
		['stopped with a failure among what ran', '3/1/7', { stopRequested: true }, 'stopped'],
		['stopped before the plan was stored', '0/0/0', { stopRequested: true, beforePlan: true }, 'stopped'],
		['a stop after the last operation started', '10/0/0', { stopRequested: true }, 'done'],
		['a late stop after a failure', '9/1/0', { stopRequested: true }, 'partial'],
		['a stop whose plan had nothing to do', '0/0/0', { stopRequested: true }, 'done'],
		['a dry run (nothing is applied)', '0/0/12', {}, 'done'],
		['a dry run stopped', '0/0/12', { stopRequested: true }, 'stopped'],
		['a failure outranks a stop', '3/0/7', { error: true, stopRequested: true }, 'failed']
	])('%s: %s %o → %s', (_case, t, ending, expected) => {
		expect(finalStatus(tally(t), ending)).toBe(expected);
	});

	test('skipped and staged operations are not failures', () => {
		expect(finalStatus({ done: 5, failed: 0, pending: 0 })).toBe('done');
	});
});

const run = (fields: Partial<RunFacts> = {}): RunFacts => ({
	id: 'r1',
	status: 'done',
	dryRun: false,
	tally: { done: 3 },
	...fields
});

describe('undoRefusal', () => {
	test.each<[string, Partial<RunFacts>, { running?: string; latest?: string }, string | undefined]>([
		['the latest run that wrote', {}, { latest: 'r1' }, undefined],
		['a partial run', { status: 'partial' }, { latest: 'r1' }, undefined],
		['a stopped run', { status: 'stopped' }, { latest: 'r1' }, undefined],
		['a run that failed after writing', { status: 'failed' }, { latest: 'r1' }, undefined],
		['while any run is in progress', {}, { running: 'r2', latest: 'r1' }, 'in-progress'],
		['itself while it runs', { status: 'running' }, { running: 'r1' }, 'in-progress'],
		['a running run, when the caller does not know the link', { status: 'running' }, {}, 'in-progress'],
		['a dry run', { dryRun: true }, { latest: 'r0' }, 'dry-run'],
		['twice', { undoneBy: 'u1' }, { latest: 'u1' }, 'undone'],
		['an undo', { undoOf: 'r0' }, { latest: 'r1' }, 'is-undo'],
		['an older run', {}, { latest: 'r2' }, 'not-latest'],
		['a run that changed nothing', { tally: { done: 0 } }, { latest: 'r1' }, 'nothing-done'],
		['a run that failed without writing', { status: 'failed', tally: { done: 0 } }, {}, 'nothing-done']
	])('%s: %o %o → %s', (_case, fields, context, expected) => {
		expect(undoRefusal(run(fields), context)?.reason).toBe(expected);
	});

	test('names the runs it refuses over, for the API error body', () => {
		expect(undoRefusal(run(), { latest: 'r2' })).toMatchObject({
			message: expect.stringContaining('run r2 came after'),
			extra: { latest: 'r2' }
		});
		expect(undoRefusal(run({ undoneBy: 'u1' }), {})).toMatchObject({ extra: { undoneBy: 'u1' } });
	});
});

describe('isUndoBarrier', () => {
	test.each<[string, Partial<RunFacts>, boolean]>([
		['a done run', {}, true],
		['a done run with nothing to do', { tally: { done: 0 } }, true],
		['a partial run', { status: 'partial' }, true],
		['a stopped run', { status: 'stopped', tally: { done: 0 } }, true],
		['a run that failed after writing', { status: 'failed' }, true],
		['a run that failed before writing', { status: 'failed', tally: { done: 0 } }, false],
		['an undo, however it ended', { status: 'failed', tally: { done: 0 }, undoOf: 'r0' }, true],
		['a dry run', { dryRun: true }, false],
		['a run in progress', { status: 'running' }, false]
	])('%s → %s', (_case, fields, expected) => {
		expect(isUndoBarrier(run(fields))).toBe(expected);
	});
});

describe('stopRefusal', () => {
	test.each<[string, Partial<RunFacts>, { running?: string; committing?: boolean }, string | undefined]>([
		['the run in progress', { status: 'running' }, { running: 'r1' }, undefined],
		['a dry run in progress', { status: 'running', dryRun: true }, { running: 'r1' }, undefined],
		['a run that ended', { status: 'done' }, {}, 'not-running'],
		['a run that is not the one in progress', { status: 'running' }, { running: 'r2' }, 'not-running'],
		['an undo', { status: 'running', undoOf: 'r0' }, { running: 'r1' }, 'is-undo'],
		['a run recording its baseline', { status: 'running' }, { running: 'r1', committing: true }, 'committing']
	])('%s: %o %o → %s', (_case, fields, context, expected) => {
		expect(stopRefusal(run(fields), context)?.reason).toBe(expected);
	});
});
