// The app scripts/pack-check.sh compiles and runs in a fresh project, against the packed
// tarball: the three entry points, a handler, the testing kit's broker and a health check.
import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { MqttService, Payload, Subscribe } from 'nestjs-mqtt';
import { MqttHealthIndicator } from 'nestjs-mqtt/health';
import { startMqttTestingApp } from 'nestjs-mqtt/testing';

@Injectable()
class Doubler {
  constructor(private readonly mqtt: MqttService) {}

  @Subscribe('numbers/+', { qos: 1 })
  async onNumber(@Payload() body: { n: number }): Promise<void> {
    await this.mqtt.publish('doubled', { n: body.n * 2 }, { qos: 1 });
  }
}

async function main(): Promise<void> {
  const kit = await startMqttTestingApp({
    imports: [TerminusModule],
    providers: [Doubler, MqttHealthIndicator],
  });
  try {
    await kit.deliver('numbers/1', { n: 21 });
    const out = kit.published('doubled').map((m) => m.json);
    if (JSON.stringify(out) !== '[{"n":42}]') throw new Error(`published ${JSON.stringify(out)}`);
    const indicator = kit.get(MqttHealthIndicator);
    const health = await kit.get(HealthCheckService).check([() => indicator.isHealthy('mqtt')]);
    if (health.status !== 'ok') throw new Error(`health ${JSON.stringify(health)}`);
    console.log(
      `   packed app OK: handler, testing kit and health (${JSON.stringify(health.info)})`,
    );
  } finally {
    await kit.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
