/**
 * Installation and updates. The browser offers installation through `beforeinstallprompt`
 * (kept and replayed by the Install button); a new service worker that waits is offered as
 * "Update available": accepting sends SKIP_WAITING through workbox-window and reloads once the
 * new worker controls the page.
 */
import { registerServiceWorker } from '$lib/pwa';

interface InstallPromptEvent extends Event {
	prompt(): Promise<void>;
	userChoice: Promise<{ outcome: 'accepted' | 'dismissed' }>;
}

export class PwaManager {
	#installEvent = $state.raw<InstallPromptEvent | undefined>();
	#installed = $state(false);
	#updateWaiting = $state(false);
	#started = false;

	get canInstall(): boolean {
		return !!this.#installEvent && !this.#installed;
	}
	get updateAvailable(): boolean {
		return this.#updateWaiting;
	}

	start(): void {
		if (this.#started || typeof window === 'undefined') return;
		this.#started = true;
		addEventListener('beforeinstallprompt', (e) => {
			e.preventDefault(); // keep it for our own button instead of the mini-infobar
			this.#installEvent = e as InstallPromptEvent;
		});
		addEventListener('appinstalled', () => {
			this.#installed = true;
			this.#installEvent = undefined;
		});
		const wb = registerServiceWorker();
		wb?.addEventListener('waiting', () => (this.#updateWaiting = true));
	}

	async install(): Promise<void> {
		const event = this.#installEvent;
		if (!event) return;
		await event.prompt();
		const choice = await event.userChoice;
		if (choice.outcome === 'accepted') this.#installed = true;
		this.#installEvent = undefined; // a prompt can be used once
	}

	/** Activates the waiting service worker and reloads into the new version. */
	applyUpdate(): void {
		const wb = registerServiceWorker();
		if (!wb) return;
		wb.addEventListener('controlling', () => location.reload());
		wb.messageSkipWaiting();
	}
}

export const pwa = new PwaManager();
