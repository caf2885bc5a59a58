// A static SPA: the shell is prerendered, every page renders in the browser.
export const prerender = true;
export const ssr = false;
