import 'reflect-metadata';
import { Parser } from '@asyncapi/parser';
import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { IsInt, IsString, Min } from 'class-validator';
import {
  generateAsyncApi,
  MqttModule,
  MqttPublishes,
  Payload,
  Subscribe,
  TopicParam,
  TopicParams,
  type AsyncApiDocument,
} from '../index';

class JobDto {
  @IsString() name!: string;
  @IsInt() @Min(1) priority!: number;
}

class JobResultDto {
  @IsString() jobId!: string;
}

@Injectable()
@MqttPublishes('events/{kind}', { type: 'object', title: 'Event' }, { summary: 'Any event' })
class JobsHandler {
  @Subscribe('$share/workers/jobs/+jobId', { qos: 2 })
  @MqttPublishes('jobs/{jobId}/done', JobResultDto, { qos: 1, retain: true })
  run(@TopicParam('jobId') _jobId: string, @Payload() _job: JobDto): void {}

  @Subscribe(['cmd/+device/set', 'cmd/all/set'], { qos: 1, share: false, concurrency: 4 })
  set(@Payload('value') _value: number, @TopicParams() _params: object): void {}

  @Subscribe('raw/#')
  raw(): void {}
}

const KEYS = {
  MQTT_BROKER_URL: '127.0.0.1',
  MQTT_BROKER_PORT: 18830,
  MQTT_USERNAME: 'doc-user',
  MQTT_PASSWORD: 'doc-secret-pw',
  MQTT_PROTOCOL_VERSION: 'MQTTv5',
  MQTT_CLIENT_ID: 'doc-client',
  MQTT_SHARED_GROUP: 'g1',
};

@Module({ imports: [MqttModule.forRoot(KEYS)], providers: [JobsHandler] })
class DocModule {}

/** Errors (severity 0, DiagnosticSeverity.Error) the official parser reports for `doc`. */
async function parserErrors(doc: AsyncApiDocument): Promise<string[]> {
  const diagnostics = await new Parser().validate(doc as never);
  return diagnostics.filter((d) => Number(d.severity) === 0).map((d) => `${d.code}: ${d.message}`);
}

describe('generateAsyncApi on a compiled (not initialised) app', () => {
  let app: INestApplicationContext;
  let doc: AsyncApiDocument;
  beforeAll(async () => {
    app = await Test.createTestingModule({ imports: [DocModule] }).compile();
    doc = generateAsyncApi(app, { title: 'Jobs', version: '2.0.0' });
  });
  // Not closed: nothing was opened (no connection, no timer), and closing an app that was never
  // initialised makes MqttService end an MQTT.js client that never connected, which logs a
  // TypeError from MQTT.js (reported to the lead).

  it('is a valid AsyncAPI 3.0 document for the official parser', async () => {
    expect(doc.asyncapi).toBe('3.0.0');
    expect(doc.info).toEqual({ title: 'Jobs', version: '2.0.0' });
    expect(await parserErrors(doc)).toEqual([]);
  });

  it('describes the configured broker without its credentials', () => {
    expect(doc.servers).toEqual({
      default: {
        host: '127.0.0.1:18830',
        protocol: 'mqtt',
        protocolVersion: '5',
        bindings: {
          mqtt: {
            cleanSession: true,
            keepAlive: 60,
            clientId: 'doc-client',
            bindingVersion: '0.2.0',
          },
        },
      },
    });
    const json = JSON.stringify(doc);
    expect(json).not.toContain('doc-user');
    expect(json).not.toContain('doc-secret-pw');
  });

  it('makes a channel per filter and per declared topic, wildcards as parameters', () => {
    const addresses = Object.fromEntries(
      Object.entries(doc.channels).map(([id, c]) => [
        id,
        [c.address, Object.keys(c.parameters ?? {})],
      ]),
    );
    expect(addresses).toEqual({
      'jobs.jobId': ['jobs/{jobId}', ['jobId']],
      'cmd.device.set': ['cmd/{device}/set', ['device']],
      'cmd.all.set': ['cmd/all/set', []],
      'raw.rest': ['raw/{rest}', ['rest']],
      'jobs.jobId.done': ['jobs/{jobId}/done', ['jobId']],
      'events.kind': ['events/{kind}', ['kind']],
    });
    expect(doc.channels['jobs.jobId']['x-mqtt-filters']).toEqual(['$share/workers/jobs/+jobId']);
    expect(doc.channels['jobs.jobId'].servers).toEqual([{ $ref: '#/servers/default' }]);
  });

  it('makes a receive operation per handler and filter, with QoS, share group and options', () => {
    const run = doc.operations['JobsHandler.run'];
    expect(run).toMatchObject({
      action: 'receive',
      channel: { $ref: '#/channels/jobs.jobId' },
      messages: [{ $ref: '#/channels/jobs.jobId/messages/JobDto' }],
      bindings: { mqtt: { qos: 2 } },
      'x-mqtt-share': 'workers',
      'x-mqtt-connection': 'default',
    });
    // share: false opts out of MQTT_SHARED_GROUP; no share option falls back to it.
    expect(doc.operations['JobsHandler.set']['x-mqtt-share']).toBeUndefined();
    expect(doc.operations['JobsHandler.set']['x-mqtt-subscribe']).toEqual({ concurrency: 4 });
    expect(doc.operations['JobsHandler.set_2'].channel).toEqual({ $ref: '#/channels/cmd.all.set' });
    expect(doc.operations['JobsHandler.raw']['x-mqtt-share']).toBe('g1');
    expect(doc.operations['JobsHandler.raw'].bindings).toEqual({
      mqtt: { qos: 0, bindingVersion: '0.2.0' },
    });
  });

  it('gives payload schemas: the DTO, @Payload(field) objects, any payload for raw handlers', () => {
    expect(doc.components.messages.JobDto.payload).toEqual({ $ref: '#/components/schemas/JobDto' });
    expect(doc.components.schemas.JobDto).toEqual({
      type: 'object',
      title: 'JobDto',
      properties: { name: { type: 'string' }, priority: { type: 'integer', minimum: 1 } },
      required: ['name', 'priority'],
    });
    const setMessage = doc.operations['JobsHandler.set'].messages[0].$ref.split('/').pop() ?? '';
    expect(doc.components.messages[setMessage].payload).toEqual({
      type: 'object',
      properties: { value: { type: 'number' } },
      required: ['value'],
    });
    expect(doc.components.messages['raw.rest.message'].payload).toEqual({});
  });

  it('makes send operations from @MqttPublishes on methods and classes', () => {
    expect(doc.operations['JobsHandler.run.send']).toMatchObject({
      action: 'send',
      channel: { $ref: '#/channels/jobs.jobId.done' },
      messages: [{ $ref: '#/channels/jobs.jobId.done/messages/JobResultDto' }],
      bindings: { mqtt: { qos: 1, retain: true } },
    });
    expect(doc.operations['JobsHandler.send']).toMatchObject({
      action: 'send',
      summary: 'Any event',
      messages: [{ $ref: '#/channels/events.kind/messages/Event' }],
    });
  });
});

describe('generateAsyncApi on an app created in preview mode (nothing instantiated)', () => {
  it('reads the same handlers from the classes, and the server from options.config', async () => {
    const app = await NestFactory.createApplicationContext(DocModule, {
      preview: true,
      logger: false,
    });
    try {
      const doc = generateAsyncApi(app, { config: { ...KEYS, MQTT_BROKER_PORT: 18831 } });
      expect(Object.keys(doc.operations)).toEqual([
        'JobsHandler.run',
        'JobsHandler.set',
        'JobsHandler.set_2',
        'JobsHandler.raw',
        'JobsHandler.send',
        'JobsHandler.run.send',
      ]);
      expect(doc.servers?.default.host).toBe('127.0.0.1:18831');
      expect(JSON.stringify(doc)).not.toContain('doc-secret-pw');
      const bare = generateAsyncApi(app);
      expect(bare.servers).toBeUndefined();
      expect(await parserErrors(bare)).toEqual([]);
    } finally {
      await app.close();
    }
  });
});

@Injectable()
class BackupHandler {
  @Subscribe('${DOC_SITE}/alarms/+alarmId', { connection: 'backup', qos: 1 })
  alarm(@TopicParam('alarmId') _id: string): void {}

  @Subscribe('${DOC_SITE}/${DOC_AREA}/state')
  state(): void {}
}

@Module({
  imports: [
    MqttModule.forRoot(KEYS),
    MqttModule.forRoot({
      name: 'backup',
      MQTT_BROKER_URL: 'backup.example',
      MQTT_BROKER_PORT: 8883,
      MQTT_TLS_ENABLED: true,
      MQTT_PASSWORD: 'backup-secret-pw',
      MQTT_USERNAME: 'backup-user',
    }),
  ],
  providers: [BackupHandler],
})
class NamedModule {}

describe('generateAsyncApi with a named connection and ${KEY} filters', () => {
  let doc: AsyncApiDocument;
  beforeAll(async () => {
    process.env.DOC_SITE = 'plant-1';
    delete process.env.DOC_AREA;
    const app = await NestFactory.createApplicationContext(NamedModule, {
      preview: true,
      logger: false,
    });
    try {
      doc = generateAsyncApi(app, { config: KEYS });
    } finally {
      await app.close();
      delete process.env.DOC_SITE;
    }
  });

  it('gives the named connection its server and puts its channels on it', async () => {
    // Preview mode resolves no connection config: the named one comes from options.servers.
    expect(Object.keys(doc.servers ?? {})).toEqual(['default']);
    const app = await Test.createTestingModule({ imports: [NamedModule] }).compile();
    process.env.DOC_SITE = 'plant-2';
    const running = generateAsyncApi(app);
    delete process.env.DOC_SITE;
    expect(running.servers?.backup).toMatchObject({
      host: 'backup.example:8883',
      protocol: 'secure-mqtt',
    });
    expect(JSON.stringify(running)).not.toMatch(/backup-(user|secret-pw)/);
    const alarms = Object.values(running.channels).find((c) =>
      c.address.endsWith('/alarms/{alarmId}'),
    );
    expect(alarms?.servers).toEqual([{ $ref: '#/servers/backup' }]);
    expect(running.operations['BackupHandler.alarm']['x-mqtt-connection']).toBe('backup');
    expect(await parserErrors(running)).toEqual([]);
  });

  it('fills ${KEY} from the configuration, or makes the key a parameter when unset', async () => {
    expect(doc.channels['plant-1.alarms.alarmId'].address).toBe('plant-1/alarms/{alarmId}');
    const state = doc.channels['plant-1.DOC_AREA.state'];
    expect(state.address).toBe('plant-1/{DOC_AREA}/state');
    expect(state.parameters).toEqual({
      DOC_AREA: {
        description: 'The value of the configuration key DOC_AREA, read when the app starts.',
      },
    });
    expect(state['x-mqtt-filters']).toEqual(['${DOC_SITE}/${DOC_AREA}/state']);
    expect(await parserErrors(doc)).toEqual([]);
  });
});
