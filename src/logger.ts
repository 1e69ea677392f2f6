import winston from 'winston';
import type { LogLevel } from './config.js';
import { requestContext } from './request-context.js';

/** Adds the id of the request being served, if any, to every line. */
const withRequestId = winston.format((info) => {
  const context = requestContext.getStore();
  if (context && info.requestId === undefined) info.requestId = context.requestId;
  return info;
});

export type Logger = winston.Logger;

export interface LoggerOptions {
  level: LogLevel;
  /** Where lines go; standard output unless a test collects them. */
  stream?: NodeJS.WritableStream;
}

/** JSON lines to standard output. Messages are constant; data goes in fields. Never log payloads or secrets. */
export function createLogger(options: LoggerOptions): Logger {
  const transport = options.stream
    ? new winston.transports.Stream({ stream: options.stream })
    : new winston.transports.Console();
  return winston.createLogger({
    level: options.level,
    format: winston.format.combine(withRequestId(), winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json()),
    defaultMeta: { service: 'job-scheduler' },
    transports: [transport],
  });
}

/** A logger that drops everything, for tests that do not read logs. */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}
