import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AsyncApiDocument } from './asyncapi.interfaces';
import { asyncApiHandler } from './asyncapi.route';

const DOC: AsyncApiDocument = {
  asyncapi: '3.0.0',
  info: { title: 'Route', version: '1.0.0' },
  defaultContentType: 'application/json',
  channels: {},
  operations: {},
  components: { messages: {}, schemas: {} },
};

describe('asyncApiHandler (HTTP route serving the document)', () => {
  let server: Server;
  let url: string;
  let builds = 0;
  beforeAll(async () => {
    server = createServer(
      asyncApiHandler(() => {
        builds++;
        return DOC;
      }),
    );
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/asyncapi.json`;
  });
  afterAll(() => new Promise<void>((done) => server.close(() => done())));

  it('serves the document as JSON to GET, building it once', async () => {
    const first = await fetch(url);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await first.json()).toEqual(DOC);
    await (await fetch(url)).text();
    expect(builds).toBe(1);
  });

  it('answers HEAD without a body, and refuses other methods with 405 and Allow', async () => {
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBe(JSON.stringify(DOC, null, 2).length);
    const post = await fetch(url, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect(await post.text()).toBe('The AsyncAPI document is served to GET requests, not POST');
  });
});
