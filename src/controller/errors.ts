/**
 * The operator's error vocabulary in one place: the API server's refusals (KubeApiError and the status
 * predicates reconcilers branch on), a stalled watch, and the short form every log line uses. Modules that
 * only need to classify or log an error import this, not the client or the reflector.
 */

/** What a Status names as missing or refused: `kind` is a resource, e.g. "namespaces". */
export interface StatusDetails {
  readonly kind?: string;
  readonly name?: string;
}

/** An API error with the fields worth logging: the HTTP code and the Status reason, not the whole body. */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  readonly code: number;
  readonly reason: string;
  /** The Status's details: a 404 on a create says whether the object's namespace is the missing thing. */
  readonly details: StatusDetails;
  constructor(
    code: number,
    reason: string,
    message: string,
    options?: ErrorOptions & { readonly details?: StatusDetails },
  ) {
    super(message, options);
    this.code = code;
    this.reason = reason;
    this.details = options?.details ?? {};
  }
}

/** A watch that received nothing (not even a bookmark) for too long; the reflector relists. */
export class WatchStalledError extends Error {
  override readonly name = 'WatchStalledError';
}

export const isConflict = (e: unknown): boolean => e instanceof KubeApiError && e.code === 409;
export const isNotFound = (e: unknown): boolean => e instanceof KubeApiError && e.code === 404;
export const isGone = (e: unknown): boolean => e instanceof KubeApiError && e.code === 410;
/** A 404 that names the namespace as missing (a create in it), not the object itself. */
export const isNamespaceNotFound = (e: unknown, namespace: string): boolean =>
  e instanceof KubeApiError && e.code === 404 && e.details.kind === 'namespaces' && e.details.name === namespace;

/** A short, loggable form of an error: no response bodies. */
export function errorSummary(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 500);
  return String(error).slice(0, 500);
}

/** Anything thrown, as an Error: what is returned or rejected stays an Error even when a library throws a string. */
export function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}
