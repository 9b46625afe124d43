/**
 * The MQTT_TLS_* keys against real mosquitto TLS listeners with a throw-away PKI: which broker
 * certificates are accepted or refused, client certificates, pinned versions and ciphers, and
 * the host-name check. Every "refused" case asserts the TLS reason in the bootstrap error.
 */
import { MqttConfigError, MqttConnectionError, type MqttModuleOptions } from 'nestjs-mqtt';
import type { MqttClient } from 'mqtt';
import type { TLSSocket } from 'node:tls';
import {
  OTHER_HOST_NAME,
  closeClient,
  collectMessages,
  connectClient,
  describeWithMosquitto,
  generateTestCerts,
  randomClientId,
  startMosquitto,
  type MosquittoBroker,
  type TestCerts,
} from './support';
import {
  connectLinePattern,
  failedBootstrap,
  keysAppStarter,
  waitForBrokerLog,
  type KeysApp,
} from './fixtures/keys-helpers';

// Jest applies the global testTimeout (5 s), not the e2e project's 30 s of jest.config.js; these
// suites restart brokers and spawn apps, on a busy 2-core machine.
jest.setTimeout(30_000);

const tlsSocketOf = (app: KeysApp) => app.mqtt.client.stream as unknown as TLSSocket;

describeWithMosquitto('MQTT_TLS_* keys on the wire (mosquitto TLS listeners)', () => {
  let certs: TestCerts;
  let good: MosquittoBroker;
  let wrongCa: MosquittoBroker;
  let otherHost: MosquittoBroker;
  let mutual: MosquittoBroker;
  let tls13: MosquittoBroker;
  let observer: MqttClient;
  const { start, closeAll } = keysAppStarter();
  /** TLS on `broker`'s TLS port by host name, as an env file would say it. */
  const tlsTo = (broker: MosquittoBroker, extra: MqttModuleOptions = {}): MqttModuleOptions => ({
    MQTT_BROKER_URL: 'localhost',
    MQTT_BROKER_PORT: String(broker.tlsPort),
    MQTT_TLS_ENABLED: 'true',
    MQTT_RECONNECT_PERIOD: '0',
    MQTT_CONNECTION_TIMEOUT: '3',
    ...extra,
  });

  beforeAll(async () => {
    certs = await generateTestCerts();
    [good, wrongCa, otherHost, mutual, tls13] = await Promise.all([
      startMosquitto({ tls: { certs } }),
      startMosquitto({ tls: { certs, serverCert: 'wrongCa' } }),
      startMosquitto({ tls: { certs, serverCert: 'otherHost' } }),
      startMosquitto({ tls: { certs, requireClientCert: true } }),
      startMosquitto({ tls: { certs, tlsVersion: 'tlsv1.3' } }),
    ]);
    observer = await connectClient(good.url);
  });

  afterEach(() => closeAll());

  afterAll(async () => {
    if (observer) await closeClient(observer);
    await Promise.all([good, wrongCa, otherHost, mutual, tls13].map((b) => b?.stop()));
  });

  it('MQTT_TLS_ENABLED=true + MQTT_TLS_CA_CERTS: connects to the TLS listener, verified, and carries messages', async () => {
    const id = randomClientId('tls-on');
    const app = await start(tlsTo(good, { MQTT_CLIENT_ID: id, MQTT_TLS_CA_CERTS: certs.caCert }));
    const socket = tlsSocketOf(app);
    expect(socket.encrypted).toBe(true);
    expect(socket.authorized).toBe(true);
    expect(socket.getPeerCertificate().subject.CN).toBe('localhost');
    await waitForBrokerLog(good, connectLinePattern(id));

    const inbox = await collectMessages(observer, 'tls/out');
    try {
      await app.mqtt.publish('tls/out', 'over-tls', { qos: 1 });
      const [message] = await inbox.waitFor(1);
      expect(message.payload.toString()).toBe('over-tls');
    } finally {
      inbox.stop();
    }
  });

  it('MQTT_BROKER_URL as an mqtts://host:port URL turns TLS on by itself', async () => {
    const id = randomClientId('tls-url');
    const app = await start({
      MQTT_BROKER_URL: `mqtts://127.0.0.1:${good.tlsPort}`,
      MQTT_TLS_CA_CERTS: certs.caCert,
      MQTT_CLIENT_ID: id,
    });
    expect(tlsSocketOf(app).authorized).toBe(true);
    await waitForBrokerLog(good, connectLinePattern(id));
  });

  it('MQTT_TLS_ENABLED unset: plain MQTT to the TLS listener gets no session', async () => {
    const { error } = await failedBootstrap({
      MQTT_BROKER_URL: 'localhost',
      MQTT_BROKER_PORT: String(good.tlsPort),
      MQTT_RECONNECT_PERIOD: '0',
      MQTT_CONNECTION_TIMEOUT: '2',
    });
    expect(error).toBeInstanceOf(MqttConnectionError);
    // The TLS listener hangs up on bytes that are not a TLS handshake.
    expect(error.message).toContain('ECONNRESET');
  });

  it('MQTT_TLS_CA_CERTS naming the wrong CA: the broker certificate is refused', async () => {
    const { error } = await failedBootstrap(tlsTo(good, { MQTT_TLS_CA_CERTS: certs.wrongCaCert }));
    expect(error).toBeInstanceOf(MqttConnectionError);
    expect(error.message).toMatch(/^TLS with the MQTT broker at localhost:\d+ failed: /);
    expect(error.message).toContain('self-signed certificate in certificate chain');
    expect(error.message).toContain('MQTT_TLS_CA_CERTS');
  });

  it('MQTT_TLS_CA_CERTS unset: the system trust store refuses our self-signed test CA', async () => {
    const { error } = await failedBootstrap(tlsTo(good));
    expect(error).toBeInstanceOf(MqttConnectionError);
    expect(error.message).toMatch(/^TLS with the MQTT broker at localhost:\d+ failed: /);
    expect(error.message).toContain('self-signed certificate in certificate chain');
    expect(error.message).toContain('MQTT_TLS_CA_CERTS');
  });

  it('MQTT_TLS_CERTFILE + MQTT_TLS_KEYFILE: a broker that requires a client certificate accepts ours', async () => {
    const id = randomClientId('tls-mutual');
    const app = await start(
      tlsTo(mutual, {
        MQTT_CLIENT_ID: id,
        MQTT_TLS_CA_CERTS: certs.caCert,
        MQTT_TLS_CERTFILE: certs.clientCert,
        MQTT_TLS_KEYFILE: certs.clientKey,
      }),
    );
    expect(app.mqtt.connected).toBe(true);
    expect(tlsSocketOf(app).getCertificate()).toMatchObject({ subject: { CN: 'test-client' } });
    await waitForBrokerLog(mutual, connectLinePattern(id));
  });

  it('MQTT_TLS_CERTFILE / MQTT_TLS_KEYFILE unset: the broker that requires a client certificate refuses us', async () => {
    const { error } = await failedBootstrap(tlsTo(mutual, { MQTT_TLS_CA_CERTS: certs.caCert }));
    expect(error).toBeInstanceOf(MqttConnectionError);
    expect(error.message).toMatch(/^TLS with the MQTT broker at localhost:\d+ failed: /);
    expect(error.message).toContain('tlsv13 alert certificate required');
  });

  it('MQTT_TLS_CERT_REQS=CERT_NONE accepts the wrong-CA broker (and warns)', async () => {
    const id = randomClientId('tls-none');
    const app = await start(
      tlsTo(wrongCa, { MQTT_CLIENT_ID: id, MQTT_TLS_CERT_REQS: 'CERT_NONE' }),
    );
    expect(app.mqtt.connected).toBe(true);
    expect(tlsSocketOf(app).authorized).toBe(false);
    await waitForBrokerLog(wrongCa, connectLinePattern(id));
    expect(app.logs.mqtt('warn').join('\n')).toContain('MQTT_TLS_CERT_REQS');
  });

  it('MQTT_TLS_CERT_REQS=CERT_REQUIRED refuses the wrong-CA broker', async () => {
    const { error } = await failedBootstrap(
      tlsTo(wrongCa, { MQTT_TLS_CA_CERTS: certs.caCert, MQTT_TLS_CERT_REQS: 'CERT_REQUIRED' }),
    );
    expect(error).toBeInstanceOf(MqttConnectionError);
    expect(error.message).toMatch(/^TLS with the MQTT broker at localhost:\d+ failed: /);
    expect(error.message).toContain('unable to verify the first certificate');
  });

  it('MQTT_TLS_CERT_REQS=CERT_OPTIONAL verifies like CERT_REQUIRED on a client: the wrong-CA broker is refused', async () => {
    const { error } = await failedBootstrap(
      tlsTo(wrongCa, { MQTT_TLS_CA_CERTS: certs.caCert, MQTT_TLS_CERT_REQS: 'CERT_OPTIONAL' }),
    );
    expect(error).toBeInstanceOf(MqttConnectionError);
    expect(error.message).toMatch(/^TLS with the MQTT broker at localhost:\d+ failed: /);
    expect(error.message).toContain('unable to verify the first certificate');
  });

  it('MQTT_TLS_VERSION=TLSv1.2 negotiates TLS 1.2 with a listener that offers 1.3', async () => {
    const app = await start(
      tlsTo(good, { MQTT_TLS_CA_CERTS: certs.caCert, MQTT_TLS_VERSION: 'TLSv1.2' }),
    );
    expect(tlsSocketOf(app).getProtocol()).toBe('TLSv1.2');
  });

  it('MQTT_TLS_VERSION=TLSv1.2 is refused by a `tls_version tlsv1.3` listener', async () => {
    const { error } = await failedBootstrap(
      tlsTo(tls13, { MQTT_TLS_CA_CERTS: certs.caCert, MQTT_TLS_VERSION: 'TLSv1.2' }),
    );
    expect(error).toBeInstanceOf(MqttConnectionError);
    expect(error.message).toMatch(/^TLS with the MQTT broker at localhost:\d+ failed: /);
    expect(error.message).toContain('alert protocol version');
  });

  it('MQTT_TLS_VERSION=TLSv1.3 connects to the TLS 1.3-only listener', async () => {
    const id = randomClientId('tls13');
    const app = await start(
      tlsTo(tls13, {
        MQTT_CLIENT_ID: id,
        MQTT_TLS_CA_CERTS: certs.caCert,
        MQTT_TLS_VERSION: 'TLSv1.3',
      }),
    );
    expect(tlsSocketOf(app).getProtocol()).toBe('TLSv1.3');
    await waitForBrokerLog(tls13, connectLinePattern(id));
  });

  it('MQTT_TLS_CIPHERS with a TLS 1.2 suite the broker supports (MQTT_TLS_VERSION=TLSv1.2) uses exactly that suite', async () => {
    const app = await start(
      tlsTo(good, {
        MQTT_TLS_CA_CERTS: certs.caCert,
        MQTT_TLS_VERSION: 'TLSv1.2',
        MQTT_TLS_CIPHERS: 'ECDHE-RSA-AES256-GCM-SHA384',
      }),
    );
    expect(tlsSocketOf(app).getCipher()).toMatchObject({
      name: 'ECDHE-RSA-AES256-GCM-SHA384',
      version: 'TLSv1.2',
    });
  });

  it('MQTT_TLS_CIPHERS with only suites an RSA-keyed broker cannot use fails the handshake', async () => {
    const { error } = await failedBootstrap(
      tlsTo(good, {
        MQTT_TLS_CA_CERTS: certs.caCert,
        MQTT_TLS_VERSION: 'TLSv1.2',
        MQTT_TLS_CIPHERS: 'ECDHE-ECDSA-AES128-GCM-SHA256',
      }),
    );
    expect(error).toBeInstanceOf(MqttConnectionError);
    expect(error.message).toMatch(/^TLS with the MQTT broker at localhost:\d+ failed: /);
    expect(error.message).toContain('alert handshake failure');
  });

  it('MQTT_TLS_CIPHERS naming no known cipher is refused at startup, with the key named', async () => {
    const { error } = await failedBootstrap(
      tlsTo(good, { MQTT_TLS_CA_CERTS: certs.caCert, MQTT_TLS_CIPHERS: 'NO-SUCH-CIPHER' }),
    );
    // Caught by validation, before anything connects.
    expect(error).toBeInstanceOf(MqttConfigError);
    const [issue] = (error as MqttConfigError).issues;
    expect(issue.key).toBe('MQTT_TLS_CIPHERS');
    expect(issue.message).toContain('"NO-SUCH-CIPHER"');
  });

  it('MQTT_TLS_INSECURE unset: a certificate for another host name is refused', async () => {
    const { error } = await failedBootstrap(tlsTo(otherHost, { MQTT_TLS_CA_CERTS: certs.caCert }));
    expect(error).toBeInstanceOf(MqttConnectionError);
    expect(error.message).toMatch(/^TLS with the MQTT broker at localhost:\d+ failed: /);
    expect(error.message).toContain(
      `Host: localhost. is not in the cert's altnames: DNS:${OTHER_HOST_NAME}`,
    );
  });

  it('MQTT_TLS_INSECURE=true: the other-host certificate is accepted and a warning is logged', async () => {
    const id = randomClientId('tls-insecure');
    const app = await start(
      tlsTo(otherHost, {
        MQTT_CLIENT_ID: id,
        MQTT_TLS_CA_CERTS: certs.caCert,
        MQTT_TLS_INSECURE: 'true',
      }),
    );
    expect(app.mqtt.connected).toBe(true);
    expect(tlsSocketOf(app).authorized).toBe(true);
    await waitForBrokerLog(otherHost, connectLinePattern(id));
    expect(app.logs.mqtt('warn')).toContain(
      "MQTT_TLS_INSECURE is true: host name verification is off, so the broker's certificate is not checked against its host name and anyone in the middle can pose as the broker. Do not use this in production.",
    );
  });
});
