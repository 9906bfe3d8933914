// nginx for the benchmark: the backend and the reference proxy. Each instance runs in the
// foreground (daemon off) with one worker, with its prefix, pid, logs and temp files in its
// own directory, so the system nginx service is never touched.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Proc, waitForPort } from './processes.ts';

/** Exactly 100 bytes, no characters nginx would interpret inside a quoted string. */
export const SMALL_BODY = 'archway-bench:'.padEnd(100, '0123456789');
export const LARGE_PATH = '/1m';
export const LARGE_SIZE = 1024 * 1024;

function common(prefix: string): string {
  return `daemon off;
master_process on;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log stderr warn;
events { worker_connections 8192; }
`;
}

function httpCommon(prefix: string): string {
  return `  access_log off;
  client_body_temp_path ${prefix}/client_body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  default_type application/octet-stream;
`;
}

/** `return 200` with SMALL_BODY on `/`, a static 1 MiB file (sendfile) on LARGE_PATH. */
export function backendConfig(prefix: string, port: number, wwwRoot: string): string {
  return `${common(prefix)}http {
${httpCommon(prefix)}  sendfile on;
  tcp_nopush on;
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location = / {
      default_type text/plain;
      return 200 "${SMALL_BODY}";
    }
    location = ${LARGE_PATH} {
      root ${wwwRoot};
    }
  }
}
`;
}

/**
 * Mozilla "intermediate" TLS 1.2 suites (TLS 1.3 suites: OpenSSL's defaults), the profile
 * Archway serves (issue 5 item 7). Spelled out here rather than imported from src/: the reference
 * side keeps the published profile even if Archway's ever drifts.
 */
export const MOZILLA_INTERMEDIATE_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
  'DHE-RSA-AES128-GCM-SHA256', 'DHE-RSA-AES256-GCM-SHA384', 'DHE-RSA-CHACHA20-POLY1305',
].join(':');

/** The HTTPS server of the TLS scenarios: its port, the run's certificate and its SNI name. */
export interface NginxTls {
  port: number;
  certFile: string;
  keyFile: string;
  serverName: string;
}

function proxyLocation(buffering: boolean): string {
  return `    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_buffering ${buffering ? 'on' : 'off'};
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Real-IP $remote_addr;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $host;
      proxy_set_header X-Forwarded-Port $server_port;
    }
`;
}

/**
 * Reverse proxy with a keep-alive upstream pool and the forwarded headers Archway adds. With
 * `tls`, a second server listens with `ssl` (HTTP/1.1 only: no http2 on the listen line) with the
 * run's certificate; being the only TLS server it is also the default one, so clients without
 * SNI get the same certificate. TLS settings as Archway's: TLS 1.2 and 1.3, Mozilla intermediate
 * suites, client's cipher preference, X25519/P-256/P-384, a shared session cache (tickets: nginx's
 * default, on, as Archway issues them too), and the Strict-Transport-Security header Archway adds
 * to HTTPS responses by default.
 */
export function proxyConfig(prefix: string, port: number, upstreamPort: number, buffering: boolean, tls?: NginxTls): string {
  const tlsServer = tls === undefined
    ? ''
    : `  server {
    listen 127.0.0.1:${tls.port} ssl backlog=4096;
    server_name ${tls.serverName};
    ssl_certificate ${tls.certFile};
    ssl_certificate_key ${tls.keyFile};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ${MOZILLA_INTERMEDIATE_CIPHERS};
    ssl_prefer_server_ciphers off;
    ssl_ecdh_curve X25519:prime256v1:secp384r1;
    ssl_session_cache shared:SSL:10m;
    ssl_session_timeout 1d;
    add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;
${proxyLocation(buffering)}  }
`;
  return `${common(prefix)}http {
${httpCommon(prefix)}  upstream backend {
    server 127.0.0.1:${upstreamPort};
    keepalive 1024;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
  }
  server {
    listen 127.0.0.1:${port} backlog=4096;
${proxyLocation(buffering)}  }
${tlsServer}}
`;
}

/** Write `config` into `prefix`, start nginx with it and wait for `port`. */
export async function startNginx(
  bin: string,
  name: string,
  prefix: string,
  config: string,
  port: number,
  cpus: string | undefined,
): Promise<Proc> {
  // nginx creates its temp directories itself, owned by the worker user (nobody when root).
  mkdirSync(prefix, { recursive: true, mode: 0o755 });
  const confPath = join(prefix, 'nginx.conf');
  writeFileSync(confPath, config);
  const proc = new Proc(name, bin, ['-e', 'stderr', '-p', prefix, '-c', confPath], { cpus });
  try {
    await waitForPort(proc, port);
  } catch (error) {
    await proc.stop();
    throw error;
  }
  return proc;
}
