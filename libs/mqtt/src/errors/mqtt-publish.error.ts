/** Thrown (as a rejection) by `MqttService.publish()` and `request()`. */
export class MqttPublishError extends Error {
  override readonly name = 'MqttPublishError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
