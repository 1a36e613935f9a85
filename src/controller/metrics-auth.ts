/**
 * Who may read /metrics, decided by the API server as controller-runtime's secure metrics do: the caller's
 * bearer token goes to a TokenReview (who is it?), then that user to a SubjectAccessReview for the non-resource
 * URL `get /metrics` (may it?). The metrics carry per-team spend, which is not every pod's business.
 *
 * Decisions are cached per token (its SHA-256, not the token) for a short TTL, so a scrape every 15 s costs the
 * API server two reviews a minute rather than eight, and a revoked token or a removed binding is honoured within
 * the TTL. The cache is bounded (oldest out first), and so are the reviews in flight, so a flood of made-up
 * tokens costs the API server a bounded number of reviews at a time, not one per request.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from './clock.ts';
import { errorSummary } from './errors.ts';
import type { KubeClient } from './kube-client.ts';

export const TOKEN_REVIEWS_PATH = '/apis/authentication.k8s.io/v1/tokenreviews';
export const ACCESS_REVIEWS_PATH = '/apis/authorization.k8s.io/v1/subjectaccessreviews';

/** 200 allowed; 401 no token, or one the API server does not know; 403 not allowed; 429 too many reviews at once; 503 a review failed. */
export type AuthCode = 200 | 401 | 403 | 429 | 503;

export interface AuthDecision {
  readonly code: AuthCode;
  /** Who the token belongs to, once known (for the log, never the answer). */
  readonly user?: string;
}

export interface MetricsAuthOptions {
  readonly client: KubeClient;
  readonly clock: Clock;
  readonly log: Logger;
  /** The non-resource path the SubjectAccessReview asks about. */
  readonly path?: string;
  /** How long a decision (allowed or not) is reused for the same token. */
  readonly cacheTtlMs?: number;
  /** Tokens whose decision is remembered, at most; the oldest goes first. */
  readonly cacheEntries?: number;
  /** Reviews under way at once, at most; a request beyond them is answered 429 and not reviewed. */
  readonly maxInFlight?: number;
}

export const METRICS_AUTH_DEFAULTS = { cacheTtlMs: 60_000, cacheEntries: 1024, maxInFlight: 16 } as const;

interface UserInfo {
  readonly username?: string;
  readonly uid?: string;
  readonly groups?: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

interface TokenReviewAnswer {
  readonly status?: { readonly authenticated?: boolean; readonly user?: UserInfo };
}

interface AccessReviewAnswer {
  readonly status?: { readonly allowed?: boolean };
}

export type MetricsAuthorizer = (authorization: string | undefined) => Promise<AuthDecision>;

/** The bearer token of an Authorization header; undefined when there is none (or another scheme). */
export function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1];
}

export function createMetricsAuthorizer(options: MetricsAuthOptions): MetricsAuthorizer {
  const path = options.path ?? '/metrics';
  const ttlMs = options.cacheTtlMs ?? METRICS_AUTH_DEFAULTS.cacheTtlMs;
  const maxEntries = options.cacheEntries ?? METRICS_AUTH_DEFAULTS.cacheEntries;
  const maxInFlight = options.maxInFlight ?? METRICS_AUTH_DEFAULTS.maxInFlight;
  const cache = new Map<string, { decision: AuthDecision; expiresAtMs: number }>();
  // One review per token at a time: concurrent scrapes with one token share it.
  const pending = new Map<string, Promise<AuthDecision>>();

  const remember = (key: string, decision: AuthDecision) => {
    // A failed review is the operator's problem, not the caller's: asked again next time.
    if (decision.code === 503) return;
    cache.delete(key);
    cache.set(key, { decision, expiresAtMs: options.clock.now() + ttlMs });
    while (cache.size > maxEntries) cache.delete(cache.keys().next().value ?? '');
  };

  return async (authorization) => {
    const token = bearerToken(authorization);
    if (token === undefined) return { code: 401 };
    const key = createHash('sha256').update(token).digest('hex');
    const cached = cache.get(key);
    if (cached && cached.expiresAtMs > options.clock.now()) return cached.decision;
    if (cached) cache.delete(key);
    const shared = pending.get(key);
    if (shared) return shared;
    if (pending.size >= maxInFlight) return { code: 429 };
    const review = reviewToken(options.client, token, path, options.log).then((decision) => {
      remember(key, decision);
      return decision;
    });
    pending.set(key, review);
    try {
      return await review;
    } finally {
      pending.delete(key);
    }
  };
}

/** The two reviews: authenticated? then allowed? */
async function reviewToken(client: KubeClient, token: string, path: string, log: Logger): Promise<AuthDecision> {
  let user: UserInfo & { readonly username: string };
  try {
    const answer = await client.create<TokenReviewAnswer>(TOKEN_REVIEWS_PATH, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token },
    });
    const reviewed = answer.status?.authenticated === true ? answer.status.user : undefined;
    if (reviewed?.username === undefined || reviewed.username === '') return { code: 401 };
    user = { ...reviewed, username: reviewed.username };
  } catch (error) {
    log.warn({ err: errorSummary(error) }, 'could not review a /metrics token (TokenReview): answering 503');
    return { code: 503 };
  }
  try {
    const answer = await client.create<AccessReviewAnswer>(ACCESS_REVIEWS_PATH, {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: user.username,
        ...(user.uid === undefined ? {} : { uid: user.uid }),
        ...(user.groups === undefined ? {} : { groups: user.groups }),
        ...(user.extra === undefined ? {} : { extra: user.extra }),
        nonResourceAttributes: { path, verb: 'get' },
      },
    });
    return { code: answer.status?.allowed === true ? 200 : 403, user: user.username };
  } catch (error) {
    log.warn(
      { err: errorSummary(error), user: user.username },
      'could not review access to /metrics (SubjectAccessReview): answering 503',
    );
    return { code: 503, user: user.username };
  }
}
