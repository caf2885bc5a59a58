import type { Env } from './env';
import { handleApi } from './api/router';
import { fanOut } from './link/fan-out';
import { applyRulesEverywhere } from './rules/fan-out';
import { withSecurityHeaders } from './http';

// The main module may export only handlers and Durable Object / entrypoint classes:
// workerd refuses to start on any other export (e.g. a constant).
export { LinkDO } from './link/link-do';
export { AccountDO } from './account/account-do';
export { SandboxDO } from './sandbox/sandbox-do';
export { RulesDO } from './rules/rules-do';

async function fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
	const url = new URL(request.url);
	// The JSON API: routes, authentication and roles in worker/api/router.ts.
	if (url.pathname === '/api' || url.pathname.startsWith('/api/'))
		return withSecurityHeaders(await handleApi(request, env, ctx));
	// Everything else is the PWA; Static Assets answers unknown paths with the SPA shell.
	return env.ASSETS.fetch(request);
}

async function scheduled(controller: ScheduledController, env: Env, _ctx: ExecutionContext): Promise<void> {
	// The cron only fans out: it re-arms any link whose alarm is missing. Each LinkDO decides from
	// its own time zone when its 02:00 run is due (worker/link/schedule.ts).
	const result = await fanOut(env, controller.scheduledTime);
	// Rules apply at least hourly, so a person new in a system joins their groups the same day.
	const rules = await applyRulesEverywhere(env, 'schedule');
	console.log(
		JSON.stringify({
			event: 'scheduled',
			cron: controller.cron,
			at: new Date(controller.scheduledTime).toISOString(),
			fannedOutTo: result.links,
			armed: result.armed,
			failed: result.failed,
			rules: rules.systems,
			rulesFailed: rules.failed
		})
	);
}

export default { fetch, scheduled } satisfies ExportedHandler<Env>;
