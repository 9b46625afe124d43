/** Thrown by bootstrap when the first connection to the broker fails. */
export class MqttConnectionError extends Error {
  override readonly name = 'MqttConnectionError';
  constructor(
    message: string,
    /** The broker's CONNACK reason code, when the broker answered. */
    readonly code?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
