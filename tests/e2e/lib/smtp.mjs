// smtp.mjs - a real SMTP server for tests (npm smtp-server on a free
// loopback port, with AUTH) that keeps every message it acknowledged, and a
// small MIME parser to read them: headers, RFC 2047 words, multipart,
// quoted-printable and base64 parts, links.
import { SMTPServer } from 'smtp-server';
import { freePort } from './server.mjs';

export const SMTP_USER = 'hubcast';
export const SMTP_PASS = 's3cret-pass';
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- a real SMTP server that keeps what it accepted ----

// Start (or restart, on the same port) an SMTP server that requires AUTH and
// records each message it acknowledged with 250. A message whose client went
// away before the 250 is not counted: the sender cannot know it arrived.
export async function startSmtp(port) {
  const box = { port: port ?? await freePort(), messages: [], delay: 0, server: null };
  box.start = async () => {
    const closed = new Set();
    box.server = new SMTPServer({
      authOptional: false,
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onAuth(auth, session, cb) {
        if (auth.username === SMTP_USER && auth.password === SMTP_PASS) return cb(null, { user: 1 });
        return cb(new Error('bad credentials'));
      },
      onClose(session) { closed.add(session.id); },
      onData(stream, session, cb) {
        const chunks = [];
        stream.on('data', (c) => chunks.push(c));
        stream.on('end', () => {
          const finish = () => {
            if (closed.has(session.id)) return cb(new Error('client gone'));
            const raw = Buffer.concat(chunks).toString('latin1');
            box.messages.push({
              raw,
              mailFrom: session.envelope.mailFrom.address,
              rcptTo: session.envelope.rcptTo.map((r) => r.address),
              ...parseMessage(raw),
            });
            return cb();
          };
          if (box.delay) setTimeout(finish, box.delay); else finish();
        });
      },
    });
    box.server.on('error', () => {});
    await new Promise((resolve) => box.server.listen(box.port, '127.0.0.1', resolve));
  };
  box.stop = () => new Promise((resolve) => box.server.close(resolve));
  box.url = `smtp://${SMTP_USER}:${SMTP_PASS}@127.0.0.1:${box.port}`;
  box.waitFor = async (pred, { count = 1, timeout = 15000 } = {}) => {
    const deadline = Date.now() + timeout;
    for (;;) {
      const found = box.messages.filter(pred);
      if (found.length >= count) return found;
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${count} message(s); have:\n` +
          box.messages.map((m) => `  ${m.rcptTo} | ${m.subject}`).join('\n'));
      }
      await sleep(50);
    }
  };
  await box.start();
  return box;
}

// ---- a small MIME parser (RFC 5322 headers, RFC 2047 words, multipart, QP/base64) ----

export function decodeWords(s) {
  return s.replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=(\s+(?==\?))?/g, (_, cs, enc, text) => {
    const bytes = enc.toUpperCase() === 'B'
      ? Buffer.from(text, 'base64')
      : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g,
        (m, h) => String.fromCharCode(parseInt(h, 16))), 'latin1');
    return bytes.toString(/utf-?8/i.test(cs) ? 'utf8' : 'latin1');
  });
}

export function parseHeaders(block) {
  const headers = [];
  for (const line of block.split(/\r\n/)) {
    if (/^[ \t]/.test(line) && headers.length) headers[headers.length - 1][1] += line;
    else if (line) {
      const i = line.indexOf(':');
      headers.push([line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim()]);
    }
  }
  return headers;
}

export function decodeBody(body, cte) {
  if (/quoted-printable/i.test(cte ?? '')) {
    const bin = body.replace(/=\r\n/g, '').replace(/=([0-9A-Fa-f]{2})/g,
      (m, h) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(bin, 'latin1').toString('utf8');
  }
  if (/base64/i.test(cte ?? '')) return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return Buffer.from(body, 'latin1').toString('utf8');
}

// { headers: [[name, raw value]], header(name), subject, text, html, types }
export function parseMessage(raw) {
  const split = raw.indexOf('\r\n\r\n');
  const headers = parseHeaders(raw.slice(0, split));
  const get = (hs, n) => hs.find(([k]) => k === n)?.[1];
  const out = { headers, header: (n) => get(headers, n.toLowerCase()), types: [] };
  out.subject = decodeWords(get(headers, 'subject') ?? '');
  const walk = (hs, body) => {
    const ct = get(hs, 'content-type') ?? 'text/plain';
    out.types.push(ct.split(';')[0].trim().toLowerCase());
    const b = ct.match(/boundary="?([^";]+)"?/i);
    if (/^multipart\//i.test(ct) && b) {
      const parts = body.split(`--${b[1]}`).slice(1);
      for (const p of parts) {
        if (p.startsWith('--')) break;
        const s = p.indexOf('\r\n\r\n');
        walk(parseHeaders(p.slice(2, s)), p.slice(s + 4).replace(/\r\n$/, ''));
      }
    } else if (/^text\/plain/i.test(ct)) out.text = decodeBody(body, get(hs, 'content-transfer-encoding'));
    else if (/^text\/html/i.test(ct)) out.html = decodeBody(body, get(hs, 'content-transfer-encoding'));
  };
  walk(headers, raw.slice(split + 4));
  return out;
}

// Links of a message, rewritten to the server we can reach.
export function links(text) {
  return [...text.matchAll(/https?:\/\/[^\s"<>]+/g)].map((m) => m[0].replace(/&amp;/g, '&'));
}
export function local(srv, link) {
  const u = new URL(link);
  return srv.url + u.pathname + u.search;
}
