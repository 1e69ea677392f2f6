// Regenerates the values table of helm/job-scheduler/README.md from values.yaml:
//   node --import tsx test/shipping/chart-readme.ts
// test/shipping/chart-readme.test.ts fails while the two disagree.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chartDir } from './helm.js';
import { readValuesDocs, valuesTable, withValuesTable } from './values-doc.js';

const readmePath = path.join(chartDir, 'README.md');
const docs = readValuesDocs(readFileSync(path.join(chartDir, 'values.yaml'), 'utf8'));
if (docs.undocumented.length > 0) {
  console.error(`values.yaml: no "# --" comment for ${docs.undocumented.join(', ')}`);
  process.exitCode = 1;
} else {
  writeFileSync(readmePath, withValuesTable(readFileSync(readmePath, 'utf8'), valuesTable(docs.values)));
  console.log(`${path.relative(process.cwd(), readmePath)}: ${docs.values.length} values`);
}
