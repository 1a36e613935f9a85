/**
 * What the price clients share: a GET or POST whose answer must be 2xx, read as text under the refresh's
 * signal, and JSON parsed with every number kept as its source text, so a price such as 0.176346 reaches
 * parseUsd exactly as the cloud wrote it rather than as the nearest binary float.
 */
import { isOk, readText, send } from '../controller/http-request.ts';
import { MarketAnswerError } from './market-table.ts';

export interface HttpCall {
  readonly method?: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly signal: AbortSignal;
}

/** An answer other than 2xx: its status and body, for the client to read the cloud's error code from. */
export class HttpAnswerError extends Error {
  override readonly name = 'HttpAnswerError';
  readonly status: number;
  readonly body: string;
  constructor(message: string, status: number, body: string) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/** The answer's body; throws HttpAnswerError with the status and the start of the body for any answer but 2xx. */
export async function fetchText(url: URL, call: HttpCall, what: string): Promise<string> {
  const response = await send(url, {
    method: call.method ?? 'GET',
    headers: call.headers ?? {},
    ...(call.body !== undefined ? { body: call.body } : {}),
    signal: call.signal,
  });
  const text = await readText(response);
  if (!isOk(response)) {
    const status = response.statusCode ?? 0;
    throw new HttpAnswerError(
      `${what}: HTTP ${status} from ${url.origin}${url.pathname}: ${text.slice(0, 300)}`,
      status,
      text,
    );
  }
  return text;
}

/** The reviver's third argument, which Node 22+ passes (JSON.parse source text access). */
interface ReviverContext {
  readonly source?: string;
}

/** JSON with numbers as their source text; throws MarketAnswerError when the text is not JSON. */
export function parseJsonKeepingNumbers(text: string, what: string): unknown {
  try {
    return JSON.parse(text, function (this: unknown, _key: string, value: unknown, context?: ReviverContext) {
      return typeof value === 'number' ? (context?.source ?? String(value)) : value;
    } as (key: string, value: unknown) => unknown);
  } catch (cause) {
    throw new MarketAnswerError(`${what}: the answer is not JSON: ${(cause as Error).message}`, { cause });
  }
}
