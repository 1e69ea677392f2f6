import { Helm, printPayloadValues } from './helm.js';

/** One rule of a Role, as `helm template` renders it. */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/**
 * The rules of the chart's Role, read from `helm template` output (the print-payload example's values unless
 * `args` say otherwise). Unpacks its own helm binary unless one is given.
 */
export async function chartRoleRules(options: { helm?: Helm; args?: string[] } = {}): Promise<PolicyRule[]> {
  const helm = options.helm ?? Helm.unpack();
  try {
    const roles = (await helm.template(...(options.args ?? ['-f', printPayloadValues]))).filter((object) => object.kind === 'Role');
    if (roles.length !== 1) throw new Error(`expected one Role in the chart, found ${roles.length}`);
    return roles[0].rules as PolicyRule[];
  } finally {
    if (!options.helm) helm.remove();
  }
}

/** Every `group/resource verb` the rules grant (`/pods list` for the core group). */
export function permissions(rules: readonly PolicyRule[]): Set<string> {
  const granted = new Set<string>();
  for (const rule of rules) {
    for (const group of rule.apiGroups) for (const resource of rule.resources) for (const verb of rule.verbs) granted.add(`${group}/${resource} ${verb}`);
  }
  return granted;
}

/** The chart's Role as `group/resource verb` permissions, for comparing with the requests the runtime makes. */
export async function chartPermissions(options: { helm?: Helm; args?: string[] } = {}): Promise<Set<string>> {
  return permissions(await chartRoleRules(options));
}
