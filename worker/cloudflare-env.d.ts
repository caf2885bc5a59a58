// Types `env` and `exports` from "cloudflare:workers" (and cloudflare:test) with this Worker's bindings.
declare namespace Cloudflare {
	type WorkerEnv = import('./env').Env;
	// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- merges the bindings into Cloudflare's own Env
	interface Env extends WorkerEnv {}
	interface GlobalProps {
		mainModule: typeof import('./index');
		durableNamespaces: 'LinkDO' | 'AccountDO' | 'SandboxDO';
	}
}
