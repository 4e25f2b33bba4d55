// api.mjs - one request to the API as a script makes it: signed in with an
// API token (Authorization: Bearer), the answer read whole and its JSON
// parsed when it is JSON.

// METHOD path on srv (anything with a url: a server, a load balancer in
// front of several) with token. A body that is a Buffer or a string goes
// as it is; any other body goes as JSON (content-type application/json);
// undefined sends none. headers are added to (or override) those. Returns
// { status, headers, text, data }, data null when the answer is not JSON.
export async function api(srv, method, path, token, body, headers = {}) {
  const json = body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body);
  const r = await fetch(srv.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(json ? { 'content-type': 'application/json' } : {}), ...headers },
    body: json ? JSON.stringify(body) : body,
  });
  const text = await r.text();
  let data = null;
  try { data = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, headers: r.headers, text, data };
}
