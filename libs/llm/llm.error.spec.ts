import { LlmError } from './llm.error';

describe('LlmError.fromStatus', () => {
  it.each([
    [429, 'llm_rate_limited', true],
    [408, 'llm_timeout', true],
    [409, 'llm_unavailable', true],
    [500, 'llm_unavailable', true],
    [502, 'llm_unavailable', true],
    [503, 'llm_unavailable', true],
    [529, 'llm_unavailable', true],
    [400, 'llm_bad_request', false],
    [404, 'llm_bad_request', false],
    [413, 'llm_bad_request', false],
    [422, 'llm_bad_request', false],
    [401, 'llm_auth', false],
    [403, 'llm_auth', false],
  ])('classifies %i as %s (retryable: %p)', (status, type, retryable) => {
    const error = LlmError.fromStatus(status, 'provider said no', { retryAfterMs: 1000 });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: 'LlmError', type, retryable, status, retryAfterMs: 1000 });
    expect(error.message).toBe('provider said no');
  });

  it('builds aborts as non-retryable, without status', () => {
    const error = LlmError.aborted();
    expect(error).toMatchObject({ name: 'LlmError', type: 'llm_aborted', retryable: false });
    expect(error.status).toBeUndefined();
    expect(error.retryAfterMs).toBeUndefined();
  });
});
