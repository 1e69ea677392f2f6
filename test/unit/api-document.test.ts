import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadApiDocument, writeApiDocumentCopy } from '../../src/http/api-document.js';

const shipped = path.resolve(import.meta.dirname, '../../api/openapi.yaml');

describe("the API document's build-time JSON copy", function () {
  // Compiling the API document's validators or parsing its YAML takes seconds on a busy machine; no timing is asserted.
  this.timeout(30_000);
  let dir: string;
  let files: { yaml: string; json: string };
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'api-document-'));
    files = { yaml: path.join(dir, 'openapi.yaml'), json: path.join(dir, 'openapi.json') };
    writeFileSync(files.yaml, readFileSync(shipped));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('answers the same document as parsing the shipped YAML, with or without the copy', () => {
    const parsed = parseYaml(readFileSync(shipped, 'utf8')) as object;
    assert.deepEqual(loadApiDocument(files), parsed);
    writeApiDocumentCopy(files);
    assert.deepEqual(loadApiDocument(files), parsed);
  });

  it('uses the copy only when it was made from the YAML shipped beside it', () => {
    writeApiDocumentCopy(files);
    const copy = JSON.parse(readFileSync(files.json, 'utf8')) as { source: string; document: { info: { title: string } } };
    copy.document.info.title = 'from the copy';
    writeFileSync(files.json, JSON.stringify(copy));
    assert.equal((loadApiDocument(files) as { info: { title: string } }).info.title, 'from the copy');
    // The YAML edited after the build: the copy is stale, and the YAML wins.
    writeFileSync(files.yaml, readFileSync(shipped, 'utf8').replace(/^ {2}title: .*$/m, '  title: edited'));
    assert.equal((loadApiDocument(files) as { info: { title: string } }).info.title, 'edited');
  });

  it('parses the YAML when the copy is missing or damaged', () => {
    writeFileSync(files.json, '{"source": "abc", "docu');
    assert.deepEqual(loadApiDocument(files), parseYaml(readFileSync(shipped, 'utf8')));
  });
});
