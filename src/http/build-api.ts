// A step of the build (`npm run build:service`): what the service would otherwise make from the API document at
// each start or first request. Each output carries the digest of the YAML it was made from, and is used only then.
import { readComponentSchema, writeComponentValidator } from '../component-validator.js';
import { writeApiDocumentCopy } from './api-document.js';
import { writeNdjsonValidators } from './ndjson-validators.js';

const { source, document } = writeApiDocumentCopy();
writeNdjsonValidators(document, source);
writeComponentValidator(document, readComponentSchema(), source);
