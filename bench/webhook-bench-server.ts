/**
 * The bench's webhook in a process of its own, so that `npm run bench:webhook -- stall` measures the RSS of
 * the server alone. Its arguments are --webhook-* flags; it prints {"port", "cert"} as one line when it serves.
 */
import { startBenchWebhook } from './webhook-fixture.ts';

// BENCH_GPU_NODES and BENCH_BUDGETS: the fleet to price pods on and the exceeded budgets (the rate mode's).
const { server, cert } = await startBenchWebhook(
  process.argv.slice(2),
  Number(process.env.BENCH_GPU_NODES ?? 0),
  Number(process.env.BENCH_BUDGETS ?? 0),
);
console.log(JSON.stringify({ port: server.port, cert }));
