// Reads the admin API of a running Archway (`--server URL`). Failures become messages that name the
// URL and say what to check, like kubectl's "The connection to the server ... was refused".

import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

export const DEFAULT_SERVER = 'http://127.0.0.1:10254';
/** A request that takes longer than this fails (the admin API answers from memory). */
export const REQUEST_TIMEOUT_MS = 10_000;
/** Largest answer read; 10,000 Ingresses as JSON are well below this. */
export const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

/** The CLI's own errors: printed as they are, exit code 1. */
export class CliError extends Error {
  override name = 'CliError';
}

export interface ApiResponse {
  status: number;
  body: string;
}

/** Validates a --server value: an http(s) URL with no query or fragment. */
export function parseServer(raw: string): URL | undefined {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return undefined;
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.search !== '' || u.hash !== '' || u.username !== '' || u.password !== '') return undefined;
  return u;
}

/** URL of an admin API path under the server's base path. */
export function apiUrl(server: URL, path: string, query: Record<string, string | undefined> = {}): URL {
  const base = server.href.endsWith('/') ? server.href : `${server.href}/`;
  const u = new URL(path.replace(/^\//, ''), base);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.set(k, v);
  return u;
}

/** GET; resolves with any HTTP status, rejects with a CliError when no answer arrives. */
export function get(server: URL, path: string, query: Record<string, string | undefined> = {}): Promise<ApiResponse> {
  const url = apiUrl(server, path, query);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', agent: false, headers: { accept: 'application/json' }, timeout: REQUEST_TIMEOUT_MS }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_RESPONSE_BYTES) {
          req.destroy();
          reject(new CliError(`the answer from ${displayServer(server)} is larger than ${MAX_RESPONSE_BYTES} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (e) => reject(unreachable(server, e)));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000}s`), { code: 'ETIMEDOUT' })));
    req.on('error', (e) => reject(unreachable(server, e)));
    req.end();
  });
}

/** The server as the user would write it: no trailing slash on a bare origin. */
export function displayServer(server: URL): string {
  return server.pathname === '/' ? server.origin : server.href;
}

function unreachable(server: URL, e: Error): CliError {
  const code = (e as NodeJS.ErrnoException).code;
  const why = code === 'ECONNREFUSED' ? 'connection refused' : code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? `host ${server.hostname} not found` : e.message;
  return new CliError(`cannot reach the Archway admin API at ${displayServer(server)}: ${why} - is 'archway serve' running, and is --server right? (the admin listener defaults to ${DEFAULT_SERVER})`);
}

/** GET and parse JSON; a non-200 status other than the ones in `allow` is an error. */
export async function getJson(server: URL, path: string, query: Record<string, string | undefined> = {}): Promise<{ status: number; json: unknown }> {
  const res = await get(server, path, query);
  if (res.status === 404 && !res.body.trimStart().startsWith('{')) return { status: 404, json: undefined };
  if (res.status !== 200) {
    throw new CliError(`unexpected answer from ${apiUrl(server, path, query).href}: HTTP ${res.status}${res.body.trim() === '' ? '' : `: ${res.body.trim().slice(0, 500)}`}`);
  }
  try {
    return { status: 200, json: JSON.parse(res.body) as unknown };
  } catch {
    throw new CliError(`the answer from ${apiUrl(server, path, query).href} is not JSON: is ${displayServer(server)} an Archway admin listener?`);
  }
}
