/** Thrown for an invalid topic filter or a subscription the broker refused. */
export class MqttSubscribeError extends Error {
  override readonly name = 'MqttSubscribeError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
