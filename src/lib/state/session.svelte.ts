/**
 * Who is signed in. A token typed once is kept in this browser (localStorage); deployed behind
 * Cloudflare Access, GET /api/me answers without a token and that identity is used. The last
 * known identity is kept too, so the app opens offline with the same role. Signing out erases
 * everything this browser kept of the account.
 */
import { ApiError, createApi, type Auth } from '$lib/api/client';
import { ROLES, type Me, type Role } from '$lib/api/types';
import { eraseCachedAnswers, eraseDatabase, getDb, unsentCount } from '$lib/db';
import { reportingFetch } from './network.svelte';
import { codeInFragment } from '$lib/api/sign-in';
import { persistStorage } from './persist';

const TOKEN_KEY = 'rostersync.token';
const ME_KEY = 'rostersync.me';

export type SessionStatus = 'starting' | 'signed-in' | 'signed-out';

function read(key: string): string | undefined {
	try {
		return localStorage.getItem(key) ?? undefined;
	} catch {
		return undefined;
	}
}

function write(key: string, value: string | undefined): void {
	try {
		if (value === undefined) localStorage.removeItem(key);
		else localStorage.setItem(key, value);
	} catch {
		// storage unavailable (private mode): the session lasts as long as the page
	}
}

export class Session {
	#token = $state<string | undefined>();
	#me = $state<Me | undefined>();
	#status = $state<SessionStatus>('starting');
	#error = $state<string | undefined>();
	#persisted = $state<boolean | undefined>();

	/** The typed API client; every call carries the current credential. */
	readonly api = createApi({ auth: () => this.auth, fetch: reportingFetch });

	get auth(): Auth {
		return { base: '', token: this.#token };
	}
	get me(): Me | undefined {
		return this.#me;
	}
	get status(): SessionStatus {
		return this.#status;
	}
	get error(): string | undefined {
		return this.#error;
	}
	get role(): Role | undefined {
		return this.#me?.role;
	}
	/**
	 * Whether this device's storage survives storage pressure, as the browser answered after the
	 * last sign-in: undefined until asked (or where it cannot be asked).
	 */
	get persisted(): boolean | undefined {
		return this.#persisted;
	}

	/** True when the signed-in role may do what `role` may. */
	can(role: Role): boolean {
		return !!this.#me && ROLES.indexOf(this.#me.role) >= ROLES.indexOf(role);
	}

	/** Restores the session: the stored token (or an Access identity), else the last known one offline. */
	async start(): Promise<void> {
		// Opened through a sign-in link: the code is used once, and never stays in the address bar.
		const code = typeof location === 'undefined' ? undefined : codeInFragment(location.hash);
		if (code) {
			history.replaceState(history.state, '', location.pathname + location.search);
			if (await this.signInWithCode(code)) return;
		}
		const codeError = this.#error;
		this.#token = read(TOKEN_KEY);
		const cached = read(ME_KEY);
		try {
			const me = await this.api.me();
			this.#accept(me);
		} catch (e) {
			if (e instanceof ApiError && e.offline && cached && (this.#token || JSON.parse(cached).via === 'access')) {
				this.#me = JSON.parse(cached) as Me;
				this.#status = 'signed-in';
				return;
			}
			if (e instanceof ApiError && e.status === 401 && this.#token)
				this.#error = 'Your token is no longer accepted. Sign in again.';
			this.#status = 'signed-out';
		}
		// A link that failed is said even when a kept token signed this device in anyway.
		if (codeError) this.#error = codeError;
	}

	/**
	 * Signs in with a one-time code (from a sign-in link, its QR code, or typed): the edge
	 * exchanges it for a token of the role the owner chose, which is then kept like a typed one.
	 */
	async signInWithCode(code: string): Promise<boolean> {
		this.#error = undefined;
		let issued;
		try {
			issued = await createApi({ auth: () => ({ base: '' }), fetch: reportingFetch }).exchangeSignInCode(code);
		} catch (e) {
			this.#error =
				e instanceof ApiError && e.offline
					? 'The edge cannot be reached. Signing in needs a connection once; open the link again when online.'
					: (e as Error).message;
			return false;
		}
		return this.signIn(issued.token);
	}

	/** Signs in with a token; it is checked against the edge before it is kept. */
	async signIn(token: string): Promise<boolean> {
		this.#error = undefined;
		const previous = this.#token;
		this.#token = token.trim();
		try {
			const me = await this.api.me();
			write(TOKEN_KEY, this.#token);
			this.#accept(me);
			// Not awaited: a browser may ask the person first, and signing in does not wait for that.
			void persistStorage().then((persisted) => (this.#persisted = persisted));
			return true;
		} catch (e) {
			this.#token = previous;
			if (e instanceof ApiError && e.status === 401) this.#error = 'That token is unknown, revoked or expired.';
			else if (e instanceof ApiError && e.offline)
				this.#error = 'The edge cannot be reached. Signing in needs a connection once.';
			else this.#error = (e as Error).message;
			return false;
		}
	}

	/** How many answers wait in the outbox, which signing out would erase. */
	unsentAnswers(): Promise<number> {
		return unsentCount(getDb());
	}

	/**
	 * Signs out of what may be a shared tablet: erases the database (the outbox too: ask first,
	 * see unsentAnswers), the API answers in CacheStorage and web storage, then forgets the
	 * credential and reloads, so nothing read stays in memory either (the page's state, the
	 * reconcile worker's). When erasing fails it throws and nothing is forgotten: the person stays
	 * signed in and is told, rather than leaving signed out with the data still here.
	 */
	async signOutAndErase(): Promise<void> {
		await eraseDatabase(getDb());
		if (typeof caches !== 'undefined') await eraseCachedAnswers(caches);
		for (const storage of [() => localStorage, () => sessionStorage]) {
			try {
				storage().clear();
			} catch {
				// storage unavailable (private mode): nothing was kept there
			}
		}
		this.signOut();
		location.replace('/');
	}

	/**
	 * Forgets the credential and keeps the data: for a token the edge no longer accepts, where the
	 * outbox may still be sent after signing in with another one. `reason` is shown on the sign-in
	 * screen (e.g. the token was revoked).
	 */
	signOut(reason?: string): void {
		write(TOKEN_KEY, undefined);
		write(ME_KEY, undefined);
		this.#token = undefined;
		this.#me = undefined;
		this.#error = reason;
		this.#status = 'signed-out';
	}

	#accept(me: Me): void {
		this.#me = me;
		write(ME_KEY, JSON.stringify(me));
		this.#status = 'signed-in';
		this.#error = undefined;
	}
}

export const session = new Session();
