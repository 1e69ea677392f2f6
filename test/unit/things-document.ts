/**
 * A small API document for the validator's tests: `POST /things` (a body and a query parameter) and
 * `GET /things/{name}`. `/things/{name}` sorts before `/things` in the validator's routes, as
 * `/api/v1/jobs/{jobName}` does before `/api/v1/jobs`.
 */
export const thingsDocument = () => ({
  openapi: '3.0.3',
  info: { title: 't', version: '1' },
  paths: {
    '/things': {
      post: {
        parameters: [{ name: 'dryRun', in: 'query', required: false, schema: { type: 'boolean' } }],
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['size'], properties: { size: { type: 'integer', minimum: 1 } } } } } },
        responses: { '200': { description: 'ok', content: { 'application/json': { schema: { type: 'object', required: ['size'], properties: { size: { type: 'integer' } } } } } } },
      },
    },
    '/things/{name}': {
      get: {
        parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string', pattern: '^[a-z]+$' } }],
        responses: { '200': { description: 'ok' } },
      },
    },
  },
});
