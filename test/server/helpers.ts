/** Test doubles for the server's units. */
import type { RegisteredCall } from '../../src/server/call-registry.js';
import type { VoicewireError } from '../../src/errors.js';

/** A call that ends when told to (closeCall) or when `hangUp` is called, recording how. */
export class FakeCall implements RegisteredCall {
  readonly ended: Promise<void>;
  closedWith: VoicewireError | undefined;
  private resolve!: () => void;
  constructor() {
    this.ended = new Promise((resolve) => (this.resolve = resolve));
  }
  closeCall(error: VoicewireError): void {
    this.closedWith ??= error;
    this.resolve();
  }
  hangUp(): void {
    this.resolve();
  }
}
