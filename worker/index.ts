import type { Env } from './env';
import { handleApi } from './api/router';

// The main module may export only handlers and Durable Object / entrypoint classes:
// workerd refuses to start on any other export (e.g. a constant).
export { LinkDO } from './link-do';
export { AccountDO } from './account-do';
export { SandboxDO } from './sandbox-do';

async function fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
	const url = new URL(request.url);
	// The JSON API: routes, authentication and roles in worker/api/router.ts.
	if (url.pathname === '/api' || url.pathname.startsWith('/api/')) return handleApi(request, env, ctx);
	// Everything else is the PWA; Static Assets answers unknown paths with the SPA shell.
	return env.ASSETS.fetch(request);
}

async function scheduled(controller: ScheduledController, _env: Env, _ctx: ExecutionContext): Promise<void> {
	// The cron only fans out to links; each LinkDO decides whether its own 02:00 is due.
	// Listing links and re-arming their alarms comes with the edge issue; until then there is
	// nothing to fan out to, and the log says so.
	console.log(
		JSON.stringify({
			event: 'scheduled',
			cron: controller.cron,
			at: new Date(controller.scheduledTime).toISOString(),
			fannedOutTo: 0
		})
	);
}

export default { fetch, scheduled } satisfies ExportedHandler<Env>;
