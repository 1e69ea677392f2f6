import type { ServerResponse } from 'node:http';
import type { Cause, ResourceInfo } from './resources.js';

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'AlreadyExists',
  410: 'Expired',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
};

export function statusBody(code: number, message: string, extra: { reason?: string; details?: Record<string, unknown> } = {}) {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: code < 400 ? 'Success' : 'Failure',
    message,
    reason: extra.reason ?? REASONS[code] ?? 'Unknown',
    ...(extra.details ? { details: extra.details } : {}),
    code,
  };
}

export function send(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendStatus(res: ServerResponse, code: number, message: string, extra: { reason?: string; details?: Record<string, unknown> } = {}, headers: Record<string, string> = {}): void {
  send(res, code, statusBody(code, message, extra), headers);
}

function qualified(info: ResourceInfo): string {
  return info.group ? `${info.resource}.${info.group}` : info.resource;
}

export function notFound(res: ServerResponse, info: ResourceInfo, name: string): void {
  sendStatus(res, 404, `${qualified(info)} "${name}" not found`, { details: { name, group: info.group || undefined, kind: info.resource } });
}

export function alreadyExists(res: ServerResponse, info: ResourceInfo, name: string): void {
  sendStatus(res, 409, `${qualified(info)} "${name}" already exists`, { reason: 'AlreadyExists', details: { name, group: info.group || undefined, kind: info.resource } });
}

export function conflict(res: ServerResponse, info: ResourceInfo, name: string): void {
  sendStatus(res, 409, `Operation cannot be fulfilled on ${qualified(info)} "${name}": the object has been modified; please apply your changes to the latest version and try again`, { reason: 'Conflict', details: { name, group: info.group || undefined, kind: info.resource } });
}

/** What the ResourceQuota admission answers when a create would go over a quota's object count. */
export function quotaExceeded(res: ServerResponse, info: ResourceInfo, name: string, quota: { name: string; key: string; used: number; limit: number }): void {
  const { key, used, limit } = quota;
  sendStatus(res, 403, `${qualified(info)} "${name}" is forbidden: exceeded quota: ${quota.name}, requested: ${key}=1, used: ${key}=${used}, limited: ${key}=${limit}`, {
    reason: 'Forbidden',
    details: { name, group: info.group || undefined, kind: info.resource },
  });
}

export function invalid(res: ServerResponse, info: ResourceInfo, name: string, causes: Cause[]): void {
  const message = `${info.kind} "${name}" is invalid: ${causes.map((cause) => `${cause.field}: ${cause.message}`).join(', ')}`;
  sendStatus(res, 422, message, { reason: 'Invalid', details: { name, group: info.group || undefined, kind: info.kind, causes } });
}
