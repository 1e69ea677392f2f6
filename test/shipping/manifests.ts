import assert from 'node:assert/strict';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { parse as parseYaml } from 'yaml';
import { type Config, loadConfig } from '../../src/config.js';
import { apiDocument } from '../component/harness.js';
import { imageEnv } from './dockerfile.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Manifest = any;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
};

/** The one object of `kind` among the rendered ones. */
export function only(objects: Manifest[], kind: string): Manifest {
  const found = objects.filter((object) => object.kind === kind);
  assert.equal(found.length, 1, `expected one ${kind}, found ${found.length}`);
  return found[0];
}

export const podSpec = (objects: Manifest[]) => only(objects, 'Deployment').spec.template.spec;
export const container = (objects: Manifest[]) => podSpec(objects).containers[0];
export const envOf = (objects: Manifest[]) => new Map<string, Manifest>(container(objects).env.map((e: Manifest) => [e.name, e]));

/** Every object validates against the Kubernetes schema of its kind, and no unexpected kind is rendered. */
export function validateAll(objects: Manifest[]): void {
  for (const object of objects) {
    const Model = MODELS[`${object.apiVersion}/${object.kind}`];
    assert.ok(Model, `unexpected kind ${object.apiVersion} ${object.kind}`);
    new Model(object).validate();
  }
}

/** The component file the chart mounts, as text. */
export const componentYamlOf = (objects: Manifest[]) => only(objects, 'ConfigMap').data['component.yaml'] as string;

/** The number a container port reference (a number or the name of one of the container's ports) stands for. */
export function portNumber(objects: Manifest[], port: number | string): number {
  if (typeof port === 'number') return port;
  const named = container(objects).ports.find((p: Manifest) => p.name === port);
  assert.ok(named, `no container port named ${port}`);
  return named.containerPort as number;
}

/**
 * The configuration the service would load in the rendered pod: the image's environment overlaid with the
 * container's literal env, and the mounted component file.
 */
export function serviceConfig(objects: Manifest[]): Config {
  const literal = (container(objects).env as Manifest[]).filter((e) => e.value !== undefined).map((e) => [e.name, String(e.value)]);
  const env = { ...imageEnv(), ...Object.fromEntries(literal) };
  return loadConfig({ env, componentYaml: componentYamlOf(objects), componentPath: 'component.yaml', apiDocument, cpus: 1 });
}

/** The component file, parsed. */
export const componentOf = (objects: Manifest[]) => parseYaml(componentYamlOf(objects)) as Record<string, unknown>;
