// Compiled against the BUILT package (node_modules/nestjs-mqtt -> libs/mqtt/dist) with
// skipLibCheck off: the published .d.ts files must type-check for a consumer.
import { Injectable, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import {
  MqttModule,
  MqttService,
  Payload,
  Subscribe,
  TopicParam,
  validateMqttConfig,
  type MqttMessage,
} from 'nestjs-mqtt';

@Injectable()
export class Consumer {
  constructor(private readonly mqtt: MqttService) {}

  @Subscribe('sensors/+id/temp', { qos: 1 })
  async onTemp(@TopicParam('id') id: string, @Payload() body: unknown): Promise<void> {
    await this.mqtt.publish(`echo/${id}`, { body }, { qos: 1 });
  }

  ask(): Promise<MqttMessage> {
    return this.mqtt.request('rpc/x', 'hi', { timeout: 100 });
  }
}

@Module({
  imports: [
    ConfigModule.forRoot({ validate: validateMqttConfig }),
    MqttModule.forRootAsync(),
    MqttModule.forRoot({ MQTT_BROKER_URL: 'localhost', MQTT_LAST_WILL_MESSAGE: 42 }),
  ],
  providers: [Consumer],
})
export class ConsumerModule {}
