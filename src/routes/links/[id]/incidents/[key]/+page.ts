// Links exist only at run time: this page is the SPA shell, never prerendered.
export const prerender = false;
