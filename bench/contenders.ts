// The contenders: nginx as reverse proxy (buffered or not) and Archway (working tree, another
// revision, or an overriding command). Each start() gives a fresh process on fresh ports.

import { join } from 'node:path';
import { archwayCommand, supportsWorkersFlag } from './archway.ts';
import type { Contender, ScenarioId } from './measure.ts';
import { proxyConfig, startNginx } from './nginx.ts';
import { freePort, Proc, waitForHttp200, waitForPort } from './processes.ts';

export interface ContenderContext {
  nginxBin: string;
  tmpRoot: string;
  backendPort: number;
  manifestsDir: string;
  /** CPU list for the proxy under test (taskset -c). */
  proxyCpus: string;
}

let starts = 0;

async function twoFreePorts(): Promise<[number, number]> {
  const first = await freePort();
  for (;;) {
    const second = await freePort();
    if (second !== first) return [first, second];
  }
}

export function nginxContender(
  context: ContenderContext,
  id: string,
  buffering: boolean,
  only?: readonly ScenarioId[],
): Contender {
  return {
    id,
    describe: `nginx reverse proxy, 1 worker, upstream keepalive 1024, proxy_buffering ${buffering ? 'on' : 'off'}`,
    only,
    async start() {
      const port = await freePort();
      const prefix = join(context.tmpRoot, `${id}-${++starts}`);
      const config = proxyConfig(prefix, port, context.backendPort, buffering);
      const proc = await startNginx(context.nginxBin, id, prefix, config, port, context.proxyCpus);
      return { proc, port };
    },
  };
}

/** Archway from `tree` (the working tree or a worktree), started with `template`. */
export async function archwayContender(
  context: ContenderContext,
  id: string,
  template: string,
  tree: string,
): Promise<Contender> {
  const withWorkers = await supportsWorkersFlag(template, tree);
  const sample = archwayCommand(
    template,
    { tree, manifests: context.manifestsDir, httpPort: 'HTTP_PORT', adminPort: 'ADMIN_PORT', backendPort: context.backendPort },
    withWorkers,
  );
  const describe = `${[sample.file, ...sample.args].join(' ')} (cwd ${tree}${withWorkers ? '' : '; no --workers flag'})`;
  return {
    id,
    describe,
    async start() {
      const [httpPort, adminPort] = await twoFreePorts();
      const command = archwayCommand(
        template,
        { tree, manifests: context.manifestsDir, httpPort, adminPort, backendPort: context.backendPort },
        withWorkers,
      );
      const proc = new Proc(id, command.file, command.args, { cpus: context.proxyCpus, cwd: tree });
      try {
        if (command.hasAdmin) await waitForHttp200(proc, adminPort, '/readyz', 30_000);
        else await waitForPort(proc, httpPort, 30_000);
      } catch (error) {
        await proc.stop();
        throw error;
      }
      return { proc, port: httpPort };
    },
  };
}
