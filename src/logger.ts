import winston from 'winston';
import type TransportStream from 'winston-transport';
import type { LogLevel } from './config.js';
import { requestContext } from './request-context.js';

const LEVEL = Symbol.for('level');
const MESSAGE = Symbol.for('message');
const json = winston.format.json();
// winston's base class for transports: typed as `winston.transport`, exported at run time as `Transport`.
const TransportBase = (winston as unknown as { Transport: typeof TransportStream }).Transport;

/**
 * One pass per line: the request id, the time, an error's message and stack, and the JSON text. It replaces
 * four chained formats (and safe-stable-stringify, kept only for what JSON.stringify refuses, such as a cycle):
 * every access line goes through it, so it is on the path of every request.
 */
export const jsonLine = winston.format((given) => {
  // An error logged as itself keeps its message and stack in properties that a spread does not copy.
  const info = given instanceof Error ? Object.assign({}, given, { level: given.level, [LEVEL]: given[LEVEL], message: given.message, stack: given.stack }) : given;
  const context = requestContext.getStore();
  if (context && info.requestId === undefined) info.requestId = context.requestId;
  if (info.message instanceof Error) {
    info.stack = info.message.stack;
    info.message = info.message.message;
  }
  info.timestamp = new Date().toISOString();
  const { [LEVEL]: _level, [MESSAGE]: _message, ...fields } = info as Record<string | symbol, unknown>;
  try {
    info[MESSAGE] = JSON.stringify(fields);
  } catch {
    return json.transform(info, {});
  }
  return info;
});

/**
 * Writes the lines of one turn of the event loop in one write: an access line per request would
 * otherwise cost a system call each. Lines are written in order; what is pending is written at the
 * next turn and, synchronously, when the process exits.
 */
export class BatchedLines extends TransportBase {
  private pending: string[] = [];
  private scheduled = false;
  private readonly flushNow = () => this.flush();

  constructor(private readonly sink: NodeJS.WritableStream) {
    super();
    process.on('exit', this.flushNow);
  }

  override log(info: Record<symbol, string>, done: () => void): void {
    this.pending.push(info[MESSAGE]!);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushNow);
    }
    done();
  }

  /** Writes what is pending now. */
  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const text = `${this.pending.join('\n')}\n`;
    this.pending = [];
    this.sink.write(text);
  }

  override close(): void {
    this.flush();
    process.off('exit', this.flushNow);
  }
}

export type Logger = winston.Logger;

export interface LoggerOptions {
  level: LogLevel;
  /** Where lines go, one write per line; standard output (lines of one turn written together) unless a test collects them. */
  stream?: NodeJS.WritableStream;
}

/** JSON lines to standard output. Messages are constant; data goes in fields. Never log payloads or secrets. */
export function createLogger(options: LoggerOptions): Logger {
  if (!options.stream) return batchedLogger(options.level, process.stdout);
  return winston.createLogger({
    level: options.level,
    format: jsonLine(),
    defaultMeta: { service: 'job-scheduler' },
    transports: [new winston.transports.Stream({ stream: options.stream })],
  });
}

/**
 * The logger `createLogger` makes for standard output: JSON lines into `sink`, those of one turn in one write.
 * A line goes from the call straight to the transport: winston would pass each through two object-mode streams
 * (the logger's and the transport's, a tenth of a request's logging cost), and format a line below the level before
 * dropping it. The line is the same; the level is checked first, against the transport's or the logger's now.
 */
export function batchedLogger(level: LogLevel, sink: NodeJS.WritableStream): Logger {
  const transport = new BatchedLines(sink);
  const logger = winston.createLogger({ level, format: jsonLine(), defaultMeta: { service: 'job-scheduler' }, transports: [transport] });
  const done = () => {};
  logger.write = ((info: winston.LogEntry & Record<symbol, string>) => {
    if (logger.silent || transport.silent || (info.exception === true && !transport.handleExceptions)) return true;
    const levels = logger.levels;
    const given = info[LEVEL] ?? info.level;
    const threshold = transport.level ?? logger.level;
    // As winston's transport: a line of a level it does not know is dropped.
    if (!(levels[threshold]! >= levels[given]!)) return true;
    const line = logger.format.transform(info, logger.format.options) as Record<symbol, string> | false;
    if (line) transport.log(line, done);
    return true;
  }) as typeof logger.write;
  return logger;
}

/** A logger that drops everything, for tests that do not read logs. */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}
