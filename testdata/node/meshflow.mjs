// meshflow.mjs drives a MESH server with NHS England's Node client
// (npm nhs-mesh-client 1.0.9, a client gpcm did not write), over TLS that
// verifies the server against the CA given, then checks a few routes with
// Node's own HTTP/2 client. It prints one JSON line: {"steps": [{"name",
// "ok", "detail"}], "passed", "failed"} and exits 0 only when every step
// passed. meshserver/nodeclient_test.go runs it.
//
// Environment: NODE_MODULES (the node_modules holding testdata/node's
// packages), MESH_URL, MESH_CA (PEM file), MESH_SHARED_KEY, MESH_SENDER,
// MESH_RECEIVER, MESH_PASSWORD (both mailboxes'), MESH_CHUNKED_BYTES
// (size of the chunked message, default 21 MiB).
//
// What the client does that this driver works around, here only, never in
// the server:
//   - readMessage returns axios's `data`, and axios JSON-parses any text
//     body it can, whatever its Content-Type (transitional
//     forcedJSONParsing): the client's own gzip send, whose payload is
//     JSON.stringify(message), would come back as the parsed string, not
//     the bytes sent. A request interceptor on the axios instance the
//     client uses asks for downloads as text (responseType "text"), which
//     turns the parsing off for them alone (inbox and other JSON answers
//     are still parsed, as the client expects).
//   - readMessage decodes every body as UTF-8 and joins chunks as strings,
//     so only text survives it byte for byte: the payloads here are ASCII.
//   - loadConfig's agents skip certificate checks (rejectUnauthorized:
//     false) even outside sandbox mode; the driver passes its own
//     https.Agent that trusts MESH_CA and verifies the server.
//   - The functions return the error instead of throwing, and call
//     process.exit(1) on an unexpected 2xx; every step checks what came back.
//   - The handshake is a GET (the specification's is a POST; the server
//     takes both, as the sandbox does). Its package.json is imported with
//     `assert {type: "json"}`, which Node 22 removed: Node 18 or 20 is needed.
import { readFileSync } from "node:fs";
import { Agent } from "node:https";
import http2 from "node:http2";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { randomBytes } from "node:crypto";

const env = (k, d) => {
  const v = process.env[k] ?? d;
  if (v === undefined) throw new Error(`${k} is not set`);
  return v;
};
const nm = env("NODE_MODULES");
const url = env("MESH_URL");
const ca = readFileSync(env("MESH_CA"));
const sharedKey = env("MESH_SHARED_KEY");
const sender = env("MESH_SENDER");
const receiver = env("MESH_RECEIVER");
const password = env("MESH_PASSWORD");
const chunkedBytes = Number(env("MESH_CHUNKED_BYTES", String(21 << 20)));

const load = (p) => import(pathToFileURL(join(nm, p)).href);
const mesh = await load("nhs-mesh-client/index.js");
const { default: generateHeaders } = await load("nhs-mesh-client/src/headers/generate_headers.js");
// The instance nhs-mesh-client imports ("axios" from its node_modules).
const { default: axios } = await load("axios/index.js");
axios.interceptors.request.use((config) => {
  if ((config.method ?? "get").toLowerCase() === "get" && /\/inbox\/[^/]+(\/\d+)?$/.test(new URL(config.url).pathname)) {
    config.responseType = "text";
  }
  return config;
});

const agent = new Agent({ ca, rejectUnauthorized: true });
const steps = [];
const step = (name, ok, detail = "") => {
  steps.push({ name, ok: Boolean(ok), detail: String(detail).slice(0, 500) });
  return ok;
};
const failure = (r) => (r instanceof Error ? `${r.message}${r.response ? ` (status ${r.response.status})` : ""}` : "");
const box = (id) => ({ url, mailboxID: id, mailboxPassword: password, sharedKey, agent });

// Text payloads (see above): printable ASCII, different every run.
const ascii = (n) => randomBytes(Math.ceil((n * 3) / 4)).toString("base64").slice(0, n);
const plain = `plain message ${ascii(40)}\n`;
const zipped = `gzip message ${ascii(40)}`;
const big = ascii(chunkedBytes);

async function flow() {
  for (const id of [sender, receiver]) {
    const r = await mesh.handShake(box(id));
    step(`handshake ${id}`, r?.status === 200, failure(r) || `status ${r?.status}`);
  }
  const sent = {};
  let r = await mesh.sendMessage({ ...box(sender), message: plain, mailboxTarget: receiver });
  if (step("plain send", r?.status === 202 && r.data?.message_id, failure(r) || JSON.stringify(r?.data))) {
    sent[r.data.message_id] = { name: "plain", body: plain };
  }
  r = await mesh.sendMessage({ ...box(sender), message: zipped, mailboxTarget: receiver, compressed: true });
  if (step("gzip send", r?.status === 202 && r.data?.message_id, failure(r) || JSON.stringify(r?.data))) {
    // The client gzips JSON.stringify(message).
    sent[r.data.message_id] = { name: "gzip", body: JSON.stringify(zipped) };
  }
  r = await mesh.sendChunkedMessage({ ...box(sender), mailboxTarget: receiver, fileContent: Buffer.from(big) });
  if (step(`chunked send of ${big.length} bytes`, r?.status === 202 && r.data?.message_id, failure(r) || JSON.stringify(r?.data))) {
    sent[r.data.message_id] = { name: "chunked", body: big };
  }

  r = await mesh.getMessageCount(box(receiver));
  const listed = r?.data?.messages ?? [];
  step("inbox lists every message sent", Object.keys(sent).every((id) => listed.includes(id)) && r.data.approx_inbox_count >= listed.length,
    failure(r) || `listed ${JSON.stringify(listed)}, sent ${JSON.stringify(Object.keys(sent))}`);

  for (const [id, m] of Object.entries(sent)) {
    r = await mesh.readMessage({ ...box(receiver), messageID: id });
    const got = r?.data;
    const same = typeof got === "string" && got === m.body;
    const chunkedOK = m.name !== "chunked" || r?.status === 206;
    step(`read ${m.name} message byte for byte`, !(r instanceof Error) && same && chunkedOK,
      failure(r) || `status ${r?.status}, ${typeof got} of ${got?.length} bytes, want ${m.body.length}${same ? "" : " (differs)"}`);
    r = await mesh.markAsRead({ ...box(receiver), message: id });
    step(`acknowledge ${m.name} message`, r?.status === 200, failure(r) || `status ${r?.status}`);
  }

  r = await mesh.getMessageCount(box(receiver));
  step("inbox empty after acknowledging", r?.status === 200 && r.data?.messages?.length === 0,
    failure(r) || JSON.stringify(r?.data));
}

// h2check requests a few routes with Node's HTTP/2 client (nghttp2): a
// repeated content-length is a stream error there, and every answer must
// be the status named with each header once.
async function h2check() {
  const session = http2.connect(url, { ca });
  session.on("error", () => {});
  const request = (method, path, headers, body) =>
    new Promise((resolve) => {
      const s = session.request({ ":method": method, ":path": path, ...headers });
      let status = 0, hdrs = {}, raw = [];
      const chunks = [];
      s.on("response", (h, _flags, rawHeaders) => {
        status = h[":status"];
        hdrs = h;
        raw = rawHeaders ?? [];
      });
      s.on("data", (c) => chunks.push(c));
      s.on("end", () => resolve({ status, headers: hdrs, raw, body: Buffer.concat(chunks) }));
      s.on("error", (e) => resolve({ error: e }));
      s.end(body);
    });
  const auth = async (id) => {
    const h = await generateHeaders({ mailboxID: id, mailboxPassword: password, sharedKey });
    return h;
  };
  const unknown = "20260101000000000000_ABCDEF";
  const cases = [
    ["POST", `/messageexchange/${receiver}`, await auth(receiver), undefined, 200],
    ["GET", `/messageexchange/${receiver}/inbox`, await auth(receiver), undefined, 200],
    ["GET", `/messageexchange/${receiver}/count`, await auth(receiver), undefined, 200],
    ["POST", `/messageexchange/${sender}/outbox`, { ...(await auth(sender)), "mex-to": receiver, "mex-workflowid": "API-DOCS-TEST", "content-type": "application/octet-stream" }, "h2 message", 202],
    ["POST", `/messageexchange/${sender}/outbox`, { ...(await auth(sender)), "mex-to": "NOBODY1", "mex-workflowid": "API-DOCS-TEST" }, "x", 417],
    ["GET", `/messageexchange/${receiver}/inbox/${unknown}`, await auth(receiver), undefined, 404],
    ["PUT", `/messageexchange/${receiver}/inbox/${unknown}/status/acknowledged`, await auth(receiver), "{}", 404],
    ["GET", `/messageexchange/${receiver}/inbox`, { ...(await auth(receiver)), authorization: "NHSMESH bad" }, undefined, 403],
    ["GET", `/messageexchange/${receiver}/inbox?max_results=1`, await auth(receiver), undefined, 400],
  ];
  for (const [method, path, headers, body, want] of cases) {
    const r = await request(method, path, headers, body);
    const name = `HTTP/2 ${method} ${path.replace(/\/[0-9]{20}_[0-9A-F]{6}/, "/ID")} → ${want}`;
    if (r.error) {
      step(name, false, r.error.message);
      continue;
    }
    const names = [];
    for (let i = 0; i < r.raw.length; i += 2) names.push(String(r.raw[i]).toLowerCase());
    const dup = names.filter((n, i) => names.indexOf(n) !== i);
    const arrays = Object.entries(r.headers).filter(([, v]) => Array.isArray(v)).map(([k]) => k);
    step(name, r.status === want && dup.length === 0 && arrays.length === 0,
      `status ${r.status}, repeated ${JSON.stringify([...dup, ...arrays])}, body ${r.body.toString().slice(0, 120)}`);
  }
  // Leave the inbox as found: acknowledge what the HTTP/2 send put there.
  const inbox = await request("GET", `/messageexchange/${receiver}/inbox`, await auth(receiver));
  for (const id of JSON.parse(inbox.body.toString() || "{}").messages ?? []) {
    await request("PUT", `/messageexchange/${receiver}/inbox/${id}/status/acknowledged`, await auth(receiver));
  }
  session.close();
}

try {
  await flow();
  await h2check();
} catch (e) {
  step("driver", false, e.stack ?? e);
}
const failed = steps.filter((s) => !s.ok).length;
process.stdout.write(JSON.stringify({ steps, passed: steps.length - failed, failed }) + "\n");
process.exit(failed === 0 && steps.length > 0 ? 0 : 1);
