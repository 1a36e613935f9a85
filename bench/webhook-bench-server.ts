/**
 * The bench's webhook in a process of its own, so that `npm run bench:webhook -- stall` measures the RSS of
 * the server alone. Its arguments are --webhook-* flags; it prints {"port", "cert"} as one line when it serves.
 */
import { startBenchWebhook } from './webhook-fixture.ts';

const { server, cert } = await startBenchWebhook(process.argv.slice(2));
console.log(JSON.stringify({ port: server.port, cert }));
