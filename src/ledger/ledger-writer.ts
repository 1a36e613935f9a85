/**
 * Writes the accrual's output to the sink off the accounting cycle's critical path: the cycle queues what it
 * produced and returns; one drain at a time writes, in order, each finished window (its file, then the state
 * snapshot through it) and then the open window's piece. A failed write stops the drain and stays queued,
 * to be retried when the next cycle queues more; a newer piece replaces a piece not yet written. Each write
 * replaces an object whole (store.ts), so a retry never adds.
 */
import type { Logger } from 'pino';
import { errorSummary } from '../controller/errors.ts';
import type { AccrualOutput, Snapshot, WindowOutput } from './accrual.ts';
import { snapshotJson, storedTargetsMetadata } from './durable.ts';
import type { LedgerRow } from './row.ts';
import type { LedgerStore } from './store.ts';

export interface LedgerWriterDeps {
  readonly store: LedgerStore;
  readonly clusterId: string;
  /** The open window's piece: one key for every leader, so a new leader's piece replaces the last one's. */
  readonly pieceId: string;
  readonly log: Logger;
  readonly onError: () => void;
  /** A window's file was written (compacted); its start in epoch seconds. */
  readonly onWindowWritten: (windowStartSeconds: number) => void;
}

type Write =
  | { readonly kind: 'window'; readonly window: WindowOutput | CompactedWindow }
  | { readonly kind: 'snapshot'; readonly snapshot: Snapshot };

interface CompactedWindow {
  readonly windowStartMs: number;
  readonly rows: LedgerRow[];
  readonly targets?: undefined;
}

export class LedgerWriter {
  private readonly queue: Write[] = [];
  private piece: WindowOutput | undefined;
  private running: Promise<void> | undefined;
  private readonly deps: LedgerWriterDeps;

  constructor(deps: LedgerWriterDeps) {
    this.deps = deps;
  }

  /** Queues a cycle's output and starts writing it unless a drain is under way (which then takes it too). */
  enqueue(output: AccrualOutput): void {
    for (const { window, snapshot } of output.finished) {
      this.queue.push({ kind: 'window', window }, { kind: 'snapshot', snapshot });
    }
    if (output.current) this.piece = output.current;
    this.kick();
  }

  /** Queues an old window left as pieces, to be written whole as it is (see durable.ts loadLedger). */
  compact(windowStartMs: number, rows: LedgerRow[]): void {
    this.queue.push({ kind: 'window', window: { windowStartMs, rows } });
    this.kick();
  }

  /** Forgets what is queued (a new leader resumes from the sink). */
  clear(): void {
    this.queue.length = 0;
    this.piece = undefined;
  }

  /** Resolves once the current drain has ended (written everything, or stopped at a failure). */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Starts a drain a turn of the event loop later: encoding the Parquet is not the cycle's work. */
  private kick(): void {
    this.running ??= new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.drain())
      .finally(() => (this.running = undefined));
  }

  private async drain(): Promise<void> {
    const { store, clusterId, pieceId, log } = this.deps;
    for (;;) {
      const next = this.queue[0];
      const piece = this.piece;
      try {
        if (next) {
          await this.write(next);
          this.queue.shift();
        } else if (piece) {
          if (piece.rows.length > 0)
            await store.writePiece(
              clusterId,
              piece.windowStartMs,
              pieceId,
              piece.rows,
              storedTargetsMetadata(piece.targets),
            );
          if (this.piece === piece) this.piece = undefined;
        } else return;
      } catch (error) {
        this.deps.onError();
        log.error(
          { err: errorSummary(error), sink: store.url, queued: this.queue.length },
          'ledger write failed; retrying next cycle',
        );
        return;
      }
    }
  }

  private async write(item: Write): Promise<void> {
    const { store, clusterId } = this.deps;
    if (item.kind === 'snapshot') {
      await store.writeState(clusterId, snapshotJson(clusterId, item.snapshot));
      return;
    }
    const { window } = item;
    // An empty window has no pieces to replace and no rows to keep: nothing is written.
    if (window.rows.length === 0) return;
    const metadata = window.targets ? storedTargetsMetadata(window.targets) : undefined;
    await store.writeWindow(clusterId, window.windowStartMs, window.rows, metadata);
    this.deps.onWindowWritten(window.windowStartMs / 1000);
  }
}
