/**
 * The trust model: a client is not the owner of the host. The component file (the owner's) says which
 * job fields a client may set in a job description or a batch's defaults; whatever the component file
 * itself sets is never questioned.
 */
import type { FieldProblem } from './errors.js';
import type { JobDescription } from './model.js';

/** Every field of a job description a client may be allowed to set. */
export const OVERRIDABLE_FIELDS = [
  'payload', 'jobId', 'timeLimitSeconds', 'backoffLimit', 'failurePolicy', 'resources', 'node', 'runtime',
  'image', 'imageTagName', 'variables', 'command', 'args',
] as const;
export type OverridableField = (typeof OVERRIDABLE_FIELDS)[number];

/** Not a field: allows `variables` to hold loader variables too (see `isLoaderVariable`). */
export const LOADER_VARIABLES_GRANT = 'loaderVariables';
export type OverrideGrant = OverridableField | typeof LOADER_VARIABLES_GRANT;
export const OVERRIDE_GRANTS: readonly OverrideGrant[] = [...OVERRIDABLE_FIELDS, LOADER_VARIABLES_GRANT];

/**
 * On the local runtime a job is a process on the service's own host, as the service's user: choosing
 * the program (or the image, which names it on Kubernetes) is the owner's alone.
 */
const LOCAL_ONLY_OWNER: ReadonlySet<OverrideGrant> = new Set(['command', 'args', 'image', LOADER_VARIABLES_GRANT]);

/**
 * Variables that change which code a program loads or runs before its own: the dynamic loader and the
 * C library (the variables glibc drops for set-user-ID programs that load code or data), program lookup,
 * shells, and the start-up hooks of common interpreters.
 */
export const LOADER_VARIABLE_PREFIXES: readonly string[] = ['LD_', 'DYLD_', 'LUA_INIT'];
export const LOADER_VARIABLE_NAMES: ReadonlySet<string> = new Set([
  'GLIBC_TUNABLES', 'GCONV_PATH', 'LOCPATH', 'NLSPATH',
  'PATH',
  'BASH_ENV', 'ENV', 'IFS', 'SHELLOPTS', 'BASHOPTS', 'PS4', 'PROMPT_COMMAND',
  'NODE_OPTIONS', 'NODE_PATH',
  'PYTHONPATH', 'PYTHONHOME', 'PYTHONSTARTUP', 'PYTHONUSERBASE', 'PYTHONWARNINGS',
  'PERL5OPT', 'PERL5LIB', 'PERLLIB', 'PERL5DB',
  'RUBYOPT', 'RUBYLIB',
  'JAVA_TOOL_OPTIONS', '_JAVA_OPTIONS', 'JDK_JAVA_OPTIONS', 'CLASSPATH',
  'DOTNET_STARTUP_HOOKS',
  'PHPRC', 'PHP_INI_SCAN_DIR',
  'LUA_PATH', 'LUA_CPATH',
]);

export function isLoaderVariable(name: string): boolean {
  return LOADER_VARIABLE_NAMES.has(name) || LOADER_VARIABLE_PREFIXES.some((prefix) => name.startsWith(prefix));
}

/** What clients may set, as decided once from the component file and the runtime. */
export interface OverridePolicy {
  fields: ReadonlySet<OverridableField>;
  loaderVariables: boolean;
  /** Whether the component listed `allowOverrides` itself (for messages). */
  explicit: boolean;
}

/**
 * The component's `allowOverrides` when it has one; else the runtime's default: on Kubernetes
 * everything (Radix: an override stays inside the job's image), on the local runtime everything
 * but `command`, `args`, `image` and loader variables.
 */
export function overridePolicy(runtime: 'local' | 'kubernetes', allowOverrides?: readonly OverrideGrant[]): OverridePolicy {
  const grants = allowOverrides ?? OVERRIDE_GRANTS.filter((grant) => runtime === 'kubernetes' || !LOCAL_ONLY_OWNER.has(grant));
  return {
    fields: new Set(OVERRIDABLE_FIELDS.filter((field) => grants.includes(field))),
    loaderVariables: grants.includes(LOADER_VARIABLES_GRANT),
    explicit: allowOverrides !== undefined,
  };
}

/** The fields of one description (a job, or a batch's defaults at `prefix`) that the policy does not let a client set. */
export function overrideProblems(description: JobDescription, policy: OverridePolicy, prefix = ''): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const field of OVERRIDABLE_FIELDS) {
    if (description[field] !== undefined && !policy.fields.has(field)) {
      problems.push({ path: `${prefix}${field}`, message: refusal(field, policy) });
    }
  }
  // The Radix guide's first example puts imageTagName under resources: the same field, the same rule.
  const legacyTag = (description.resources as { imageTagName?: unknown } | undefined)?.imageTagName;
  if (legacyTag !== undefined && policy.fields.has('resources') && !policy.fields.has('imageTagName')) {
    problems.push({ path: `${prefix}resources.imageTagName`, message: refusal('imageTagName', policy) });
  }
  if (policy.fields.has('variables') && !policy.loaderVariables) {
    for (const name of Object.keys(description.variables ?? {})) {
      if (isLoaderVariable(name)) {
        problems.push({
          path: `${prefix}variables.${name}`,
          message: `changes how the job's program is loaded, and the component does not let clients set such variables; ${howToAllow(LOADER_VARIABLES_GRANT, policy)}`,
        });
      }
    }
  }
  return problems;
}

function refusal(field: OverridableField, policy: OverridePolicy): string {
  return `cannot be set by a client: the component does not allow overriding ${field}; ${howToAllow(field, policy)}`;
}

function howToAllow(grant: OverrideGrant, policy: OverridePolicy): string {
  const where = policy.explicit ? 'its allowOverrides list' : 'an allowOverrides list';
  return `the component's owner can add ${grant} to ${where} in the component file`;
}
