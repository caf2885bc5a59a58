import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** The system Chromium (apt package `chromium`); playwright-core never downloads a browser here. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags that keep headless Chromium quiet on a closed network (see STACK.md). */
export const CHROMIUM_ARGS = [
	'--headless',
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync'
];

export interface PersistentBrowser {
	context: BrowserContext;
	/** Closes the browser and deletes its profile. */
	close(): Promise<void>;
}

/** Viewports the PWA is tested at: a phone (Pixel 7) and a tablet, both by touch. */
export const DEVICES = {
	phone: { viewport: { width: 412, height: 915 }, deviceScaleFactor: 2.625, hasTouch: true, isMobile: true },
	tablet: { viewport: { width: 1024, height: 1366 }, deviceScaleFactor: 2, hasTouch: true, isMobile: true }
} as const;

/** The narrowest phone the screens are made for (390 CSS px, e.g. an iPhone 14), by touch. */
export const NARROW_PHONE = {
	viewport: { width: 390, height: 844 },
	deviceScaleFactor: 3,
	hasTouch: true,
	isMobile: true
} as const;

export interface DeviceOptions {
	viewport?: { width: number; height: number };
	deviceScaleFactor?: number;
	hasTouch?: boolean;
	isMobile?: boolean;
	colorScheme?: 'light' | 'dark';
	/** The device's time zone (IANA), as Chromium emulates it for the page and its workers. */
	timezoneId?: string;
}

/**
 * A persistent (non-incognito) context with a fresh profile: service workers, caches and
 * installability behave as for a real visitor. Throws when Chromium is missing: browser tests
 * must fail, never skip.
 */
export async function launchPersistentBrowser(options: DeviceOptions = {}): Promise<PersistentBrowser> {
	if (!existsSync(CHROMIUM_PATH)) {
		throw new Error(
			`Chromium not found at ${CHROMIUM_PATH}. Install it (apt-get install -y chromium) or set CHROMIUM_PATH; browser tests do not skip.`
		);
	}
	const profile = mkdtempSync(join(tmpdir(), 'rostersync-chromium-'));
	const context = await chromium.launchPersistentContext(profile, {
		executablePath: CHROMIUM_PATH,
		headless: true,
		args: CHROMIUM_ARGS,
		viewport: options.viewport ?? { width: 390, height: 844 },
		deviceScaleFactor: options.deviceScaleFactor,
		hasTouch: options.hasTouch,
		isMobile: options.isMobile,
		colorScheme: options.colorScheme,
		timezoneId: options.timezoneId
	});
	return {
		context,
		async close() {
			await context.close();
			rmSync(profile, { recursive: true, force: true });
		}
	};
}
