/**
 * An ObjectSink in memory, for tests and benchmarks that write a ledger without a disk. `kill()` makes every
 * call not yet done fail, as a process killed with -9 writes nothing more (what was written stays).
 */
import { checkKey, type ObjectSink } from '../ledger/sink.ts';

export class MemorySink implements ObjectSink {
  readonly url = 'memory://ledger';
  readonly objects: Map<string, Uint8Array>;
  /** Every key put, in order (a key written twice appears twice). */
  readonly puts: string[] = [];
  private killed = false;

  constructor(objects = new Map<string, Uint8Array>()) {
    this.objects = objects;
  }

  kill(): void {
    this.killed = true;
  }

  /** A sink on the same objects, alive: the next process on the same storage. */
  reopen(): MemorySink {
    return new MemorySink(this.objects);
  }

  put(key: string, body: Uint8Array): Promise<void> {
    return this.run(() => {
      this.puts.push(key);
      this.objects.set(checkKey(key), new Uint8Array(body));
    });
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.run(() => this.objects.get(checkKey(key)));
  }

  list(prefix: string): Promise<string[]> {
    return this.run(() => [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort());
  }

  delete(key: string): Promise<void> {
    return this.run(() => void this.objects.delete(checkKey(key)));
  }

  /** Takes effect a turn of the event loop later, as I/O does: a kill before then loses it. */
  private async run<T>(operation: () => T): Promise<T> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.killed) throw new Error('the process was killed');
    return operation();
  }
}
