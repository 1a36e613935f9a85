/** /metrics on the metrics port; /healthz and /readyz on the health port (one server when the ports match). */
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

/** A probe: healthy or not, with a line of detail for humans. */
export type Probe = () => { ready: boolean; detail: string };

export function startHttpServers(options: {
  bindAddress: string;
  metricsPort: number;
  healthPort: number;
  registry: Registry;
  healthy: Probe;
  ready: Probe;
}): Promise<{ servers: Server[]; metricsPort: number; healthPort: number }> {
  const handler = (serveMetrics: boolean, serveHealth: boolean) =>
    createServer((req, res) => {
      const url = req.url?.split('?')[0];
      if (serveMetrics && url === '/metrics') {
        options.registry
          .metrics()
          .then((text) => {
            res.writeHead(200, { 'content-type': options.registry.contentType });
            res.end(text);
          })
          .catch((error: unknown) => {
            res.writeHead(500);
            res.end(String(error));
          });
        return;
      }
      if (serveHealth && (url === '/healthz' || url === '/readyz')) {
        const result = url === '/healthz' ? options.healthy() : options.ready();
        res.writeHead(result.ready ? 200 : 503, { 'content-type': 'text/plain' });
        res.end(`${result.ready ? 'ok' : 'not ready'}: ${result.detail}\n`);
        return;
      }
      res.writeHead(404);
      res.end();
    });
  const listen = (server: Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, options.bindAddress, () => {
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  if (options.metricsPort === options.healthPort && options.metricsPort !== 0) {
    const server = handler(true, true);
    return listen(server, options.metricsPort).then((port) => ({
      servers: [server],
      metricsPort: port,
      healthPort: port,
    }));
  }
  const metrics = handler(true, false);
  const health = handler(false, true);
  return Promise.all([listen(metrics, options.metricsPort), listen(health, options.healthPort)]).then(
    ([metricsPort, healthPort]) => ({
      servers: [metrics, health],
      metricsPort,
      healthPort,
    }),
  );
}
