/**
 * Streams one array out of a JSON document: each element is parsed and handed over as soon as its bytes have
 * arrived, and everything outside the array (a list's metadata, a query's status) is parsed at the end.
 *
 * Why: parsing a whole answer (a page of 500 pods, or a Prometheus matrix with a series per GPU of the fleet)
 * first builds the full text and then every object in it, so the peak is several times the size of what the
 * caller keeps (a compact projection). V8 keeps the heap it grew for that peak, and resident memory with it.
 * Element by element, the peak is one network chunk and one element.
 *
 * The scanner works on bytes: the structural characters of JSON are ASCII and never occur inside a multi-byte
 * UTF-8 sequence, so elements are cut without decoding, then each is decoded and parsed by JSON.parse.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

interface Frame {
  readonly object: boolean;
  /** In an object: the last key read, and whether the next string is a key. */
  key: string | undefined;
  expectKey: boolean;
}

export class JsonStreamError extends Error {
  override readonly name = 'JsonStreamError';
}

export class JsonArrayStream {
  private readonly path: readonly string[];
  private readonly onElement: (element: unknown) => void;
  private readonly decoder = new TextDecoder();
  private readonly stack: Frame[] = [];
  /** The document without the array's elements, kept as byte slices. */
  private readonly skeleton: Uint8Array[] = [];
  /** Bytes of the element being read (it may span chunks). */
  private element: Uint8Array[] = [];
  /** Bytes of a string outside the array that may be a key. */
  private keyBytes: Uint8Array[] | undefined;
  private inString = false;
  private escaped = false;
  /** -1: outside the array; 0: in the array between elements; 1: reading an element. */
  private arrayState = -1;
  /** Between elements, what was last read: the array's "[" (0), an element (1) or a comma (2). */
  private between = 0;
  private depth = 0;
  /** Where the current run (skeleton, key or element) began in the chunk being written. */
  private runStart = 0;
  private found = false;
  private count = 0;

  constructor(path: readonly string[], onElement: (element: unknown) => void) {
    this.path = path;
    this.onElement = onElement;
  }

  write(chunk: Uint8Array): void {
    const n = chunk.length;
    let i = 0;
    this.runStart = 0;
    while (i < n) {
      if (this.arrayState === 1) {
        const separatorAt = this.scanElement(chunk, i);
        if (separatorAt < 0) break;
        this.element.push(chunk.subarray(this.runStart, separatorAt));
        this.emit();
        this.runStart = separatorAt;
        this.arrayState = 0;
        this.between = 1;
        i = separatorAt; // the separator is handled as "between elements"
      } else if (this.inString) i = this.readSkeletonStringByte(chunk, i);
      else if (this.arrayState === 0) i = this.readBetweenElementsByte(chunk, i);
      else i = this.readSkeletonByte(chunk, i);
    }
    // Keep the rest of the chunk for whatever is being read.
    const start = this.runStart;
    if (start < n) {
      if (this.keyBytes) this.keyBytes.push(chunk.subarray(start, n));
      else if (this.arrayState === 1) this.element.push(chunk.subarray(start, n));
      else if (this.arrayState === -1) this.skeleton.push(chunk.subarray(start, n));
    }
  }

  /** Parses what was outside the array (with the array left empty) and returns it. */
  end(): unknown {
    if (this.inString || this.arrayState !== -1 || this.stack.length > 0) {
      throw new JsonStreamError('the JSON document ended early');
    }
    const text = this.skeleton.map((part) => this.decoder.decode(part, { stream: true })).join('');
    try {
      return JSON.parse(text + this.decoder.decode());
    } catch (cause) {
      throw new JsonStreamError(`malformed JSON: ${(cause as Error).message}`, { cause });
    }
  }

  private endKey(): void {
    const parts = this.keyBytes ?? [];
    this.keyBytes = undefined;
    this.skeleton.push(...parts);
    const frame = this.stack[this.stack.length - 1];
    if (!frame) return;
    try {
      frame.key = JSON.parse(Buffer.concat(parts).toString('utf8')) as string;
    } catch {
      frame.key = undefined;
    }
    // JSON.parse keeps the last of duplicate keys, but the elements of the first array were handed over already.
    if (this.found && this.onPath()) {
      throw new JsonStreamError(`malformed JSON: the key "${String(frame.key)}" of the streamed array repeats`);
    }
  }

  /** Whether every object frame, down to the top one, holds the key of the path at its depth. */
  private onPath(): boolean {
    const depth = this.stack.length;
    if (depth > this.path.length) return false;
    for (let i = 0; i < depth; i++) {
      const frame = this.stack[i];
      if (frame?.object !== true || frame.key !== this.path[i]) return false;
    }
    return true;
  }

  private atPath(): boolean {
    // The new array frame is on top; below it, one object frame per path segment.
    if (this.stack.length !== this.path.length + 1) return false;
    return this.path.every((key, index) => {
      const frame = this.stack[index];
      return frame?.object === true && frame.key === key;
    });
  }

  /**
   * Inside an element only strings and depth matter, until a comma or a bracket at depth 0: returns where that
   * separator is, or -1 when the element goes on past this chunk.
   */
  private scanElement(chunk: Uint8Array, from: number): number {
    // A plain loop over the bytes with the scanner's state in locals: strings are short (label names and
    // values), and a native indexOf per string cost three times what the loop does.
    const n = chunk.length;
    let inString = this.inString;
    let escaped = this.escaped;
    let depth = this.depth;
    let separatorAt = -1;
    for (let i = from; i < n; i++) {
      const c = chunk[i] as number;
      if (inString) {
        if (escaped) escaped = false;
        else if (c === BACKSLASH) escaped = true;
        else if (c === QUOTE) inString = false;
      } else if (c === QUOTE) inString = true;
      else if (c === OPEN_OBJECT || c === OPEN_ARRAY) depth++;
      else if ((c === CLOSE_OBJECT || c === CLOSE_ARRAY) && depth > 0) depth--;
      else if (depth === 0 && (c === COMMA || c === CLOSE_ARRAY)) {
        separatorAt = i;
        break;
      }
    }
    this.inString = inString;
    this.escaped = escaped;
    this.depth = depth;
    return separatorAt;
  }

  /** A byte of a string outside the array; a key ends with its closing quote. Returns the next index. */
  private readSkeletonStringByte(chunk: Uint8Array, i: number): number {
    const c = chunk[i] as number;
    if (this.escaped) this.escaped = false;
    else if (c === BACKSLASH) this.escaped = true;
    else if (c === QUOTE) {
      this.inString = false;
      if (this.keyBytes) {
        this.keyBytes.push(chunk.subarray(this.runStart, i + 1));
        this.endKey();
        this.runStart = i + 1;
      }
    }
    return i + 1;
  }

  /** A byte in the array between elements: the array's end, a separator, or an element's first byte. */
  private readBetweenElementsByte(chunk: Uint8Array, i: number): number {
    const c = chunk[i] as number;
    if (c === CLOSE_ARRAY) {
      if (this.between === 2)
        throw new JsonStreamError(`malformed JSON: a comma before "]" after element ${this.count}`);
      this.arrayState = -1;
      this.stack.pop();
      this.skeleton.push(new Uint8Array([CLOSE_ARRAY]));
      this.runStart = i + 1;
      return i + 1;
    }
    if (c === COMMA) {
      if (this.between !== 1) throw new JsonStreamError(`malformed JSON: a comma with no element before it`);
      this.between = 2;
      this.runStart = i + 1;
      return i + 1;
    }
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
      this.runStart = i + 1;
      return i + 1;
    }
    this.arrayState = 1;
    this.depth = 0;
    this.runStart = i;
    return i;
  }

  /** A byte outside the array: kept for the skeleton, following keys to find the array. Returns the next index. */
  private readSkeletonByte(chunk: Uint8Array, i: number): number {
    const c = chunk[i] as number;
    const frame = this.stack[this.stack.length - 1];
    if (c === QUOTE) {
      this.inString = true;
      if (frame?.object && frame.expectKey) {
        this.skeleton.push(chunk.subarray(this.runStart, i));
        this.runStart = i;
        this.keyBytes = [];
      }
    } else if (c === OPEN_OBJECT) {
      this.stack.push({ object: true, key: undefined, expectKey: true });
    } else if (c === OPEN_ARRAY) {
      this.stack.push({ object: false, key: undefined, expectKey: false });
      if (!this.found && this.atPath()) {
        this.found = true;
        this.arrayState = 0;
        this.between = 0;
        this.skeleton.push(chunk.subarray(this.runStart, i + 1));
        this.runStart = i + 1;
      }
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      this.stack.pop();
    } else if (frame?.object) {
      if (c === COLON) frame.expectKey = false;
      else if (c === COMMA) frame.expectKey = true;
    }
    return i + 1;
  }

  private emit(): void {
    const parts = this.element;
    this.element = [];
    const bytes = parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts);
    let value: unknown;
    try {
      value = JSON.parse(this.decoder.decode(bytes));
    } catch (cause) {
      throw new JsonStreamError(`malformed JSON in element ${this.count}: ${(cause as Error).message}`, { cause });
    }
    this.count++;
    this.onElement(value);
  }
}

/**
 * Reads a body (an async iterable of byte chunks, as a Node response is) and streams the array at
 * `path`; returns the rest of the document.
 */
export async function streamJsonArray(
  body: AsyncIterable<Uint8Array>,
  path: readonly string[],
  onElement: (element: unknown) => void,
): Promise<unknown> {
  const stream = new JsonArrayStream(path, onElement);
  for await (const chunk of body) stream.write(chunk);
  return stream.end();
}
