/**
 * Runs workerd with V8's heap capped as Cloudflare caps a Worker isolate (128 MB), so the edge
 * benchmark shows that a run fits rather than estimating it from samples: an isolate that needs
 * more dies with "Reached heap limit" and the run fails.
 *
 * Miniflare does not expose workerd's `v8Flags` config field, so this adds it to the config
 * Miniflare assembles, by rewriting that one return statement as Miniflare's bundle is loaded.
 * Import it before anything imports miniflare; the flags are read from EDGE_V8_FLAGS (a JSON
 * array) each time Miniflare starts workerd (see withHeapLimit).
 */
import Module from 'node:module';

const ASSEMBLED = 'return {\n      services: servicesArray,\n      sockets,';

type Compile = (this: unknown, content: string, filename: string) => unknown;
const proto = Module.prototype as unknown as { _compile: Compile };
const compile = proto._compile;
let patched = false;
proto._compile = function (content, filename) {
	if (/miniflare[\\/]dist[\\/]src[\\/]index\.js$/.test(filename)) {
		const at = content.lastIndexOf(ASSEMBLED);
		if (at < 0) throw new Error('heap-limit: Miniflare changed; the workerd config can no longer be given v8Flags');
		content = `${content.slice(0, at)}return {\n      v8Flags: JSON.parse(process.env.EDGE_V8_FLAGS ?? '[]'),\n      services: servicesArray,\n      sockets,${content.slice(at + ASSEMBLED.length)}`;
		patched = true;
	}
	return compile.call(this, content, filename);
};

/** Sets the heap cap for the next workerd Miniflare starts; throws if Miniflare was loaded unpatched. */
export function withHeapLimit(mb: number): void {
	if (!patched) throw new Error('heap-limit: import bench/heap-limit.ts before miniflare');
	process.env.EDGE_V8_FLAGS = JSON.stringify([`--max-heap-size=${mb}`]);
}
