// External tools the harness needs (nginx, wrk, taskset; openssl for the new-handshake scenario
// f), installed from Debian packages when missing and we are root.

import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface Tools {
  nginx: string;
  wrk: string;
  nginxVersion: string;
  wrkVersion: string;
  /** Present when asked for (scenario f: `openssl s_time`). */
  openssl?: string;
  opensslVersion?: string;
}

function find(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/usr/bin', '/sbin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

function aptInstall(packages: readonly string[]): void {
  if (process.getuid?.() !== 0) {
    throw new Error(`missing ${packages.join(', ')}: install with apt-get install -y ${packages.join(' ')} (needs root)`);
  }
  console.error(`# installing ${packages.join(' ')} with apt-get ...`);
  execFileSync('apt-get', ['update'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 300_000 });
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], {
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 300_000,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

function versionOf(bin: string, args: readonly string[]): string {
  const result = spawnSync(bin, args, { encoding: 'utf8', timeout: 5000 });
  const text = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  return text.split('\n').find((line) => line.trim() !== '')?.trim() ?? 'unknown';
}

export function ensureTools(needOpenssl: boolean): Tools {
  if (find('taskset') === undefined) throw new Error('taskset not found (package util-linux)');
  const missing: string[] = [];
  if (find('nginx') === undefined) missing.push('nginx-light');
  if (find('wrk') === undefined) missing.push('wrk');
  if (needOpenssl && find('openssl') === undefined) missing.push('openssl');
  if (missing.length > 0) {
    try {
      aptInstall(missing);
    } catch (error) {
      // nginx-light is gone from newer Debian releases; plain nginx is the same binary.
      if (!missing.includes('nginx-light')) throw error;
      aptInstall(missing.map((name) => (name === 'nginx-light' ? 'nginx' : name)));
    }
  }
  const nginx = find('nginx');
  const wrk = find('wrk');
  if (nginx === undefined || wrk === undefined) throw new Error('nginx or wrk still missing after apt-get install');
  const tools: Tools = {
    nginx,
    wrk,
    nginxVersion: versionOf(nginx, ['-v']),
    wrkVersion: versionOf(wrk, ['--version']).replace(/\s+Copyright.*$/, ''),
  };
  if (needOpenssl) {
    const openssl = find('openssl');
    if (openssl === undefined) throw new Error('openssl still missing after apt-get install');
    tools.openssl = openssl;
    tools.opensslVersion = versionOf(openssl, ['version']);
  }
  return tools;
}
