// A webhook receiver for Lifeboat's tests, on a free loopback port. Every request is verified with the Standard
// Webhooks reference library (npm `standardwebhooks`), never with Lifeboat's own code, and printed as one JSON line:
// {"path", "webhookId", "timestamp", "verified", "error", "status", "body"}. It answers the statuses of --statuses
// in turn (then 200), with Retry-After when --retry-after is set. POST /_control {"secret", "statuses",
// "retryAfter"} changes them while it runs (a secret rotation on the receiver's side).
// Usage: node webhook-receiver.js [--secret whsec_...] [--statuses 500,500] [--retry-after SECONDS]
'use strict';
const http = require('http');
const { Webhook } = require('standardwebhooks');

function arg(name) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

let secret = arg('--secret');
let statuses = (arg('--statuses') || '').split(',').filter(Boolean).map(Number);
let retryAfter = arg('--retry-after');

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    if (req.url === '/_control') {
      const c = JSON.parse(body);
      if (c.secret !== undefined) secret = c.secret;
      if (c.statuses !== undefined) statuses = c.statuses;
      if (c.retryAfter !== undefined) retryAfter = c.retryAfter === null ? undefined : String(c.retryAfter);
      res.writeHead(204);
      res.end();
      return;
    }
    let verified = false;
    let error = null;
    if (secret) {
      try {
        new Webhook(secret).verify(body, req.headers);
        verified = true;
      } catch (e) {
        error = e.message;
      }
    }
    const status = statuses.length > 0 ? statuses.shift() : 200;
    process.stdout.write(JSON.stringify({
      path: req.url, webhookId: req.headers['webhook-id'] || null, timestamp: req.headers['webhook-timestamp'] || null,
      signature: req.headers['webhook-signature'] || null, contentType: req.headers['content-type'] || null,
      verified, error, status, body,
    }) + '\n');
    const headers = { 'Content-Type': 'text/plain' };
    if (retryAfter !== undefined && status !== 200) headers['Retry-After'] = retryAfter;
    res.writeHead(status, headers);
    res.end(status === 200 ? 'ok' : 'receiver says ' + status);
  });
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write('webhook receiver listening on 127.0.0.1:' + server.address().port + '\n');
});
