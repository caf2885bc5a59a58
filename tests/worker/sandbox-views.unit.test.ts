/**
 * ReadViews over a fake directory and a fake clock: which view a page comes from, what a view keeps
 * when a write lands, and when views close.
 */
import { describe, expect, it } from 'vitest';
import type { Person } from '$lib/core/model';
import {
	ReadViews,
	ViewGoneError,
	type DirectoryState,
	type PersonState,
	type Touched
} from '../../worker/sandbox/read-views';

/** A directory of people only (groups work the same way), written through `set` and `drop`. */
function directory() {
	const people = new Map<string, PersonState>();
	let sorted: string[] | undefined;
	const meta = { created: 't0', lastModified: 't0' };
	const state: DirectoryState = {
		person: (id) => people.get(id),
		group: () => undefined,
		ids: (kind) => (kind === 'user' ? (sorted ??= [...people.keys()].sort()) : [])
	};
	const put = (id: string, name = id) => {
		people.set(id, { person: { id, displayName: name, active: true } as Person, userName: id, meta });
		sorted = undefined;
	};
	return {
		state,
		put,
		drop: (id: string) => {
			people.delete(id);
			sorted = undefined;
		}
	};
}

function setup(names: string[], options: { maxViews?: number } = {}) {
	const dir = directory();
	for (const n of names) dir.put(n);
	let clock = 0;
	const views = new ReadViews(dir.state, { now: () => clock, idleMs: 60, doneMs: 10, joinMs: 10, ...options });
	/** A write, as the sandbox makes it: the views keep what it changes, then the version moves. */
	const write = (touched: Touched | (() => Touched), change: () => void) => {
		views.beforeWrite(touched);
		change();
		views.afterWrite();
	};
	const page = (start: number, count: number, pin?: string, key = 'user') => {
		const p = views.page(key, start, count, pin, (s) => s.ids('user'));
		return {
			version: p.version,
			total: p.total,
			names: p.ids.map((id) => p.state.person(id)?.person.displayName ?? `(gone ${id})`)
		};
	};
	return { dir, views, write, page, tick: (ms: number) => (clock += ms) };
}

describe('ReadViews', () => {
	it('pages of one read come from the version of its first page, whatever is written between them', () => {
		const { dir, write, page } = setup(['a', 'b', 'c', 'd']);
		const first = page(1, 2);
		expect(first.names).toEqual(['a', 'b']);
		write({ people: ['c'] }, () => dir.put('c', 'C renamed'));
		write({ people: ['a'] }, () => dir.drop('a'));
		write({}, () => dir.put('aa'));
		const second = page(3, 2);
		expect(second).toEqual({ version: first.version, total: 4, names: ['c', 'd'] });
		// The read reached its end: the next one sees every write.
		const next = page(1, 10);
		expect(next.version).not.toBe(first.version);
		expect(next.names).toEqual(['aa', 'b', 'C renamed', 'd']);
	});

	it('a first page reuses the newest view while nothing was written', () => {
		const { views, page } = setup(['a', 'b']);
		expect(page(1, 1).version).toBe(page(1, 1).version);
		expect(views.open).toBe(1);
	});

	it('a second read of the same query joins a read under way instead of taking its later pages', () => {
		const { dir, write, page } = setup(['a', 'b', 'c']);
		const a1 = page(1, 1);
		write({}, () => dir.put('ab'));
		const b1 = page(1, 1);
		expect(b1.version).toBe(a1.version);
		expect(page(2, 1).names).toEqual(['b']);
		expect(page(3, 1).names).toEqual(['c']);
		expect(page(2, 1).version).toBe(a1.version);
	});

	it('a read abandoned more than joinMs ago is not joined: the new read sees the writes', () => {
		const { dir, write, page, tick } = setup(['a', 'b', 'c']);
		const abandoned = page(1, 1);
		write({}, () => dir.put('ab'));
		tick(11);
		const fresh = page(1, 10);
		expect(fresh.version).not.toBe(abandoned.version);
		expect(fresh.names).toEqual(['a', 'ab', 'b', 'c']);
	});

	it('If-Match pins a page to its version; a version no view holds is refused', () => {
		const { dir, write, page } = setup(['a', 'b', 'c']);
		const users = page(1, 3);
		write({ people: ['b'] }, () => dir.drop('b'));
		// Another query (Groups, a filter) read at the version of the first.
		const other = page(1, 3, users.version, 'other');
		expect(other).toEqual({ version: users.version, total: 3, names: ['a', 'b', 'c'] });
		expect(() => page(1, 3, 'nope.1')).toThrow(ViewGoneError);
		// The current version needs no view yet: one is opened for it.
		const now = page(1, 3);
		expect(page(1, 3, now.version).names).toEqual(['a', 'c']);
	});

	it('closes a view idleMs after its last use, or doneMs once read to the end', () => {
		const { dir, views, write, page, tick } = setup(['a', 'b', 'c']);
		const unfinished = page(1, 1);
		write({ people: ['a'] }, () => dir.drop('a'));
		tick(59);
		expect(page(2, 1).version).toBe(unfinished.version);
		tick(59);
		expect(views.open).toBe(1);
		tick(61);
		expect(views.open).toBe(0);
		expect(() => page(1, 1, unfinished.version)).toThrow(ViewGoneError);

		const done = page(1, 3);
		write({}, () => dir.put('z'));
		tick(9);
		expect(page(1, 3, done.version).total).toBe(2);
		tick(11);
		expect(views.open).toBe(0);
	});

	it('keeps at most maxViews, the oldest closing first', () => {
		const { dir, views, write, page } = setup(['a'], { maxViews: 2 });
		const versions: string[] = [];
		for (let i = 0; i < 3; i++) {
			versions.push(page(1, 0, undefined, `q${i}`).version);
			write({}, () => dir.put(`n${i}`));
		}
		expect(views.open).toBe(2);
		expect(() => page(1, 1, versions[0])).toThrow(ViewGoneError);
		expect(page(1, 1, versions[2]).names).toEqual(['a']);
	});

	it('keeps nothing while no view is open', () => {
		const { dir, views, write } = setup(['a']);
		let asked = 0;
		write(
			() => {
				asked++;
				return { people: ['a'] };
			},
			() => dir.drop('a')
		);
		expect(asked).toBe(0);
		expect(views.open).toBe(0);
	});
});
