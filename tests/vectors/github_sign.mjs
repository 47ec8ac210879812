// GitHub signatures made by GitHub's own library, @octokit/webhooks-methods (for signer.py).
//
// stdin:  [{"secret": "...", "payload": "..."}, ...]
// stdout: [{"signature": "sha256=<hex>", "verified": true}, ...]   (`verified`: the library's own check)
import { sign, verify } from "@octokit/webhooks-methods";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const requests = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const answers = [];
for (const { secret, payload } of requests) {
  const signature = await sign(secret, payload);
  answers.push({ signature, verified: await verify(secret, payload, signature) });
}
process.stdout.write(JSON.stringify(answers));
