/** Thrown by a circuit breaker instead of calling the protected dependency while the circuit is open. */
export class CircuitOpenError extends Error {
  override readonly name = 'CircuitOpenError';

  constructor(
    /** The breaker's name, e.g. `websearch`. */
    readonly circuit: string,
    /** How long until a call may be let through again (the end of the cooldown, or a probe slot freeing up). */
    readonly retryAfterMs: number,
    /** `open` during the cooldown; `half_open` when the cooldown is over but every probe slot is taken. */
    readonly state: 'open' | 'half_open',
  ) {
    super(
      state === 'open'
        ? `Circuit '${circuit}' is open; retry in ${retryAfterMs} ms`
        : `Circuit '${circuit}' is half-open and already probing; retry in ${retryAfterMs} ms`,
    );
  }
}
