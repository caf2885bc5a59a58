// Types `env` and `exports` from "cloudflare:workers" (and cloudflare:test) with this Worker's bindings.
declare namespace Cloudflare {
	type WorkerEnv = import('./env').Env;
	interface Env extends WorkerEnv {}
	interface GlobalProps {
		mainModule: typeof import('./index');
		durableNamespaces: 'LinkDO' | 'AccountDO' | 'SandboxDO';
	}
}
