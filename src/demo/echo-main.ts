// `archway echo --name NAME --port N [--host H]`: runs one demo echo backend until SIGINT/SIGTERM.
// Also runnable directly: `node src/demo/echo-main.ts --name svc --port 9101`.

import { parseArgs } from 'node:util';
import { startEchoServer } from './echo-server.ts';

export const ECHO_USAGE = `usage: archway echo --name NAME --port N [--host H]

Runs a demo backend that answers every request with 200 and a JSON description of the
request (backend name, method, url, path, query, headers, body size); WebSocket upgrades
are accepted and echoed.

  --name NAME   backend name reported in every answer (required)
  --port N      TCP port, 0-65535; 0 picks a free one (required)
  --host H      listen address (default 127.0.0.1)
  -h, --help    show this help
`;

interface EchoArgs {
  name: string;
  port: number;
  host: string;
}

/** Parses the echo arguments; returns an error message instead of throwing. */
export function parseEchoArgs(argv: string[]): EchoArgs | { help: true } | { error: string } {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        name: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string', default: '127.0.0.1' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    return { error: (err as Error).message };
  }
  if (values.help) return { help: true };
  if (values.name === undefined || values.name === '') return { error: '--name is required' };
  if (values.port === undefined) return { error: '--port is required' };
  if (!/^\d{1,5}$/.test(values.port) || Number(values.port) > 65535) {
    return { error: `--port must be an integer 0-65535, got ${JSON.stringify(values.port)}` };
  }
  if (values.host === '') return { error: '--host must not be empty' };
  return { name: values.name, port: Number(values.port), host: values.host };
}

/**
 * Runs one echo backend until SIGINT/SIGTERM. Resolves with the process exit code
 * (0 after a signal or --help, 1 when the port cannot be bound, 2 on bad arguments)
 * and also sets `process.exitCode` to it.
 */
export async function runEcho(argv: string[]): Promise<number> {
  const done = (code: number): number => {
    process.exitCode = code;
    return code;
  };
  const args = parseEchoArgs(argv);
  if ('help' in args) {
    process.stdout.write(ECHO_USAGE);
    return done(0);
  }
  if ('error' in args) {
    process.stderr.write(`archway echo: ${args.error}\n\n${ECHO_USAGE}`);
    return done(2);
  }
  let server;
  try {
    server = await startEchoServer(args);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'EADDRINUSE' ? 'address already in use' : e.message;
    process.stderr.write(`archway echo: cannot listen on ${args.host}:${args.port}: ${why}\n`);
    return done(1);
  }
  process.stdout.write(`echo backend "${args.name}" listening on http://${args.host}:${server.port}\n`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (sig: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(sig);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  process.stdout.write(`echo backend "${args.name}": ${signal}, stopping\n`);
  await server.close();
  return done(0);
}

if (import.meta.main) await runEcho(process.argv.slice(2));
