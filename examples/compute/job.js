// The example job: reads its payload, prints it, and exits with the code the payload asks for.
// Payload: JSON such as {"exitCode": 1, "sleepSeconds": 2}; anything else just succeeds.
import { readFileSync } from 'node:fs';
import path from 'node:path';

const payload = readFileSync(path.join(process.env.PAYLOAD_PATH ?? '.', 'payload'), 'utf8');
console.log(`${process.env.GREETING ?? 'hi'} from ${process.env.JOB_NAME} (jobId: ${process.env.JOB_ID ?? 'none'})`);
console.log(`payload: ${payload}`);

let request = {};
try {
  request = JSON.parse(payload);
} catch {
  // Not JSON: nothing to ask for.
}
const exitCode = Number.isInteger(request.exitCode) ? request.exitCode : 0;
const sleepSeconds = Number(request.sleepSeconds) || 0;
setTimeout(() => {
  console.log(`exiting with ${exitCode}`);
  process.exit(exitCode);
}, sleepSeconds * 1000);
