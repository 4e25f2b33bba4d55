// nginx.mjs - Debian's nginx as a round-robin load balancer for tests: its
// own prefix in a temporary folder, a loopback port, one upstream of the
// given servers, request and response bodies streamed (no buffering, so
// tus PATCH bodies reach a server as they arrive, as a production setup
// should be configured), X-Forwarded-For added. Non-idempotent requests
// (POST, PATCH) are not retried on another server by nginx: a client sees
// the failure and resumes, as tus clients do.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './server.mjs';

const NGINX = process.env.HUBCAST_NGINX_BIN || '/usr/sbin/nginx';

// Why nginx cannot start here, or null.
export function nginxSkipReason() {
  if (existsSync(NGINX)) return null;
  return `nginx is not installed (${NGINX}; Debian package nginx, see build-aux/deps.sh test)`;
}

// The configuration: exported so the README's example and the test share it.
export function nginxConfig({ port, backends, dir }) {
  const user = process.getuid && process.getuid() === 0 ? 'user root root;\n' : '';
  return `${user}worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log notice;
events { worker_connections 256; }
http {
    log_format upstream '$request_method $uri $status $upstream_addr';
    access_log ${dir}/access.log upstream;
    client_body_temp_path ${dir}/body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
    upstream hubcast {
${backends.map((b) => `        server ${b};`).join('\n')}
    }
    server {
        listen 127.0.0.1:${port};
        client_max_body_size 0;
        location / {
            proxy_pass http://hubcast;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_request_buffering off;
            proxy_buffering off;
            proxy_read_timeout 300s;
            proxy_send_timeout 300s;
        }
    }
}
`;
}

// Start nginx in front of backends ("127.0.0.1:PORT" each). Returns
// { url, port, dir, log(), accessLog(), stop() }; each access log line is
// "METHOD URI STATUS UPSTREAM".
export async function startNginx(backends) {
  const dir = mkdtempSync(join(tmpdir(), 'hubcast-nginx-'));
  const port = await freePort();
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, d));
  writeFileSync(join(dir, 'nginx.conf'), nginxConfig({ port, backends, dir }));
  const p = spawn(NGINX, ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d) => { err += d; });
  const onExit = () => { try { p.kill('SIGKILL'); } catch { /* gone */ } };
  process.once('exit', onExit);
  const log = () => {
    try { return readFileSync(join(dir, 'error.log'), 'utf8'); } catch { return ''; }
  };
  const accessLog = () => {
    try { return readFileSync(join(dir, 'access.log'), 'utf8'); } catch { return ''; }
  };
  const stop = async () => {
    process.removeListener('exit', onExit);
    if (p.exitCode === null) {
      const gone = new Promise((r) => p.once('exit', r));
      p.kill('SIGQUIT');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
      if (p.exitCode === null) p.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (p.exitCode !== null) break;
    try {
      await fetch(`${url}/healthz`);
      return { url, port, dir, log, accessLog, stop };
    } catch { await new Promise((r) => setTimeout(r, 100)); }
  }
  const why = `${err}${log()}`;
  await stop();
  throw new Error(`nginx did not start: ${why}`);
}
