import { QcInputError } from './qc-errors';
import { parseQcJobInput, parseQcScreenshotInput } from './qc-input';

const limits = { maxTimeoutMs: 30_000, defaultTimeoutMs: 10_000 };
const fieldOf = (body: unknown): string => {
  try {
    parseQcJobInput(body, limits);
  } catch (error) {
    if (error instanceof QcInputError) return error.field;
    throw error;
  }
  throw new Error('expected a QcInputError');
};

describe('parseQcJobInput', () => {
  it('fills the default viewport and timeout', () => {
    expect(parseQcJobInput({ html: '<p>x</p>' }, limits)).toEqual({
      html: '<p>x</p>',
      viewport: { width: 1280, height: 800 },
      timeoutMs: 10_000,
    });
  });

  it('keeps a valid viewport and timeout', () => {
    expect(parseQcJobInput({ html: 'x', viewport: { width: 375, height: 667 }, timeoutMs: 500 }, limits)).toEqual({
      html: 'x',
      viewport: { width: 375, height: 667 },
      timeoutMs: 500,
    });
  });

  it.each([
    ['a non-object body', 'just text', 'body'],
    ['a missing html', {}, 'html'],
    ['a non-string html', { html: 42 }, 'html'],
    ['an empty html', { html: '   ' }, 'html'],
    ['a viewport that is not an object', { html: 'x', viewport: 3 }, 'viewport'],
    ['a too narrow viewport', { html: 'x', viewport: { width: 199, height: 600 } }, 'viewport.width'],
    ['a fractional viewport height', { html: 'x', viewport: { width: 800, height: 600.5 } }, 'viewport.height'],
    ['a too wide viewport', { html: 'x', viewport: { width: 3841, height: 600 } }, 'viewport.width'],
    ['a too short timeout', { html: 'x', timeoutMs: 99 }, 'timeoutMs'],
    ['a timeout over the limit', { html: 'x', timeoutMs: 30_001 }, 'timeoutMs'],
    ['a string timeout', { html: 'x', timeoutMs: '500' }, 'timeoutMs'],
    ['an unknown top-level key', { html: 'x', url: 'http://x' }, 'url'],
    ['an unknown viewport key', { html: 'x', viewport: { width: 800, depth: 2 } }, 'viewport.depth'],
  ])('rejects %s naming the field', (_name, body, field) => {
    expect(fieldOf(body)).toBe(field);
  });

  it('uses the stable error code qc_bad_input', () => {
    expect(() => parseQcJobInput({}, limits)).toThrow(expect.objectContaining({ code: 'qc_bad_input' }));
  });
});

describe('parseQcScreenshotInput', () => {
  const limits = { maxTimeoutMs: 30_000, defaultTimeoutMs: 10_000 };

  it('takes an optional boolean annotate beside the job', () => {
    expect(parseQcScreenshotInput({ html: '<p>x</p>' }, limits)).toEqual({ input: expect.objectContaining({ html: '<p>x</p>' }), annotate: false });
    expect(parseQcScreenshotInput({ html: '<p>x</p>', annotate: true }, limits).annotate).toBe(true);
  });

  it('names annotate when it is not a boolean and still checks the job', () => {
    expect(() => parseQcScreenshotInput({ html: '<p>x</p>', annotate: 'yes' }, limits)).toThrow(expect.objectContaining({ field: 'annotate' }));
    expect(() => parseQcScreenshotInput({ annotate: true }, limits)).toThrow(expect.objectContaining({ field: 'html' }));
    expect(() => parseQcScreenshotInput([], limits)).toThrow(expect.objectContaining({ field: 'body' }));
  });
});
