// Drives one real Cognito client through the steps the Go integration test
// (integration/clients_test.go) asks for, one JSON object per line:
//
//   node driver.mjs amplify        (or identity-js, sdk-v3, fetch)
//   stdin:  {"op": "signIn", "username": "...", "answer": "..."}
//   stdout: {"ok": true, "signedIn": true, "tokens": {...}}
//           {"ok": false, "error": {"name": "NotAuthorizedException", "message": "..."}}
//
// MAGICLINKS_URL is the local stack; each client reads /config.json as an
// app would. The first line written names the client and its version.
import { createInterface } from 'node:readline';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

const name = process.argv[2];
const client = await import(`./${name}.mjs`);
const cfg = await (await fetch(new URL('/config.json', process.env.MAGICLINKS_URL))).json();
const ops = await client.create(cfg);

// The version actually installed, from the package's own package.json.
let version = process.versions.node;
if (client.packageName !== 'node') {
  const pkgJSON = createRequire(import.meta.url).resolve(`${client.packageName}/package.json`);
  ({ version } = JSON.parse(await readFile(pkgJSON, 'utf8')));
}
process.stdout.write(JSON.stringify({ ok: true, client: client.packageName, version }) + '\n');

for await (const line of createInterface({ input: process.stdin })) {
  const { op, ...args } = JSON.parse(line);
  let reply;
  try {
    if (typeof ops[op] !== 'function') throw new Error(`${name} has no op ${op}`);
    reply = { ok: true, ...(await ops[op](args)) };
  } catch (err) {
    // amazon-cognito-identity-js names the error in code, the others in name.
    reply = { ok: false, error: { name: err.code ?? err.name, message: err.message } };
  }
  process.stdout.write(JSON.stringify(reply) + '\n');
}
