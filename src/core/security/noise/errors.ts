/**
 * The single error type of the Noise module. Every failure (bad input length, failed authentication,
 * misuse of a state machine, unsupported protocol name) surfaces as a NoiseError, so callers handling
 * untrusted input need exactly one `instanceof` check.
 */
export class NoiseError extends Error {
  override name = 'NoiseError';

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}
