import { KubeConfig } from '@kubernetes/client-node';
import type { Config } from '../../config.js';
import type { Logger } from '../../logger.js';
import type { Observer } from '../../metrics.js';
import { KubernetesRuntime } from './kubernetes-runtime.js';

/** Where Kubernetes jobs find their payload when the component names no `payload.path`. */
export const DEFAULT_PAYLOAD_PATH = '/var/job-payload';

/** How to reach the cluster from where the service runs: in a pod, its service account; elsewhere KUBECONFIG or ~/.kube/config. */
export function defaultKubeConfig(): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  return kubeConfig;
}

/**
 * The Kubernetes runtime of a configuration, made once the service's metrics exist. This module is the only way
 * into the Kubernetes client from `main.ts`, which imports it only when the runtime is `kubernetes`: the client
 * takes seconds and tens of megabytes to load, and the local runtime never needs it.
 */
export function kubernetesRuntimeFor(config: Config, logger: Logger, kubeConfig: KubeConfig): (observer: Observer) => KubernetesRuntime {
  const { kubernetes, component } = config;
  const namespace = kubernetes.namespace ?? kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace ?? 'default';
  return (observer) => new KubernetesRuntime({
    kubeConfig,
    logger,
    observer,
    writeConcurrency: kubernetes.writeConcurrency,
    rateLimit: { qps: kubernetes.qps, burst: kubernetes.burst },
    settings: {
      namespace,
      component: component.name,
      payloadPath: component.payload?.path ?? DEFAULT_PAYLOAD_PATH,
      nodeTypeKey: kubernetes.nodeTypeKey,
      gpuKey: kubernetes.gpuKey,
      gpuCountKey: kubernetes.gpuCountKey,
    },
  });
}
