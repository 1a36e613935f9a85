/** Servers that tests start as child processes: free loopback ports to give them, and a stop that does not hang. */
import type { ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** One port per name, as the kernel hands them out for port 0, all held at once so that they differ. */
export async function freePorts<Name extends string>(names: readonly Name[]): Promise<Record<Name, number>> {
  const servers = await Promise.all(
    names.map(
      () =>
        new Promise<Server>((done, fail) => {
          const server = createServer();
          server.once('error', fail);
          server.listen(0, '127.0.0.1', () => done(server));
        }),
    ),
  );
  const ports = {} as Record<Name, number>;
  names.forEach((name, i) => {
    const address = servers[i]?.address();
    if (!address || typeof address === 'string') throw new Error('a listening socket without a TCP port');
    ports[name] = address.port;
  });
  await Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
  return ports;
}

/** SIGTERM, then SIGKILL after `graceMs`: a test's server holds nothing worth a long graceful stop. */
export async function stopProcess(child: ChildProcess, graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  const exitedInTime = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!exitedInTime) {
    child.kill('SIGKILL');
    await exited;
  }
}
