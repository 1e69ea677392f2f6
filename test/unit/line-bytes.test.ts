import assert from 'node:assert/strict';
import { ApiError } from '../../src/core/errors.js';
import { LineBytes } from '../../src/http/line-bytes.js';

/** Every line the bytes hold, fed in the given pieces. */
function linesOf(pieces: Buffer[]): string[] {
  const reader = new LineBytes();
  const lines: string[] = [];
  for (const piece of pieces) {
    const text = reader.completeLines(piece);
    if (text !== undefined) lines.push(...text.split('\n'));
  }
  lines.push(reader.last());
  return lines;
}

describe('LineBytes', () => {
  const body = Buffer.from('\uFEFF{"a":"é ✓ 𝄞"}\n{"b":"\u00fc"}\r\n\n{"c":1}', 'utf8');

  it('when the body is cut anywhere, even inside a character, gives the same lines (without a leading byte order mark)', () => {
    const whole = linesOf([body]);
    assert.deepEqual(whole, ['{"a":"é ✓ 𝄞"}', '{"b":"\u00fc"}\r', '', '{"c":1}']);
    for (let cut = 0; cut <= body.length; cut++) {
      for (let second = cut; second <= body.length; second += 3) {
        assert.deepEqual(linesOf([body.subarray(0, cut), body.subarray(cut, second), body.subarray(second)]), whole, `cut at ${cut} and ${second}`);
      }
    }
  });

  it('when the body ends with a line end, the last line is empty', () => {
    assert.deepEqual(linesOf([Buffer.from('{}\n{"x":1}\n')]), ['{}', '{"x":1}', '']);
  });

  it('when bytes are not UTF-8, in a complete line or in the last one, refuses with 400', () => {
    const bad = Buffer.concat([Buffer.from('{}\n{"payload":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    for (const pieces of [[bad, Buffer.from('\n')], [bad]]) {
      assert.throws(() => linesOf(pieces), (error: unknown) => error instanceof ApiError && error.code === 400 && /not valid UTF-8/.test(error.message));
    }
  });
});
