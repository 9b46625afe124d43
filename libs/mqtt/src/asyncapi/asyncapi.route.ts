import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AsyncApiDocument } from './asyncapi.interfaces';

/**
 * An HTTP handler serving the AsyncAPI document as JSON, for any server built on node:http:
 * Express (`app.getHttpAdapter().get('/asyncapi.json', handler)` in a Nest HTTP app), Fastify's
 * raw handlers, or `http.createServer()`. GET and HEAD are answered (200, `application/json`);
 * other methods get 405. Given a function, it is called once, on the first request.
 *
 * @example
 * const app = await NestFactory.create(AppModule);
 * app.getHttpAdapter().get('/asyncapi.json', asyncApiHandler(() => generateAsyncApi(app)));
 */
export function asyncApiHandler(
  document: AsyncApiDocument | (() => AsyncApiDocument),
): (req: IncomingMessage, res: ServerResponse) => void {
  let body: string | undefined;
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      res.end(
        `The AsyncAPI document is served to GET requests, not ${req.method ?? 'this method'}`,
      );
      return;
    }
    body ??= JSON.stringify(typeof document === 'function' ? document() : document, null, 2);
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
