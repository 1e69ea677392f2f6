// The spawner: a small plain-node process the local runtime starts once and asks, over its IPC channel, to start
// job attempts. Forking copies the page tables of the process that spawns, so the cost of a spawn follows that
// process's memory: this one stays small (node built-ins only), whatever the service holds.
//
// Asked { op: 'spawn', id, dir, payload, log, command, args, cwd, env }: creates the job's folder, writes its
// payload file, opens the attempt's log, and starts the command without a shell as the leader of a new process
// group (and session), stdout and stderr to the log. Answers { op: 'spawned', id, pid }, then
// { op: 'exit', id, code, signal, logBytes } once the leader has ended (and what it left in its group was killed), or
// { op: 'error', id, message } when it could not be started. Exits when its channel closes (the service ended).
//
// At most `argv[2]` attempts run at once (0: no cap). A request beyond them waits here, in the order it came, and
// starts the moment one ends, without a round trip to the service. Asked { op: 'withdraw', id } for a request that
// still waits, it drops it and answers { op: 'withdrawn', id }; for one that has started it does nothing (the
// service signals the process group).
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

function send(message) {
  // A write to a channel whose other end died fails later (EPIPE): the service is gone, and so is this process's work.
  if (process.connected) process.send(message, undefined, {}, (error) => error && process.exit(0));
}

function killGroup(pid) {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // The group is empty already.
  }
}

function sizeOf(file) {
  try {
    return statSync(file).size;
  } catch {
    return null;
  }
}

const cap = Number(process.argv[2] ?? 0) || Infinity;
const waiting = new Map();
let running = 0;

function startWaiting() {
  for (const [id, request] of waiting) {
    if (running >= cap) return;
    waiting.delete(id);
    start(request);
  }
}

function start(request) {
  const { id } = request;
  running++;
  // 'exit' may or may not follow an 'error': the slot is freed once.
  let over = false;
  const ended = () => {
    if (over) return;
    over = true;
    running--;
    // In the next turn: a withdrawal already received (a stop, a delete or the shutdown, sent with the signal that
    // ended this process) is read first, in this turn, so a freed slot never starts a start taken back.
    setImmediate(startWaiting);
  };
  let log;
  let child;
  try {
    mkdirSync(request.dir, { recursive: true, mode: 0o700 });
    writeFileSync(path.join(request.dir, 'payload'), request.payload, { mode: 0o600 });
    log = openSync(request.log, 'a', 0o600);
    child = spawn(request.command, request.args, { cwd: request.cwd, env: request.env, detached: true, stdio: ['ignore', log, log] });
  } catch (error) {
    send({ op: 'error', id, message: error.message });
    ended();
    return;
  } finally {
    if (log !== undefined) closeSync(log);
  }
  child.once('spawn', () => send({ op: 'spawned', id, pid: child.pid }));
  child.once('error', (error) => {
    if (child.pid !== undefined) return;
    send({ op: 'error', id, message: error.message });
    ended();
  });
  child.once('exit', (code, signal) => {
    // The leader is gone; end whatever it left in its group, as a container's end would.
    killGroup(child.pid);
    // Its size, so that the service reads a log only when it is over the cap.
    send({ op: 'exit', id, code, signal, logBytes: sizeOf(request.log) });
    // The next waiting attempt starts now: the service is not in the chain.
    ended();
  });
}

process.on('message', (request) => {
  if (request?.op === 'spawn') {
    waiting.set(request.id, request);
    startWaiting();
  } else if (request?.op === 'withdraw' && waiting.delete(request.id)) {
    send({ op: 'withdrawn', id: request.id });
  }
});
process.once('disconnect', () => process.exit(0));
// A terminal's Ctrl-C or hang-up reaches the whole process group: the service decides what its jobs get, and this
// process ends with the service's channel. (Job processes start with default signal handling: libuv resets it.)
for (const signal of ['SIGINT', 'SIGHUP']) process.on(signal, () => {});
