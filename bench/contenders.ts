// The contenders: nginx as reverse proxy (buffered or not) and Archway (working tree, another
// revision, or an overriding command). Each start() gives a fresh process on fresh ports.

import { join } from 'node:path';
import { archwayCommand, serveFeatures, type ServeFeatures } from './archway.ts';
import type { Contender, Scenario, ScenarioId } from './measure.ts';
import { proxyConfig, startNginx } from './nginx.ts';
import { freePort, Proc, StartError, waitForHttp200, waitForPort } from './processes.ts';
import { TLS_HOST, type BenchTls } from './tls.ts';

export interface ContenderContext {
  nginxBin: string;
  tmpRoot: string;
  backendPort: number;
  manifestsDir: string;
  /** CPU list for the proxy under test (taskset -c). */
  proxyCpus: string;
  /** The run's certificate (TLS scenarios); undefined when none runs. */
  tls?: BenchTls;
  /** NS/NAME of the kubernetes.io/tls Secret holding it, for --default-ssl-certificate. */
  tlsSecret?: string;
}

let starts = 0;

/** `count` distinct ports that were free a moment ago. */
async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  return ports;
}

export function nginxContender(
  context: ContenderContext,
  id: string,
  buffering: boolean,
  only?: readonly ScenarioId[],
): Contender {
  const tlsNote = context.tls === undefined ? '' : `; TLS scenarios: also listen ... ssl, server_name ${TLS_HOST}, same certificate`;
  return {
    id,
    describe: `nginx reverse proxy, 1 worker, upstream keepalive 1024, proxy_buffering ${buffering ? 'on' : 'off'}${tlsNote}`,
    only,
    async start(scenario: Scenario) {
      const [port, httpsPort] = (await freePorts(2)) as [number, number];
      const prefix = join(context.tmpRoot, `${id}-${++starts}`);
      const tls = scenario.tls && context.tls !== undefined
        ? { port: httpsPort, certFile: context.tls.certFile, keyFile: context.tls.keyFile, serverName: TLS_HOST }
        : undefined;
      const config = proxyConfig(prefix, port, context.backendPort, buffering, tls);
      const proc = await startNginx(context.nginxBin, id, prefix, config, port, context.proxyCpus);
      if (tls === undefined) return { proc, port };
      try {
        await waitForPort(proc, httpsPort);
      } catch (error) {
        await proc.stop();
        throw error;
      }
      return { proc, port, httpsPort };
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
  const features: ServeFeatures = await serveFeatures(template, tree, context.tmpRoot);
  const values = (httpPort: number | string, httpsPort: number | string, adminPort: number | string) => ({
    tree,
    manifests: context.manifestsDir,
    httpPort,
    httpsPort,
    adminPort,
    backendPort: context.backendPort,
  });
  const sample = archwayCommand(template, values('HTTP_PORT', 'HTTPS_PORT', 'ADMIN_PORT'), features, context.tlsSecret);
  const missing = [
    features.workers ? '' : 'no --workers flag',
    sample.hasHttps ? '' : 'no HTTPS port: TLS scenarios fail',
    context.tls !== undefined && !template.includes('{httpPort}') && !features.defaultSslCertificate
      ? 'no --default-ssl-certificate: clients without SNI get a self-signed certificate, (f) fails'
      : '',
  ].filter((note) => note !== '');
  const describe = `${[sample.file, ...sample.args].join(' ')} (cwd ${tree}${missing.map((m) => `; ${m}`).join('')})`;
  return {
    id,
    describe,
    async start(scenario: Scenario) {
      if (scenario.tls && !sample.hasHttps) {
        throw new StartError(
          template.includes('{httpPort}')
            ? '--archway-cmd places the ports itself but has no {httpsPort}: no HTTPS listener to measure'
            : `"serve --help" of ${tree} does not mention --https-port: no HTTPS listener to measure`,
          '',
        );
      }
      const [httpPort, httpsPort, adminPort] = (await freePorts(3)) as [number, number, number];
      const command = archwayCommand(template, values(httpPort, httpsPort, adminPort), features, context.tlsSecret);
      const proc = new Proc(id, command.file, command.args, { cpus: context.proxyCpus, cwd: tree });
      try {
        if (command.hasAdmin) await waitForHttp200(proc, adminPort, '/readyz', 30_000);
        else await waitForPort(proc, httpPort, 30_000);
        // Readiness may precede the HTTPS listener (workers): wait for it too, bounded.
        if (scenario.tls) await waitForPort(proc, httpsPort, 15_000);
      } catch (error) {
        await proc.stop();
        throw error;
      }
      return { proc, port: httpPort, httpsPort: command.hasHttps ? httpsPort : undefined };
    },
  };
}
