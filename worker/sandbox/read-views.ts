/**
 * Read views: a paged list read sees one version of the directory from its first page to its
 * last, while writes go on.
 *
 * Why: a SCIM client reads a collection page by page (startIndex/count), often several pages at
 * once. If a write lands between two pages, records shift from one page to the next and the
 * total moves; the connector then reads again, and a directory that a run keeps writing into is
 * never read at all (a 502 after three attempts). Index paging cannot be made consistent by the
 * client alone: the server has to answer every page of one read from one version.
 *
 * How: copy-on-write. The page that starts a read (startIndex 1) opens a view at the current
 * version; the view keeps the sorted id lists of that moment (arrays the directory never changes
 * in place, so keeping them copies nothing). Records are not copied either: before each write, the
 * directory names the records it is about to change, and every open view that has not kept them
 * yet keeps them as they are. A view answers from what it kept, else from the live record, which
 * has not changed since it opened. The cost is one kept copy per record changed while a view is
 * open, and nothing at all when no read is under way.
 *
 * Which view a page comes from, when the client does not say:
 * - a later page: the newest view that served the same query;
 * - a first page: the newest view when nothing was written since it opened; else a view in which
 *   another read of the same query is under way (a page served in the last `joinMs`, not every
 *   position read yet), so that the two reads do not take each other's later pages onto two
 *   versions; else a new view. Such a read shows the directory as of the read under way, at most
 *   that read's duration old, and consistent.
 * Each page carries its view's version (the ETag). A client that wants more, its Users and Groups
 * from one version, or its own view whatever else reads at the same time, sends it back
 * (If-Match): the page then comes from exactly that view, or is refused with 412 once it is gone.
 * A view closes when it has not been used for `idleMs`, or `doneMs` after every query on it was
 * read to the end.
 */
import type { Group, Person, Role } from '$lib/core/model';
import type { ResourceMeta } from './scim-resources';

export const VIEW_KINDS = ['user', 'group'] as const;
export type ViewKind = (typeof VIEW_KINDS)[number];

export interface PersonState {
	person: Person;
	userName: string;
	meta: ResourceMeta;
}

export interface GroupState {
	group: Group;
	members: ReadonlyMap<string, Role>;
	meta: ResourceMeta;
}

/** The directory as a read sees it: live, or as a view kept it. */
export interface DirectoryState {
	person(id: string): PersonState | undefined;
	group(id: string): GroupState | undefined;
	/** Every id of a kind, sorted; an array once returned is never changed. */
	ids(kind: ViewKind): readonly string[];
}

/** The records a write is about to change (their ids; created records need not be named). */
export interface Touched {
	people?: Iterable<string>;
	groups?: Iterable<string>;
}

export interface ReadViewOptions {
	now?: () => number;
	/** A view not used for this long closes (default 60 s). */
	idleMs?: number;
	/** A view whose every query was read to the end closes this long after its last use (default 10 s). */
	doneMs?: number;
	/** A read under way that served a page this recently is joined by a new read of its query (default 10 s). */
	joinMs?: number;
	/** Most views open at once; the oldest closes first (default 8). */
	maxViews?: number;
}

/** A version no view holds any more (a 412 for the client: read again from the first page). */
export class ViewGoneError extends Error {
	constructor(readonly version: string) {
		super(`the read at version "${version}" is gone (closed, or the sandbox restarted): read again from startIndex=1`);
		this.name = 'ViewGoneError';
	}
}

interface PagedResult {
	ids: readonly string[];
	/** Which positions some page has served since the read (re)started. */
	served: Uint8Array;
	remaining: number;
}

class ReadView implements DirectoryState {
	readonly #people = new Map<string, PersonState | null>();
	readonly #groups = new Map<string, GroupState | null>();
	readonly #ids: Partial<Record<ViewKind, readonly string[]>> = {};
	readonly results = new Map<string, PagedResult>();

	constructor(
		readonly version: string,
		private readonly live: DirectoryState,
		public lastUsed: number
	) {}

	person(id: string): PersonState | undefined {
		const kept = this.#people.get(id);
		return kept === undefined ? this.live.person(id) : (kept ?? undefined);
	}

	group(id: string): GroupState | undefined {
		const kept = this.#groups.get(id);
		return kept === undefined ? this.live.group(id) : (kept ?? undefined);
	}

	ids(kind: ViewKind): readonly string[] {
		// Taken lazily: `keep` takes both before the first write, so this is still the view's version.
		return (this.#ids[kind] ??= this.live.ids(kind));
	}

	/** Keeps, as they are now, the records a write is about to change. */
	keep(touched: Touched): void {
		for (const kind of VIEW_KINDS) this.ids(kind);
		for (const id of touched.people ?? [])
			if (!this.#people.has(id)) this.#people.set(id, this.live.person(id) ?? null);
		for (const id of touched.groups ?? []) {
			if (this.#groups.has(id)) continue;
			const state = this.live.group(id);
			// Members are a map the directory changes in place: the view needs its own copy.
			this.#groups.set(id, state ? { ...state, members: new Map(state.members) } : null);
		}
	}

	get done(): boolean {
		for (const r of this.results.values()) if (r.remaining > 0) return false;
		return true;
	}
}

/** A page of a read: the state to render it from, the whole result, the page's ids, and their version. */
export interface ViewPage {
	state: DirectoryState;
	total: number;
	ids: readonly string[];
	version: string;
}

/** The read views of one directory. */
export class ReadViews {
	#views: ReadView[] = [];
	// A version names a view across requests; the epoch keeps one instance's "3" from meeting the next's.
	readonly #epoch = crypto.randomUUID().slice(0, 8);
	#counter = 0;
	readonly #now: () => number;
	readonly #idleMs: number;
	readonly #doneMs: number;
	readonly #joinMs: number;
	readonly #maxViews: number;

	constructor(
		private readonly live: DirectoryState,
		options: ReadViewOptions = {}
	) {
		this.#now = options.now ?? Date.now;
		this.#idleMs = options.idleMs ?? 60_000;
		this.#doneMs = options.doneMs ?? 10_000;
		this.#joinMs = options.joinMs ?? 10_000;
		this.#maxViews = options.maxViews ?? 8;
	}

	/** The directory's current version. */
	get version(): string {
		return `${this.#epoch}.${this.#counter}`;
	}

	/** How many views are open (for tests and diagnostics). */
	get open(): number {
		this.#prune();
		return this.#views.length;
	}

	/** Before a write: every open view keeps what it is about to change. */
	beforeWrite(touched: Touched | (() => Touched)): void {
		this.#prune();
		if (this.#views.length === 0) return;
		const list = typeof touched === 'function' ? touched() : touched;
		const people = [...(list.people ?? [])];
		const groups = [...(list.groups ?? [])];
		for (const view of this.#views) view.keep({ people, groups });
	}

	/** After a write (committed or rolled back): the directory is at a new version. */
	afterWrite(): void {
		this.#counter++;
	}

	/** The directory was replaced wholesale (set up, wiped): every view closes. */
	reset(): void {
		this.#views = [];
		this.#counter++;
	}

	/**
	 * The page of query `key` starting at `startIndex` (1-based), `count` long. `select` computes
	 * the query's ids from a state (once per view). `pin` is a version the client asks for.
	 */
	page(
		key: string,
		startIndex: number,
		count: number,
		pin: string | undefined,
		select: (state: DirectoryState) => readonly string[]
	): ViewPage {
		this.#prune();
		const now = this.#now();
		let view: ReadView | undefined;
		if (pin !== undefined) {
			view = this.#views.find((v) => v.version === pin);
			if (!view && pin === this.version) view = this.#openView(now);
			if (!view) throw new ViewGoneError(pin);
		} else if (startIndex > 1) {
			view = this.#views.findLast((v) => v.results.has(key));
		} else {
			const newest = this.#views.at(-1);
			view =
				newest && newest.version === this.version
					? newest
					: this.#views.findLast((v) => (v.results.get(key)?.remaining ?? 0) > 0 && now - v.lastUsed < this.#joinMs);
		}
		view ??= this.#openView(now);
		let result = view.results.get(key);
		if (!result) {
			const ids = select(view);
			result = { ids, served: new Uint8Array(ids.length), remaining: ids.length };
			view.results.set(key, result);
		} else if (startIndex === 1 && pin === undefined) {
			// A read starting over: it has to reach the last page again before the view may close.
			result.served.fill(0);
			result.remaining = result.ids.length;
		}
		const from = startIndex - 1;
		const to = Math.min(result.ids.length, from + count);
		for (let i = from; i < to; i++)
			if (result.served[i] === 0) {
				result.served[i] = 1;
				result.remaining--;
			}
		view.lastUsed = now;
		return {
			state: view,
			total: result.ids.length,
			ids: from < to ? result.ids.slice(from, to) : [],
			version: view.version
		};
	}

	#openView(now: number): ReadView {
		const view = new ReadView(this.version, this.live, now);
		this.#views.push(view);
		while (this.#views.length > this.#maxViews) this.#views.shift();
		return view;
	}

	#prune(): void {
		const now = this.#now();
		this.#views = this.#views.filter((v) => now - v.lastUsed < (v.done ? this.#doneMs : this.#idleMs));
	}
}
