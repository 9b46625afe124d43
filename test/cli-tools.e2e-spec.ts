/**
 * Interoperability with clients we did not write: messages published by `mosquitto_pub` (MQTT
 * 3.1.1 and 5) reach the handlers with their bytes and properties intact, what handlers publish
 * reaches `mosquitto_sub`, and an MQTT 5 request from `mosquitto_pub` (response topic +
 * correlation data) gets the handler's return value as the reply, seen by `mosquitto_sub`.
 */
import { Injectable } from '@nestjs/common';
import { IsNumber, IsString } from 'class-validator';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MessageProperties,
  MqttService,
  Packet,
  Payload,
  Subscribe,
  Topic,
  TopicParam,
  UserProperties,
} from 'nestjs-mqtt';
import type { IPublishPacket } from 'mqtt';
import {
  describeWithMosquitto,
  mosquittoPub,
  mosquittoSub,
  startMosquitto,
  trackTempDir,
  uid,
  until,
  type MosquittoBroker,
  type MosquittoSubProcess,
} from './support';
import { startApp, type StartedApp } from './fixtures/routing-helpers';

class ReadingDto {
  @IsString()
  unit!: string;

  @IsNumber()
  value!: number;
}

@Injectable()
class CliHandlers {
  readonly calls: Array<Record<string, unknown>> = [];

  constructor(private readonly mqtt: MqttService) {}

  @Subscribe('cli/sensors/+deviceId/reading', { qos: 2 })
  onReading(
    @TopicParam('deviceId') deviceId: string,
    @Payload() body: ReadingDto,
    @Packet() packet: IPublishPacket,
  ): void {
    this.calls.push({
      kind: 'reading',
      deviceId,
      dto: body instanceof ReadingDto,
      value: body.value,
      unit: body.unit,
      qos: packet.qos,
    });
  }

  @Subscribe('cli/text/#')
  onText(@Topic() topic: string, @Payload() text: string): void {
    this.calls.push({ kind: 'text', topic, text });
  }

  @Subscribe('cli/blob')
  onBlob(@Payload() bytes: Buffer): void {
    this.calls.push({ kind: 'blob', bytes });
  }

  /** Republishes the upper-cased text where mosquitto_sub listens. */
  @Subscribe('cli/echo/+id')
  async onEcho(@TopicParam('id') id: string, @Payload() text: string): Promise<void> {
    await this.mqtt.publish(`cli/out/${id}`, text.toUpperCase(), { qos: 1 });
  }

  /** MQTT 5 request/response: the return value is the reply. */
  @Subscribe('cli/rpc/sum')
  onSum(
    @Payload() numbers: number[],
    @UserProperties('caller') caller: unknown,
    @MessageProperties('contentType') contentType: unknown,
  ): { sum: number; caller: unknown; contentType: unknown } {
    return { sum: numbers.reduce((a, b) => a + b, 0), caller, contentType };
  }
}

describeWithMosquitto('mosquitto_pub / mosquitto_sub interoperability', () => {
  let mosquitto: MosquittoBroker;
  let current: StartedApp | undefined;
  let sub: MosquittoSubProcess | undefined;
  let dir: string;

  beforeAll(async () => {
    mosquitto = await startMosquitto();
    dir = await mkdtemp(join(tmpdir(), 'nestjs-mqtt-cli-'));
    trackTempDir(dir);
  });
  afterEach(async () => {
    await sub?.stop();
    sub = undefined;
    await current?.close();
    current = undefined;
  });
  afterAll(() => mosquitto?.stop());

  const target = () => ['-h', '127.0.0.1', '-p', String(mosquitto.port)];
  const calls = (kind: string) => current!.get(CliHandlers).calls.filter((c) => c.kind === kind);

  it.each([
    ['mqttv311', 4],
    ['mqttv5', 5],
  ] as const)(
    'messages from mosquitto_pub -V %s reach the handlers intact',
    async (cliVersion, version) => {
      current = await startApp({ broker: mosquitto, version, providers: [CliHandlers] });
      const blob = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const blobFile = join(dir, `blob-${uid()}.bin`);
      await writeFile(blobFile, blob);
      const v = ['-V', cliVersion];

      await mosquittoPub([
        ...target(),
        ...v,
        '-q',
        '2',
        '-t',
        'cli/sensors/dev-7/reading',
        '-m',
        '{"unit":"C","value":21.5}',
      ]);
      await mosquittoPub([...target(), ...v, '-q', '1', '-t', 'cli/text/a/b', '-m', 'grüße ✓']);
      await mosquittoPub([...target(), ...v, '-q', '0', '-t', 'cli/text', '-n']);
      await mosquittoPub([...target(), ...v, '-q', '1', '-t', 'cli/blob', '-f', blobFile]);
      // Invalid for the DTO: not handled, and said so in the log.
      await mosquittoPub([
        ...target(),
        ...v,
        '-q',
        '1',
        '-t',
        'cli/sensors/dev-8/reading',
        '-m',
        '{"unit":"C","value":"hot"}',
      ]);

      await until(
        'the mosquitto_pub messages',
        () =>
          calls('reading').length >= 1 && calls('text').length >= 2 && calls('blob').length >= 1,
      );
      await current.logger.waitFor(/dev-8\/reading/, 'error');
      expect(calls('reading')).toEqual([
        { kind: 'reading', deviceId: 'dev-7', dto: true, value: 21.5, unit: 'C', qos: 2 },
      ]);
      expect(calls('text')).toEqual([
        { kind: 'text', topic: 'cli/text/a/b', text: 'grüße ✓' },
        { kind: 'text', topic: 'cli/text', text: '' },
      ]);
      expect(calls('blob')).toEqual([{ kind: 'blob', bytes: blob }]);
      const failure = current.logger.at('error', /CliHandlers\.onReading/);
      expect(failure.map((l) => l.message)).toEqual([
        expect.stringMatching(/cli\/sensors\/dev-8\/reading.*value must be a number/),
      ]);
    },
  );

  it('what a handler republishes reaches mosquitto_sub', async () => {
    current = await startApp({ broker: mosquitto, providers: [CliHandlers] });
    sub = mosquittoSub([...target(), '-t', 'cli/out/#', '-v', '-d', '-q', '1']);
    await sub.waitForLine(/^Subscribed/);
    await mosquittoPub([...target(), '-q', '1', '-t', 'cli/echo/abc', '-m', 'hello mqtt']);
    await mosquittoPub([...target(), '-q', '1', '-t', 'cli/echo/xyz', '-m', 'second']);
    await sub.waitForLine(/^cli\/out\/xyz /, 5000);
    expect(sub.lines.filter((l) => l.startsWith('cli/out/'))).toEqual([
      'cli/out/abc HELLO MQTT',
      'cli/out/xyz SECOND',
    ]);
  });

  it('MQTT 5: mosquitto_pub -D response-topic / correlation-data gets the return value at mosquitto_sub', async () => {
    current = await startApp({ broker: mosquitto, version: 5, providers: [CliHandlers] });
    const responseTopic = `cli/replies/${uid()}`;
    sub = mosquittoSub([
      ...target(),
      '-V',
      'mqttv5',
      '-t',
      responseTopic,
      '-q',
      '1',
      '-d',
      '-F',
      '%t|%p|%D',
    ]);
    await sub.waitForLine(/^Subscribed/);
    await mosquittoPub([
      ...target(),
      '-V',
      'mqttv5',
      '-q',
      '1',
      '-t',
      'cli/rpc/sum',
      '-m',
      '[1,2,3.5]',
      '-D',
      'publish',
      'response-topic',
      responseTopic,
      '-D',
      'publish',
      'correlation-data',
      'req-42',
      '-D',
      'publish',
      'user-property',
      'caller',
      'cli',
      '-D',
      'publish',
      'content-type',
      'application/json',
    ]);
    const line = await sub.waitForLine(new RegExp(`^${responseTopic}\\|`), 5000);
    const [topic, payload, correlation] = line.split('|');
    expect(topic).toBe(responseTopic);
    expect(JSON.parse(payload)).toEqual({
      sum: 6.5,
      caller: 'cli',
      contentType: 'application/json',
    });
    expect(correlation).toBe('req-42');
  });
});
