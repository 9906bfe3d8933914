import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { parseEchoArgs } from './echo-main.ts';

const MAIN = fileURLToPath(new URL('./echo-main.ts', import.meta.url));

test('parseEchoArgs accepts name, port and host', () => {
  assert.deepEqual(parseEchoArgs(['--name', 'a', '--port', '9101']), { name: 'a', port: 9101, host: '127.0.0.1' });
  assert.deepEqual(parseEchoArgs(['--port=0', '--name=b', '--host', '::1']), { name: 'b', port: 0, host: '::1' });
  assert.deepEqual(parseEchoArgs(['-h']), { help: true });
});

test('parseEchoArgs rejects bad arguments', () => {
  for (const argv of [
    [],
    ['--name', 'a'],
    ['--port', '1'],
    ['--name', 'a', '--port', '65536'],
    ['--name', 'a', '--port', '-1'],
    ['--name', 'a', '--port', '12ab'],
    ['--name', 'a', '--port', '1', '--bogus'],
    ['--name', 'a', '--port', '1', 'extra'],
    ['--name', '', '--port', '1'],
  ]) {
    assert.ok('error' in parseEchoArgs(argv), JSON.stringify(argv));
  }
});

test('echo-main: bad arguments print usage and exit 2', { timeout: 10000 }, async () => {
  const child = spawn(process.execPath, [MAIN, '--name', 'x'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 2);
  assert.match(stderr, /--port is required/);
  assert.match(stderr, /usage: archway echo/);
});

test('echo-main: serves until SIGTERM, then exits 0', { timeout: 10000 }, async () => {
  const child = spawn(process.execPath, [MAIN, '--name', 'solo', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    let stdout = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
        const m = /listening on (http:\/\/\S+)/.exec(stdout);
        if (m) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${stdout}`)));
    });
    const res = await fetch(`${url}/hello?x=1`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { backend: string; path: string; query: string };
    assert.equal(body.backend, 'solo');
    assert.equal(body.path, '/hello');
    assert.equal(body.query, 'x=1');
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});
