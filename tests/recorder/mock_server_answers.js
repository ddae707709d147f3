#!/usr/bin/env node
// The test server (fixtures/server/server.js --answers SET, no other option) answers
// every recorded request of a set of fixtures with the body it answered when they were
// recorded, so that a re-recording reproduces the goldens. Reads `aa-session http
// --json` lines on stdin (one session each: NAME\tJSON), sends each request again to
// the server on H1PORT or H2PORT (HTTP/2 exchanges), decodes br/gzip/zstd bodies,
// compares; WebSocket upgrades are left out (their messages are not HTTP bodies). A
// stream the server cuts on purpose (x-fixture-cut) must be cut again, after the body
// that was recorded. usage: mock_server_answers.js H1PORT H2PORT
'use strict';
const https = require('https');
const http2 = require('http2');
const zlib = require('zlib');
const {execFileSync} = require('child_process');
const readline = require('readline');

const [h1, h2] = process.argv.slice(2).map(Number);
const decode = (coding, buf) =>
  coding === 'br' ? zlib.brotliDecompressSync(buf) : coding === 'gzip' ? zlib.gunzipSync(buf) :
  coding === 'zstd' ? execFileSync('zstd', ['-q', '-d', '-c'], {input: buf}) : buf;

// only the headers that steer the mock's answer are sent again
function steering(headers) {
  const out = {'content-type': 'application/json'};
  for (const [k, v] of headers) if (/^x-fixture-/i.test(k)) out[k.toLowerCase()] = v;
  return out;
}

function viaH1(req) {
  return new Promise((resolve, reject) => {
    const r = https.request({host: '127.0.0.1', port: h1, method: req.method, path: req.target,
                             headers: steering(req.headers), rejectUnauthorized: false}, (res) => {
      const parts = [];
      res.on('data', (d) => parts.push(d));
      const done = (cut) => resolve({status: res.statusCode, coding: res.headers['content-encoding'] || '',
                                     body: Buffer.concat(parts), cut});
      res.on('end', () => done(false));
      res.on('aborted', () => done(true));
      res.on('error', () => done(true));
    });
    r.on('error', reject);
    r.end(req.body || '');
  });
}

function viaH2(req) {
  return new Promise((resolve, reject) => {
    const s = http2.connect(`https://127.0.0.1:${h2}`, {rejectUnauthorized: false});
    s.on('error', reject);
    const st = s.request({':method': req.method, ':path': req.target, ...steering(req.headers)});
    const parts = [];
    let head = {};
    st.on('response', (h) => { head = h; });
    st.on('data', (d) => parts.push(d));
    const done = (cut) => {
      s.close();
      resolve({status: head[':status'], coding: head['content-encoding'] || '', body: Buffer.concat(parts), cut});
    };
    st.on('end', () => done(false));
    st.on('aborted', () => done(true));
    st.end(req.body || '');
  });
}

async function main() {
  let checked = 0, failed = 0;
  const rl = readline.createInterface({input: process.stdin});
  for await (const line of rl) {
    const tab = line.indexOf('\t');
    const name = line.slice(0, tab);
    const x = JSON.parse(line.slice(tab + 1));
    if (x.status === 101 || !x.request || !x.response) continue;
    const req = x.request;
    if (req.body_b64) req.body = Buffer.from(req.body_b64, 'base64');
    const got = await (x.protocol === 'h2' ? viaH2 : viaH1)(req);
    const want = x.response.body_b64 ? Buffer.from(x.response.body_b64, 'base64') : Buffer.from(x.response.body || '');
    const cut = !!(req.headers || []).find(([k]) => /^x-fixture-cut$/i.test(k));
    // a cut stream's recorded body is what arrived before the cut (a partial chunk is not body)
    const body = cut ? got.body.subarray(0, want.length) : decode(got.coding, got.body);
    ++checked;
    if (got.status !== x.status || !body.equals(want) || got.cut !== cut) {
      ++failed;
      console.log(`FAIL: ${name} #${x.index} ${req.method} ${req.target}: status ${got.status} (recorded ${x.status}), ` +
                  `${body.length} bytes (recorded ${want.length})${got.cut !== cut ? (cut ? ', not cut' : ', cut') : ''}`);
    }
  }
  console.log(`${checked} recorded requests answered again, ${failed} differ`);
  process.exit(failed || !checked ? 1 : 0);
}
main().catch((e) => { console.error(e.stack); process.exit(1); });
