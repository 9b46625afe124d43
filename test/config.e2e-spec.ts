/**
 * Configuration through @nestjs/config against real brokers: `.env` files and the environment,
 * the four ways of `forRoot` / `forRootAsync`, `validateMqttConfig`, one `MqttConfigError` for
 * every bad key, the password kept out of errors and logs, and "false" that stays false.
 */
import {
  Inject,
  Injectable,
  Module,
  type INestApplicationContext,
  type ModuleMetadata,
  type Type,
} from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import type { ConnectPacket } from 'aedes';
import type { MqttClient } from 'mqtt';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { inspect } from 'node:util';
import {
  MqttConfigError,
  MqttConnectionError,
  MqttModule,
  OnMqttLog,
  validateMqttConfig,
  type MqttEvent,
  type MqttModuleOptions,
  type MqttOptionsFactory,
  type MqttService,
} from 'nestjs-mqtt';
import {
  CaptureLogger,
  closeClient,
  collectMessages,
  compileMqttApp,
  connectClient,
  describeWithMosquitto,
  rejectionOf,
  startAedes,
  startMosquitto,
  uid,
  type AedesBroker,
  type MessageCollector,
  type MosquittoBroker,
} from './support';

/** Every `@OnMqttLog()` event, of every connection. */
@Injectable()
class LogListener {
  readonly events: Array<Extract<MqttEvent, { type: 'log' }> & { connection?: string }> = [];
  @OnMqttLog()
  onLog(event: Extract<MqttEvent, { type: 'log' }>): void {
    this.events.push(event);
  }
}

/** A recognisable password: it must never show up in an error or a log line. */
const PASSWORD = 's3cr3t-PASSWORD-xyz';
const USER = 'alice';
const USER_PASSWORD = 'alice-right-pw-42';

function rootModule(imports: NonNullable<ModuleMetadata['imports']>): Type<unknown> {
  @Module({ imports })
  class RootModule {}
  return RootModule;
}

/** Everything about an error that could reach a log or a screen. */
function everythingAbout(error: unknown): string {
  const e = error as Error & { issues?: unknown; warnings?: unknown; cause?: unknown };
  return [e.message, e.stack, inspect(e, { depth: 5 }), JSON.stringify(e.issues ?? null)].join(
    '\n',
  );
}

describe('configuration through ConfigService', () => {
  let aedes: AedesBroker;
  /** CONNECT packets aedes received, by client id. */
  const connects = new Map<string, ConnectPacket>();
  let watcher: MqttClient;
  let seen: MessageCollector;
  let dir: string;
  let savedEnv: NodeJS.ProcessEnv;
  const open: INestApplicationContext[] = [];

  beforeAll(async () => {
    aedes = await startAedes({
      aedes: {
        preConnect: (_client, packet, done) => {
          connects.set(packet.clientId, packet);
          done(null, true);
        },
      },
    });
    watcher = await connectClient(aedes.url);
    seen = await collectMessages(watcher, 'cfg/#', { qos: 1 });
    dir = mkdtempSync(join(tmpdir(), 'core-config-'));
  });

  afterAll(async () => {
    seen.stop();
    await closeClient(watcher);
    await aedes.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    savedEnv = { ...process.env };
    for (const key of Object.keys(process.env))
      if (key.startsWith('MQTT_')) delete process.env[key];
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((app) => app.close()));
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
    Object.assign(process.env, savedEnv);
  });

  function envFile(lines: Record<string, string | number>): string {
    const file = join(dir, `${uid('env')}.env`);
    writeFileSync(
      file,
      Object.entries(lines)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(''),
    );
    return file;
  }

  async function start(
    imports: NonNullable<ModuleMetadata['imports']>,
    logger = new CaptureLogger(),
    providers: NonNullable<ModuleMetadata['providers']> = [],
  ) {
    const { app, mqtt } = await compileMqttApp({ imports, logger, providers });
    open.push(app);
    await app.init();
    return { app, mqtt, logger };
  }

  async function expectDelivered(mqtt: MqttService, topic: string, payload: string) {
    const before = seen.messages.length;
    await mqtt.publish(topic, payload, { qos: 1 });
    const got = await seen.waitFor(before + 1);
    const match = got.slice(before).find((m) => m.topic === topic);
    expect(match?.payload.toString('utf8')).toBe(payload);
  }

  it('forRootAsync() with no arguments reads MQTT_* from a .env file and from process.env', async () => {
    const clientId = uid('cfg-dotenv');
    const file = envFile({
      MQTT_BROKER_URL: '127.0.0.1',
      MQTT_BROKER_PORT: 1, // overridden by the environment, as @nestjs/config does
      MQTT_CLIENT_ID: clientId,
      MQTT_KEEPALIVE: 17,
    });
    process.env.MQTT_BROKER_PORT = String(aedes.port);

    const { mqtt } = await start([
      ConfigModule.forRoot({ envFilePath: file }),
      MqttModule.forRootAsync(),
    ]);

    expect(mqtt.connected).toBe(true);
    expect(mqtt.state).toBe('connected');
    expect(mqtt.clientId).toBe(clientId);
    expect(connects.get(clientId)).toMatchObject({ clientId, keepalive: 17, clean: true });
    await expectDelivered(mqtt, 'cfg/dotenv', 'from .env and env');
  });

  it('forRootAsync() reads keys that a ConfigModule load() factory provides', async () => {
    const clientId = uid('cfg-load');
    const { mqtt } = await start([
      ConfigModule.forRoot({
        ignoreEnvFile: true,
        load: [
          () => ({
            MQTT_BROKER_URL: '127.0.0.1',
            MQTT_BROKER_PORT: aedes.port,
            MQTT_CLIENT_ID: clientId,
            MQTT_KEEPALIVE: 31,
          }),
        ],
      }),
      MqttModule.forRootAsync(),
    ]);
    expect(connects.get(clientId)).toMatchObject({ clientId, keepalive: 31 });
    await expectDelivered(mqtt, 'cfg/load', 'from load()');
  });

  it('forRootAsync() honours ConfigModule skipProcessEnv: a stray MQTT_* variable is not read', async () => {
    const clientId = uid('cfg-skip');
    process.env.MQTT_KEEPALIVE = '5'; // ConfigService is told not to look at process.env
    const { app } = await start([
      ConfigModule.forRoot({
        ignoreEnvFile: true,
        skipProcessEnv: true,
        load: [
          () => ({
            MQTT_BROKER_URL: '127.0.0.1',
            MQTT_BROKER_PORT: aedes.port,
            MQTT_CLIENT_ID: clientId,
          }),
        ],
      }),
      MqttModule.forRootAsync(),
    ]);
    expect(app.get(ConfigService).get('MQTT_KEEPALIVE')).toBeUndefined();
    expect(connects.get(clientId)).toMatchObject({ clientId, keepalive: 60 });
  });

  it('forRoot(options) takes native values (numbers and booleans)', async () => {
    const clientId = uid('cfg-native');
    const { mqtt } = await start([
      MqttModule.forRoot({
        MQTT_BROKER_URL: '127.0.0.1',
        MQTT_BROKER_PORT: aedes.port,
        MQTT_CLIENT_ID: clientId,
        MQTT_KEEPALIVE: 23,
        MQTT_CLEAN_SESSION: false,
        MQTT_LAST_WILL_TOPIC: 'cfg/will',
        MQTT_LAST_WILL_MESSAGE: 42,
        MQTT_LAST_WILL_QOS: 1,
        MQTT_LAST_WILL_RETAIN: false,
      }),
    ]);

    const packet = connects.get(clientId);
    expect(packet).toMatchObject({ clientId, keepalive: 23, clean: false });
    expect(packet?.will).toMatchObject({ topic: 'cfg/will', qos: 1, retain: false });
    expect(Buffer.from(packet!.will!.payload).toString()).toBe('42');
    await expectDelivered(mqtt, 'cfg/native', 'native values');
  });

  /** A provider of another module, as an app's own settings service would be. */
  @Injectable()
  class Settings {
    get port(): number {
      return aedes.port;
    }
  }
  @Module({ providers: [Settings], exports: [Settings] })
  class SettingsModule {}

  it('forRootAsync({ imports, inject, useFactory }) uses the factory', async () => {
    const clientId = uid('cfg-factory');
    const { mqtt } = await start([
      MqttModule.forRootAsync({
        imports: [SettingsModule],
        inject: [Settings],
        useFactory: async (settings: Settings): Promise<MqttModuleOptions> => {
          await new Promise((r) => setImmediate(r));
          return {
            MQTT_BROKER_URL: '127.0.0.1',
            MQTT_BROKER_PORT: settings.port,
            MQTT_CLIENT_ID: clientId,
          };
        },
      }),
    ]);
    expect(mqtt.clientId).toBe(clientId);
    expect(connects.has(clientId)).toBe(true);
    await expectDelivered(mqtt, 'cfg/factory', 'useFactory');
  });

  it('forRootAsync({ useClass }) instantiates the class inside the module, with its imports', async () => {
    const clientId = uid('cfg-class');
    @Injectable()
    class MqttOptions implements MqttOptionsFactory {
      constructor(@Inject(Settings) private readonly settings: Settings) {}
      createMqttOptions(): MqttModuleOptions {
        return {
          MQTT_BROKER_URL: '127.0.0.1',
          MQTT_BROKER_PORT: String(this.settings.port),
          MQTT_CLIENT_ID: clientId,
        };
      }
    }
    const { mqtt } = await start([
      MqttModule.forRootAsync({ imports: [SettingsModule], useClass: MqttOptions }),
    ]);
    expect(mqtt.clientId).toBe(clientId);
    expect(connects.has(clientId)).toBe(true);
    await expectDelivered(mqtt, 'cfg/class', 'useClass');
  });

  it('forRootAsync({ useExisting }) reuses the provider exported by an imported module', async () => {
    const clientId = uid('cfg-existing');
    @Injectable()
    class SharedOptions implements MqttOptionsFactory {
      calls = 0;
      createMqttOptions(): MqttModuleOptions {
        this.calls++;
        return {
          MQTT_BROKER_URL: '127.0.0.1',
          MQTT_BROKER_PORT: aedes.port,
          MQTT_CLIENT_ID: clientId,
        };
      }
    }
    @Module({ providers: [SharedOptions], exports: [SharedOptions] })
    class SharedOptionsModule {}

    const { app, mqtt } = await start([
      SharedOptionsModule,
      MqttModule.forRootAsync({ imports: [SharedOptionsModule], useExisting: SharedOptions }),
    ]);
    expect(app.get(SharedOptions).calls).toBe(1); // the one existing instance, not a new one
    expect(mqtt.clientId).toBe(clientId);
    await expectDelivered(mqtt, 'cfg/existing', 'useExisting');
  });

  it('ConfigModule.forRoot({ validate: validateMqttConfig }) converts good env to native values', async () => {
    const clientId = uid('cfg-validate');
    process.env.MQTT_BROKER_URL = ' 127.0.0.1 ';
    process.env.MQTT_BROKER_PORT = String(aedes.port);
    process.env.MQTT_CLIENT_ID = clientId;
    process.env.MQTT_CLEAN_SESSION = 'false';
    process.env.MQTT_KEEPALIVE = '0';

    const { app, mqtt } = await start([
      ConfigModule.forRoot({ ignoreEnvFile: true, validate: validateMqttConfig }),
      MqttModule.forRootAsync(),
    ]);
    const config = app.get(ConfigService);
    expect(config.get('MQTT_BROKER_PORT')).toBe(aedes.port);
    expect(config.get('MQTT_CLEAN_SESSION')).toBe(false);
    expect(config.get('MQTT_KEEPALIVE')).toBe(0);
    expect(connects.get(clientId)).toMatchObject({ clean: false, keepalive: 0 });
    await expectDelivered(mqtt, 'cfg/validated', 'validated');
  });

  it('ConfigModule.forRoot({ validate: validateMqttConfig }) rejects bad env at startup', async () => {
    process.env.MQTT_BROKER_PORT = '70000';
    process.env.MQTT_KEEPALIVE = 'soon';
    process.env.MQTT_USERNAME = USER;
    process.env.MQTT_PASSWORD = PASSWORD;
    const configModule = ConfigModule.forRoot({
      ignoreEnvFile: true,
      validate: validateMqttConfig,
    });
    configModule.catch(() => undefined); // awaited by Nest below; this only marks it handled

    const error = await rejectionOf(
      compileMqttApp({ imports: [configModule, MqttModule.forRootAsync()] }),
    );
    expect(error).toBeInstanceOf(MqttConfigError);
    const { issues, message } = error as MqttConfigError;
    expect(issues.map((i) => i.key)).toEqual(['MQTT_BROKER_PORT', 'MQTT_KEEPALIVE']);
    expect(message).toContain(
      'MQTT_BROKER_PORT must be a whole number from 1 to 65535, got "70000"',
    );
    expect(message).toContain('MQTT_KEEPALIVE must be a whole number from 0 to 65535, got "soon"');
    expect(everythingAbout(error)).not.toContain(PASSWORD);
  });

  it('bad configuration fails bootstrap with ONE MqttConfigError listing every invalid key', async () => {
    Object.assign(process.env, {
      MQTT_BROKER_URL: '127.0.0.1',
      MQTT_BROKER_PORT: 'abc',
      MQTT_KEEPALIVE: '-1',
      MQTT_LAST_WILL_TOPIC: 'cfg/will',
      MQTT_LAST_WILL_QOS: '3',
      MQTT_TLS_ENABLED: 'maybe',
      MQTT_USERNAME: USER,
      MQTT_PASSWORD: PASSWORD,
    });
    const logger = new CaptureLogger();
    const before = connects.size;

    const error = await rejectionOf(
      NestFactory.createApplicationContext(
        rootModule([ConfigModule.forRoot({ ignoreEnvFile: true }), MqttModule.forRootAsync()]),
        { logger, abortOnError: false },
      ),
    );

    expect(error).toBeInstanceOf(MqttConfigError);
    const { issues, message } = error as MqttConfigError;
    expect(issues.map((i) => i.key)).toEqual([
      'MQTT_BROKER_PORT',
      'MQTT_KEEPALIVE',
      'MQTT_TLS_ENABLED',
      'MQTT_LAST_WILL_QOS',
    ]);
    expect(message.split('\n')[0]).toBe('Invalid MQTT configuration: 4 problems.');
    expect(message).toContain(
      'MQTT_BROKER_PORT must be a whole number from 1 to 65535, got "abc".',
    );
    expect(message).toContain('MQTT_KEEPALIVE must be a whole number from 0 to 65535, got "-1".');
    expect(message).toContain('MQTT_LAST_WILL_QOS must be a whole number from 0 to 2, got "3".');
    expect(message).toContain('MQTT_TLS_ENABLED must be true or false');
    expect(message).toContain('got "maybe"');
    // Nest's ExceptionHandler logged that one error, and the module never tried to connect.
    const errorLines = logger.lines.filter((l) => l.level === 'error');
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0].inspected).toContain('Invalid MQTT configuration: 4 problems.');
    expect(connects.size).toBe(before);
    expect(everythingAbout(error)).not.toContain(PASSWORD);
    for (const line of logger.lines) expect(line.inspected).not.toContain(PASSWORD);
  });

  it('never shows the password, even when another key quotes it', async () => {
    Object.assign(process.env, {
      MQTT_BROKER_URL: `mqtt://${USER}:${PASSWORD}@127.0.0.1`,
      MQTT_LAST_WILL_TOPIC: `cfg/+/${PASSWORD}`,
      MQTT_USERNAME: USER,
      MQTT_PASSWORD: PASSWORD,
      MQTT_BROKER_PROTT: PASSWORD, // an unknown key whose value is the password
      // A value long enough to be cut when quoted: not even a prefix of the password may show.
      MQTT_DEAD_LETTER_TOPIC: `${'x'.repeat(70)}${PASSWORD}/#`,
    });
    const logger = new CaptureLogger();
    const error = await rejectionOf(
      NestFactory.createApplicationContext(
        rootModule([ConfigModule.forRoot({ ignoreEnvFile: true }), MqttModule.forRootAsync()]),
        { logger, abortOnError: false },
      ),
    );
    expect(error).toBeInstanceOf(MqttConfigError);
    const { issues } = error as MqttConfigError;
    expect(issues.map((i) => i.key)).toEqual([
      'MQTT_BROKER_URL',
      'MQTT_LAST_WILL_TOPIC',
      'MQTT_DEAD_LETTER_TOPIC',
    ]);
    expect(issues[0].message).toContain('must not contain a user name or password');
    expect(issues[1].message).toContain('without the wildcards + and #');
    expect(issues[1].message).toContain('***');
    expect(issues[2].message).toContain('without the wildcards + and #');
    const prefix = PASSWORD.slice(0, 6); // "s3cr3t": no part of the password, cut or whole
    expect(everythingAbout(error)).not.toContain(prefix);
    expect(logger.lines.length).toBeGreaterThan(0);
    for (const line of logger.lines) expect(line.inspected).not.toContain(prefix);
  });

  it('names a TLS file that does not exist with its key and path', async () => {
    const key = join(dir, 'client.key');
    writeFileSync(key, 'not really a key\n');
    const missingCa = join(dir, 'no-such-dir', 'ca.pem');
    Object.assign(process.env, {
      MQTT_BROKER_URL: '127.0.0.1',
      MQTT_BROKER_PORT: '8883',
      MQTT_TLS_ENABLED: 'true',
      MQTT_TLS_CA_CERTS: missingCa,
      MQTT_TLS_CERTFILE: 'missing-core/client.crt',
      MQTT_TLS_KEYFILE: key,
    });
    const error = await rejectionOf(
      compileMqttApp({
        imports: [ConfigModule.forRoot({ ignoreEnvFile: true }), MqttModule.forRootAsync()],
      }),
    );
    expect(error).toBeInstanceOf(MqttConfigError);
    const { issues } = error as MqttConfigError;
    expect(issues.map((i) => i.key)).toEqual(['MQTT_TLS_CA_CERTS', 'MQTT_TLS_CERTFILE']);
    expect(issues[0].message).toBe(
      `MQTT_TLS_CA_CERTS names the file ${JSON.stringify(missingCa)}, which does not exist: fix the path, or mount the file.`,
    );
    expect(issues[1].message).toContain(
      `MQTT_TLS_CERTFILE names the file "missing-core/client.crt" (${resolve('missing-core/client.crt')}), which does not exist`,
    );
  });

  it('an unknown key MQTT_BROKER_PROT in the .env file gives a startup warning naming MQTT_BROKER_PORT', async () => {
    const file = envFile({
      MQTT_BROKER_URL: '127.0.0.1',
      MQTT_BROKER_PORT: aedes.port,
      MQTT_BROKER_PROT: 1884,
    });
    const { mqtt, logger } = await start([
      ConfigModule.forRoot({ envFilePath: file }),
      MqttModule.forRootAsync(),
    ]);
    expect(mqtt.connected).toBe(true);
    expect(logger.mqtt('warn')).toContain(
      'MQTT_BROKER_PROT is not a known MQTT_* key and is ignored: did you mean MQTT_BROKER_PORT?',
    );
  });

  it("config warnings reach @OnMqttLog once, before connecting, and Nest's logger once, with the prefix of a named connection", async () => {
    const file = envFile({
      MQTT_BROKER_URL: '127.0.0.1',
      MQTT_BROKER_PORT: aedes.port,
      MQTT_BROKER_PROT: 1884,
      MQTT2_BROKER_URL: '127.0.0.1',
      MQTT2_BROKER_PORT: aedes.port,
      MQTT2_KEEPALIVF: 5,
    });
    const { app, logger } = await start(
      [
        ConfigModule.forRoot({ envFilePath: file }),
        MqttModule.forRootAsync(),
        MqttModule.forRootAsync({ name: 'backup', configPrefix: 'MQTT2' }),
      ],
      undefined,
      [LogListener],
    );
    const heard = app.get(LogListener).events;
    const typo =
      'MQTT_BROKER_PROT is not a known MQTT_* key and is ignored: did you mean MQTT_BROKER_PORT?';
    const prefixed = /^MQTT2_KEEPALIVF is not a known .*did you mean MQTT2_KEEPALIVE\?$/;
    // Exactly once each, on its own connection's bus, and before that connection's first line.
    const mine = (connection?: string) => heard.filter((e) => e.connection === connection);
    expect(mine(undefined).filter((e) => e.message === typo)).toHaveLength(1);
    expect(mine(undefined)[0]).toEqual({ type: 'log', level: 'warn', message: typo });
    expect(mine('backup').filter((e) => prefixed.test(e.message))).toHaveLength(1);
    expect(mine('backup')[0]).toMatchObject({
      level: 'warn',
      message: expect.stringMatching(prefixed),
    });
    expect(heard.filter((e) => /KEEPALIVF|BROKER_PROT/.test(e.message))).toHaveLength(2);
    // Nest's logger: once each, in the connection's context.
    const logged = (needle: string) => logger.lines.filter((l) => l.message.includes(needle));
    expect(logged('MQTT_BROKER_PROT')).toEqual([
      expect.objectContaining({ level: 'warn', context: 'MqttModule', message: typo }),
    ]);
    expect(logged('MQTT2_KEEPALIVF')).toEqual([
      expect.objectContaining({ level: 'warn', context: 'MqttModule:backup' }),
    ]);
    expect(logged('KEEPALIVF')).toHaveLength(1);
    // The listener heard exactly what the default connection logged, in the same order.
    const lines = logger.lines.filter((l) => l.context === 'MqttModule' && l.level !== 'debug');
    expect(mine(undefined).map((e) => `${e.level} ${e.message}`)).toEqual(
      lines.map((l) => `${l.level} ${l.message}`),
    );
  });

  describeWithMosquitto('with a Mosquitto that has users', () => {
    let mosquitto: MosquittoBroker;
    beforeAll(async () => {
      mosquitto = await startMosquitto({ users: { [USER]: USER_PASSWORD } });
    });
    afterAll(() => mosquitto.stop());

    it('keeps the password out of the error and of every log line when the broker refuses the login', async () => {
      const clientId = uid('cfg-badpw');
      const file = envFile({
        MQTT_BROKER_URL: '127.0.0.1',
        MQTT_BROKER_PORT: mosquitto.port,
        MQTT_CLIENT_ID: clientId,
        MQTT_USERNAME: USER,
        MQTT_PASSWORD: PASSWORD, // the wrong one
      });
      const logger = new CaptureLogger();
      const error = await rejectionOf(
        NestFactory.createApplicationContext(
          rootModule([ConfigModule.forRoot({ envFilePath: file }), MqttModule.forRootAsync()]),
          { logger, abortOnError: false },
        ),
      );
      expect(error).toBeInstanceOf(MqttConnectionError);
      expect((error as MqttConnectionError).code).toBe(5);
      expect(error.message).toContain(
        `The MQTT broker at mqtt://127.0.0.1:${mosquitto.port} refused the connection: not authorized.`,
      );
      // Mosquitto refused it (CONNACK return code 5) before learning the client id.
      expect(mosquitto.readLog()).toMatch(/Sending CONNACK to 127\.0\.0\.1 \(0, 5\)/);
      expect(everythingAbout(error)).not.toContain(PASSWORD);
      expect(logger.mqtt('log')).toContain(
        `Connecting to mqtt://127.0.0.1:${mosquitto.port} as client id "${clientId}"`,
      );
      for (const line of logger.lines) expect(line.inspected).not.toContain(PASSWORD);
    });

    it('"false" stays false: MQTT_CLEAN_SESSION=false gives a persistent session', async () => {
      const clientId = uid('cfg-persist');
      const file = envFile({
        MQTT_BROKER_URL: '127.0.0.1',
        MQTT_BROKER_PORT: mosquitto.port,
        MQTT_CLIENT_ID: clientId,
        MQTT_USERNAME: USER,
        MQTT_PASSWORD: USER_PASSWORD,
        MQTT_CLEAN_SESSION: 'false',
        MQTT_TLS_ENABLED: 'false',
        MQTT_CONNECT_IN_BACKGROUND: 'false',
      });
      const boot = async () => {
        const {
          app: moduleRef,
          mqtt,
          events,
          logger,
        } = await compileMqttApp({
          imports: [ConfigModule.forRoot({ envFilePath: file }), MqttModule.forRootAsync()],
        });
        open.push(moduleRef);
        await moduleRef.init();
        return { moduleRef, mqtt, events, logger };
      };

      const first = await boot();
      expect(first.events).toContainEqual({
        type: 'connect',
        sessionPresent: false,
        broker: expect.any(String),
      });
      await first.mqtt.subscribe('cfg/persist', () => undefined, { qos: 1 });
      await first.moduleRef.close();
      open.splice(open.indexOf(first.moduleRef), 1);

      const second = await boot();
      expect(second.events).toContainEqual({
        type: 'connect',
        sessionPresent: true,
        broker: expect.any(String),
      });
      expect(second.logger.mqtt('log')).toContain(
        `Connected to mqtt://127.0.0.1:${mosquitto.port} (session resumed)`,
      );
      const connected = mosquitto
        .readLog()
        .split('\n')
        .filter((l) => l.includes(`New client connected from`) && l.includes(` as ${clientId} `));
      expect(connected).toHaveLength(2);
      for (const line of connected) expect(line).toContain(`(p2, c0, k60, u'${USER}')`);
    });
  });
});
