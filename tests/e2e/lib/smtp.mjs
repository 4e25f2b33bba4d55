// smtp.mjs - a real SMTP server for tests (npm smtp-server on a free
// loopback port, no AUTH) that keeps every message it accepted, parsed:
// headers, RFC 2047 subject, text and HTML parts (quoted-printable or
// base64). For tests that check what people receive.
import { SMTPServer } from 'smtp-server';
import { freePort } from './server.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function decodeWords(s) {
  return s.replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=(\s+(?==\?))?/g, (_, cs, enc, text) => {
    const bytes = enc.toUpperCase() === 'B'
      ? Buffer.from(text, 'base64')
      : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g,
        (m, h) => String.fromCharCode(parseInt(h, 16))), 'latin1');
    return bytes.toString(/utf-?8/i.test(cs) ? 'utf8' : 'latin1');
  });
}

function parseHeaders(block) {
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

function decodeBody(body, cte) {
  if (/quoted-printable/i.test(cte ?? '')) {
    const bin = body.replace(/=\r\n/g, '').replace(/=([0-9A-Fa-f]{2})/g,
      (m, h) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(bin, 'latin1').toString('utf8');
  }
  if (/base64/i.test(cte ?? '')) return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return Buffer.from(body, 'latin1').toString('utf8');
}

// { headers: [[name, raw value]], header(name), subject, text, html }
export function parseMessage(raw) {
  const split = raw.indexOf('\r\n\r\n');
  const headers = parseHeaders(raw.slice(0, split));
  const get = (hs, n) => hs.find(([k]) => k === n)?.[1];
  const out = { headers, header: (n) => get(headers, n.toLowerCase()) };
  out.subject = decodeWords(get(headers, 'subject') ?? '');
  const walk = (hs, body) => {
    const ct = get(hs, 'content-type') ?? 'text/plain';
    const b = ct.match(/boundary="?([^";]+)"?/i);
    if (/^multipart\//i.test(ct) && b) {
      for (const p of body.split(`--${b[1]}`).slice(1)) {
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

export async function startSmtp() {
  const box = { port: await freePort(), messages: [] };
  box.server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, cb) {
      const chunks = [];
      stream.on('data', (c) => chunks.push(c));
      stream.on('end', () => {
        box.messages.push({
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          ...parseMessage(Buffer.concat(chunks).toString('latin1')),
        });
        cb();
      });
    },
  });
  box.server.on('error', () => {});
  await new Promise((resolve) => box.server.listen(box.port, '127.0.0.1', resolve));
  box.url = `smtp://127.0.0.1:${box.port}`;
  box.stop = () => new Promise((resolve) => box.server.close(resolve));
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
  return box;
}
