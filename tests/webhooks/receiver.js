// A loopback webhook receiver for Platform's tests and benchmark. Every request to /hooks/<name> is verified with the Standard Webhooks
// reference library (Webhook.verify) against each secret configured for that path, and recorded. A control endpoint tells a path to
// fail its next N requests, hang on them, answer them with a redirect, or answer slowly.
//   node receiver.js            prints "listening <port>" once it listens on 127.0.0.1 (an ephemeral port)
//   POST /control {"path":"a","secrets":["whsec_..."],"fail":2,"fail_status":500,"hang":1,"redirect":1,"delay_ms":0,"record_bodies":true}
//   GET  /received?path=a       the requests the path got, in arrival order
//   GET  /stats                 {"total":n,"max_in_flight_per_id":n,"overlaps":n,"max_in_flight":n,"max_in_flight_by_path":{"a":n}}
'use strict';
const http = require('node:http');
const { Webhook } = require('standardwebhooks');

const paths = new Map();
const inFlight = new Map();
let total = 0;
let maxInFlightPerId = 0;
let overlaps = 0;
let flyingAll = 0;
let maxFlyingAll = 0;

function state(name) {
  let s = paths.get(name);
  if (!s) {
    s = { secrets: [], fail: 0, failStatus: 500, hang: 0, redirect: 0, delayMs: 0, recordBodies: true, received: [], flying: 0, maxFlying: 0 };
    paths.set(name, s);
  }
  return s;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function json(res, status, value) {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  try {
    if (req.method === 'POST' && url.pathname === '/control') {
      const c = JSON.parse((await readBody(req)).toString('utf8'));
      if (c.reset) {
        paths.clear();
      }
      if (c.path) {
        const s = state(c.path);
        if (c.secrets) s.secrets = c.secrets;
        if (c.fail !== undefined) s.fail = c.fail;
        if (c.fail_status !== undefined) s.failStatus = c.fail_status;
        if (c.hang !== undefined) s.hang = c.hang;
        if (c.redirect !== undefined) s.redirect = c.redirect;
        if (c.delay_ms !== undefined) s.delayMs = c.delay_ms;
        if (c.record_bodies !== undefined) s.recordBodies = c.record_bodies;
      }
      return json(res, 200, { ok: true });
    }
    if (req.method === 'GET' && url.pathname === '/received') {
      return json(res, 200, state(url.searchParams.get('path') || '').received);
    }
    if (req.method === 'GET' && url.pathname === '/stats') {
      const byPath = {};
      for (const [name, s] of paths) byPath[name] = s.maxFlying;
      return json(res, 200, { total, max_in_flight_per_id: maxInFlightPerId, overlaps, max_in_flight: maxFlyingAll, max_in_flight_by_path: byPath });
    }
    if (req.method === 'POST' && url.pathname.startsWith('/hooks/')) {
      const name = url.pathname.substring('/hooks/'.length);
      const s = state(name);
      const id = req.headers['webhook-id'] || '';
      const key = name + ' ' + id; // one message goes to several endpoints under one id: in flight is per endpoint
      const now = Date.now();
      const flying = (inFlight.get(key) || 0) + 1;
      inFlight.set(key, flying);
      if (flying > 1) overlaps++;
      if (flying > maxInFlightPerId) maxInFlightPerId = flying;
      s.flying++;
      if (s.flying > s.maxFlying) s.maxFlying = s.flying;
      flyingAll++;
      if (flyingAll > maxFlyingAll) maxFlyingAll = flyingAll;
      let done = false;
      const finish = () => {
        if (!done) {
          done = true;
          s.flying--;
          flyingAll--;
          const left = inFlight.get(key) - 1;
          if (left === 0) inFlight.delete(key); else inFlight.set(key, left);
        }
      };
      res.on('close', finish);
      const body = await readBody(req);
      const verified = s.secrets.map((secret) => {
        try {
          new Webhook(secret).verify(body, req.headers);
          return true;
        } catch {
          return false;
        }
      });
      let outcome = 'ok';
      if (s.hang > 0) { s.hang--; outcome = 'hang'; }
      else if (s.redirect > 0) { s.redirect--; outcome = 'redirect'; }
      else if (s.fail > 0) { s.fail--; outcome = 'fail'; }
      total++;
      s.received.push({
        id, at: now, timestamp: req.headers['webhook-timestamp'] || null, signature: req.headers['webhook-signature'] || null,
        user_agent: req.headers['user-agent'] || null, content_type: req.headers['content-type'] || null,
        custom: req.headers['x-custom'] || null, verified, outcome, overlapped: flying > 1,
        body: s.recordBodies ? body.toString('utf8') : null,
      });
      if (outcome === 'hang') {
        return; // never answers; the client's timeout ends it
      }
      if (s.delayMs > 0) await new Promise((r) => setTimeout(r, s.delayMs));
      finish();
      if (outcome === 'redirect') {
        res.writeHead(302, { location: `http://127.0.0.1:${server.address().port}/hooks/${name}-redirected`, 'content-length': 0 });
        return res.end();
      }
      if (outcome === 'fail') {
        res.writeHead(s.failStatus, { 'content-type': 'text/plain' });
        return res.end('receiver told to fail');
      }
      res.writeHead(204);
      return res.end();
    }
    json(res, 404, { error: 'not found' });
  } catch (e) {
    json(res, 500, { error: String(e) });
  }
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
