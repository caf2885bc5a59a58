import type { Page } from 'playwright-core';
import { DEVICES, launchPersistentBrowser, type DeviceOptions, type PersistentBrowser } from './browser';

/** Signs `page` in with `token` from the sign-in screen, and waits for the Links screen. */
export async function signIn(page: Page, baseURL: string, token: string, by: 'tap' | 'click' = 'tap'): Promise<void> {
	await page.goto(baseURL);
	await page.getByLabel('Access token').fill(token);
	await page.getByRole('button', { name: 'Sign in' })[by]();
	await page.getByRole('heading', { name: 'Links', level: 1 }).waitFor();
}

/** A fresh device (a phone unless told), signed in with `token`, on the Links screen. */
export async function signedIn(
	baseURL: string,
	token: string,
	device: DeviceOptions = DEVICES.phone
): Promise<{ browser: PersistentBrowser; page: Page }> {
	const browser = await launchPersistentBrowser(device);
	const page = browser.context.pages()[0] ?? (await browser.context.newPage());
	await signIn(page, baseURL, token);
	return { browser, page };
}
