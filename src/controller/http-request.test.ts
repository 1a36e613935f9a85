import { createServer, type Server, type Socket } from 'node:net';
import { Agent } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { readText, send } from './http-request.ts';

/**
 * A raw HTTP/1.1 server that answers the first request of each connection with keep-alive, and resets the
 * connection on its second request: what a server closing an idle connection looks like to the client that
 * reuses it at that moment.
 */
let server: Server | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server?.close(r));
});

async function resettingServer(): Promise<{ url: URL; requests: string[] }> {
  const requests: string[] = [];
  server = createServer((socket) => {
    sockets.push(socket);
    let served = 0;
    socket.on('data', (data) => {
      const line = data.toString('latin1').split('\r\n')[0] ?? '';
      if (served++ > 0) {
        socket.resetAndDestroy();
        return;
      }
      requests.push(line);
      socket.write(
        'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok',
      );
    });
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: new URL(`http://127.0.0.1:${String(port)}/x`), requests };
}

describe('send', () => {
  it('sends a request again on a fresh connection when a reused one was reset before any answer', async () => {
    const { url, requests } = await resettingServer();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    expect(await readText(await send(url, { agent }))).toBe('ok');
    expect(await readText(await send(url, { agent, method: 'PATCH', body: '{}' }))).toBe('ok');
    expect(requests).toEqual(['GET /x HTTP/1.1', 'PATCH /x HTTP/1.1']);
    agent.destroy();
  });

  it('does not send a create twice: the reset is reported', async () => {
    const { url, requests } = await resettingServer();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    await readText(await send(url, { agent }));
    await expect(send(url, { agent, method: 'POST', body: '{}' })).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(requests).toEqual(['GET /x HTTP/1.1']);
    agent.destroy();
  });
});
