/** Thrown to a handler's error path when its `@Payload()` cannot be decoded or fails validation. */
export class MqttPayloadError extends Error {
  override readonly name = 'MqttPayloadError';
  constructor(message: string) {
    super(message);
  }
}
