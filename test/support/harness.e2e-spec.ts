import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

import type { MqttClient } from 'mqtt';

import {
  closeClient,
  collectMessages,
  connectClient,
  describeWithMosquitto,
  freePort,
  generateTestCerts,
  mosquittoPub,
  mosquittoSub,
  nextMessage,
  OTHER_HOST_NAME,
  rejectionOf,
  startAedes,
  startMosquitto,
  topicMatches,
  type AedesBroker,
  type MosquittoBroker,
  type TestCerts,
} from './index';

/**
 * The error of a connection that must be refused (a connection made after all is closed).
 * MQTT.js refusal errors carry the CONNACK return / reason code as `code`.
 */
function refusal(promise: Promise<MqttClient>): Promise<Error & { code?: unknown }> {
  return rejectionOf(promise.then((client) => closeClient(client)));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('test support harness', () => {
  const clients: MqttClient[] = [];
  const track = (client: MqttClient): MqttClient => {
    clients.push(client);
    return client;
  };
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => closeClient(client)));
  });

  describe('ports and topic matching', () => {
    it('freePort returns a port that can be bound on 127.0.0.1', async () => {
      const port = await freePort();
      expect(port).toBeGreaterThan(0);
      const server = createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', resolve);
      });
      await new Promise((resolve) => server.close(resolve));
    });

    it('topicMatches follows MQTT wildcard rules', () => {
      expect(topicMatches('a/+/c', 'a/b/c')).toBe(true);
      expect(topicMatches('a/#', 'a')).toBe(true);
      expect(topicMatches('a/#', 'a/b/c')).toBe(true);
      expect(topicMatches('a/+', 'a/b/c')).toBe(false);
      expect(topicMatches('#', '$SYS/broker/uptime')).toBe(false);
      expect(topicMatches('$share/g/a/+', 'a/b')).toBe(true);
    });
  });

  describe('aedes', () => {
    let aedes: AedesBroker;
    beforeAll(async () => {
      aedes = await startAedes({ websocket: true });
    });
    afterAll(async () => {
      await aedes.stop();
    });

    it('round-trips a message over TCP', async () => {
      expect(aedes.url).toBe(`mqtt://127.0.0.1:${aedes.port}`);
      const sub = track(await connectClient(aedes.url));
      const pub = track(await connectClient(aedes.url));
      const collector = await collectMessages(sub, 'harness/tcp/+', { qos: 1 });
      const first = nextMessage(sub, 'harness/tcp/one', { subscribe: false });
      await pub.publishAsync('harness/tcp/one', 'hello', { qos: 1 });
      await pub.publishAsync('harness/other', 'ignored');
      await pub.publishAsync('harness/tcp/two', 'world', { qos: 1 });
      expect((await first).payload.toString()).toBe('hello');
      const messages = await collector.waitFor(2);
      collector.stop();
      expect(messages.map((m) => [m.topic, m.payload.toString()])).toEqual([
        ['harness/tcp/one', 'hello'],
        ['harness/tcp/two', 'world'],
      ]);
      expect(messages[0].packet.qos).toBe(1);
    });

    it('round-trips a message over WebSocket', async () => {
      expect(aedes.wsUrl).toBe(`ws://127.0.0.1:${aedes.wsPort}/mqtt`);
      const wsClient = track(await connectClient(aedes.wsUrl!));
      const tcpClient = track(await connectClient(aedes.url));
      const collector = await collectMessages(wsClient, 'harness/ws');
      await tcpClient.publishAsync('harness/ws', 'via-ws');
      const [message] = await collector.waitFor(1);
      expect(message.payload.toString()).toBe('via-ws');
      // and the other way round
      const back = await collectMessages(tcpClient, 'harness/ws-back');
      await wsClient.publishAsync('harness/ws-back', 'from-ws');
      const [reply] = await back.waitFor(1);
      expect(reply.payload.toString()).toBe('from-ws');
    });

    it('nextMessage rejects with a clear message on timeout', async () => {
      const client = track(await connectClient(aedes.url));
      await expect(nextMessage(client, 'harness/silence', { timeout: 200 })).rejects.toThrow(
        'Timed out after 200 ms waiting for a message on "harness/silence"',
      );
    });

    it('authenticate refuses bad credentials with code 5', async () => {
      const secured = await startAedes({
        authenticate: (_client, username, password) =>
          username === 'bob' && password?.toString() === 'pw',
      });
      try {
        track(await connectClient(secured.url, { username: 'bob', password: 'pw' }));
        const err = await refusal(connectClient(secured.url, { username: 'bob', password: 'x' }));
        expect(err.code).toBe(5);
      } finally {
        await Promise.all(clients.splice(0).map((client) => closeClient(client)));
        await secured.stop();
      }
    });
  });

  describeWithMosquitto('mosquitto', () => {
    let certs: TestCerts;
    const brokers: MosquittoBroker[] = [];
    const start = async (
      options: Parameters<typeof startMosquitto>[0] = {},
    ): Promise<MosquittoBroker> => {
      const broker = await startMosquitto(options);
      brokers.push(broker);
      return broker;
    };
    const pids: number[] = [];

    beforeAll(async () => {
      certs = await generateTestCerts();
    });
    afterAll(async () => {
      await Promise.all(clients.splice(0).map((client) => closeClient(client)));
      pids.push(...brokers.map((broker) => broker.pid));
      await Promise.all(brokers.map((broker) => broker.stop()));
      expect(pids.filter(isAlive)).toEqual([]);
    });

    it('starts with a log, maxInflight and extra lines, and mosquittoPub reaches MQTT.js', async () => {
      const broker = await start({ maxInflight: 5, extra: ['max_keepalive 120'] });
      expect(broker.url).toBe(`mqtt://127.0.0.1:${broker.port}`);
      expect(broker.host).toBe('127.0.0.1');
      expect(isAlive(broker.pid)).toBe(true);
      expect(readFileSync(broker.configFile, 'utf8')).toMatch(/max_inflight_messages 5/);

      const sub = track(await connectClient(broker.url));
      const collector = await collectMessages(sub, 'harness/cli/+'); // resolves after SUBACK
      await mosquittoPub([
        '-h',
        '127.0.0.1',
        '-p',
        `${broker.port}`,
        '-t',
        'harness/cli/pub',
        '-m',
        'from-cli',
        '-q',
        '1',
      ]);
      const [message] = await collector.waitFor(1);
      collector.stop();
      expect(message.topic).toBe('harness/cli/pub');
      expect(message.payload.toString()).toBe('from-cli');
      expect(broker.readLog()).toMatch(/mosquitto version .* running/);
      expect(broker.readLog()).toMatch(
        /Received PUBLISH from .* \(d0, q1, r0, m\d+, 'harness\/cli\/pub'/,
      );
    });

    it('mosquittoSub receives what MQTT.js publishes; mosquittoPub reports failures', async () => {
      const broker = await start();
      const sub = mosquittoSub([
        '-h',
        '127.0.0.1',
        '-p',
        `${broker.port}`,
        '-t',
        'harness/sub',
        '-d',
      ]);
      try {
        await sub.waitForLine(/^Subscribed \(mid: \d+\): 0$/);
        const pub = track(await connectClient(broker.url));
        await pub.publishAsync('harness/sub', 'line-1');
        await pub.publishAsync('harness/sub', 'line-2');
        await sub.waitForLine(/^line-2$/);
        expect(sub.lines.filter((line) => line.startsWith('line-'))).toEqual(['line-1', 'line-2']);
      } finally {
        await sub.stop();
      }
      expect(sub.proc.exitCode !== null || sub.proc.signalCode !== null).toBe(true);
      await expect(
        mosquittoPub(['-h', '127.0.0.1', '-p', `${await freePort()}`, '-t', 'x', '-m', 'y']),
      ).rejects.toThrow(/mosquitto_pub .* failed \(code \d+/);
    });

    it('authenticates users from a password file', async () => {
      const broker = await start({ users: { alice: 'secret', bob: 'hunter2' } });
      track(await connectClient(broker.url, { username: 'alice', password: 'secret' }));
      track(await connectClient(broker.url, { username: 'bob', password: 'hunter2' }));

      const wrong = await refusal(
        connectClient(broker.url, { username: 'alice', password: 'wrong' }),
      );
      expect([4, 5]).toContain(wrong.code); // mosquitto 2.0 answers 5, Not authorized
      expect(wrong.message).toMatch(/Not authorized|Bad username or password/);

      const anonymous = await refusal(connectClient(broker.url));
      expect([4, 5]).toContain(anonymous.code);

      const wrongV5 = await refusal(
        connectClient(broker.url, { username: 'alice', password: 'wrong', protocolVersion: 5 }),
      );
      expect([134, 135]).toContain(wrongV5.code); // MQTT 5 reason code 0x87 = 135
    });

    it('serves TLS with the generated certificates and refuses a wrong CA', async () => {
      const broker = await start({ tls: { certs } });
      expect(broker.tlsUrl).toBe(`mqtts://127.0.0.1:${broker.tlsPort}`);
      const url = `mqtts://localhost:${broker.tlsPort}`;
      const ok = track(await connectClient(url, { ca: readFileSync(certs.caCert) }));
      expect(ok.connected).toBe(true);
      track(await connectClient(broker.tlsUrl!, { ca: readFileSync(certs.caCert) }));

      const wrongCa = await refusal(connectClient(url, { ca: readFileSync(certs.wrongCaCert) }));
      expect(wrongCa.code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/);
      // the plain listener still works next to the TLS one
      track(await connectClient(broker.url));
    });

    it('presents a certificate for another host: refused by name, accepted when insecure', async () => {
      const broker = await start({
        tls: { certs, serverCert: 'otherHost' },
      });
      const url = `mqtts://localhost:${broker.tlsPort}`;
      const err = await refusal(connectClient(url, { ca: readFileSync(certs.caCert) }));
      expect(err.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
      track(
        await connectClient(url, { ca: readFileSync(certs.caCert), rejectUnauthorized: false }),
      );
      track(
        await connectClient(url, { ca: readFileSync(certs.caCert), servername: OTHER_HOST_NAME }),
      );
    });

    it('requires a client certificate when asked to', async () => {
      const broker = await start({
        tls: { certs, requireClientCert: true, tlsVersion: 'tlsv1.3' },
      });
      const url = `mqtts://localhost:${broker.tlsPort}`;
      const ca = readFileSync(certs.caCert);
      const err = await refusal(connectClient(url, { ca }));
      // TLS 1.3: the handshake completes, then the server alerts "certificate required".
      expect(String(err.code)).toMatch(/CERTIFICATE_REQUIRED|ECONNRESET|EPROTO/);
      const client = track(
        await connectClient(url, {
          ca,
          cert: readFileSync(certs.clientCert),
          key: readFileSync(certs.clientKey),
        }),
      );
      expect(client.connected).toBe(true);
      // tls_version is the minimum: a TLS 1.2-only client is refused by a tlsv1.3 listener.
      const old = await refusal(
        connectClient(url, {
          ca,
          cert: readFileSync(certs.clientCert),
          key: readFileSync(certs.clientKey),
          maxVersion: 'TLSv1.2',
        }),
      );
      expect(old.code).toBe('EPROTO');
      const wrongServer = await start({ tls: { certs, serverCert: 'wrongCa' } });
      const refused = await refusal(
        connectClient(`mqtts://localhost:${wrongServer.tlsPort}`, { ca }),
      );
      expect(refused.code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/);
    });

    it('restart() comes back on the same ports, keeping persisted retained messages', async () => {
      const broker = await start({ persistence: true, tls: { certs } });
      const { port, tlsPort, pid } = broker;
      const pub = await connectClient(broker.url);
      await pub.publishAsync('harness/retained', 'kept', { qos: 1, retain: true });
      await closeClient(pub);

      const watcher = track(await connectClient(broker.url));
      const dropped = new Promise<void>((resolve) => watcher.once('close', () => resolve()));
      await broker.restart();
      await dropped;
      expect(broker.port).toBe(port);
      expect(broker.tlsPort).toBe(tlsPort);
      expect(broker.pid).not.toBe(pid);
      expect(isAlive(pid)).toBe(false);
      expect(broker.running).toBe(true);

      const sub = track(await connectClient(broker.url));
      const retained = await nextMessage(sub, 'harness/retained');
      expect(retained.payload.toString()).toBe('kept');
      expect(retained.packet.retain).toBe(true);
      track(await connectClient(broker.tlsUrl!, { ca: readFileSync(certs.caCert) }));
      expect(broker.readLog().match(/mosquitto version .* starting/g)).toHaveLength(2);

      await broker.kill();
      expect(broker.running).toBe(false);
      expect(isAlive(broker.pid)).toBe(false);
      await broker.restart();
      expect(broker.port).toBe(port);
      track(await connectClient(broker.url));
    });
  });
});
