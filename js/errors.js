// One error type for the whole library. `.code` is stable (see core.d.ts PushPeerErrorCode); messages are not.
export class PushPeerError extends Error {
  constructor(code, message, options) {
    super(message ?? code, options);
    this.name = 'PushPeerError';
    this.code = code;
  }
}
