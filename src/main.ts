// archway: command dispatch. The only module that knows every layer (ARCHITECTURE.md "cli/").

import { UsageError } from './cli/flags.ts';
import { parseServeArgs, serveUsage } from './cli/serve-options.ts';
import { startServe } from './cli/serve.ts';
import { runValidate } from './cli/validate.ts';
import { runDescribe, runGet } from './cli/views/commands.ts';
import { runEcho } from './demo/echo-main.ts';

const USAGE = `Usage: archway <command> [flags]

Archway is a Kubernetes Ingress controller with its own HTTP data plane.

Commands:
  serve     serve the Ingresses of Kubernetes manifest files (archway serve --help)
  validate  check manifest files as serve would read them, for CI (archway validate --help)
  get       list the Ingresses or Events of a running Archway, like kubectl (archway get --help)
  describe  show an Ingress of a running Archway, like kubectl (archway describe --help)
  echo      run a demo echo backend (archway echo --help)
  help      show this help

Run 'archway <command> --help' for the flags of a command.
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'validate':
      return runValidate(rest);
    case 'get':
      return runGet(rest);
    case 'describe':
      return runDescribe(rest);
    case 'echo':
      return runEcho(rest);
    default:
      process.stderr.write(`archway: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
      return 2;
  }
}

async function serve(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(serveUsage());
    return 0;
  }
  let config;
  try {
    config = parseServeArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`archway serve: ${e.message}\n\n${serveUsage()}`);
      return 2;
    }
    throw e;
  }
  let running;
  try {
    running = await startServe(config);
  } catch (e) {
    process.stderr.write(`archway serve: ${(e as Error).message}\n`);
    return 1;
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await running.shutdown();
  return 0;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`archway: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
