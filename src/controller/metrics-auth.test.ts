import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeKube } from '../testing/fake-kube.ts';
import { FakeClock } from './clock.ts';
import { ACCESS_REVIEWS_PATH, bearerToken, createMetricsAuthorizer, TOKEN_REVIEWS_PATH } from './metrics-auth.ts';

const log = pino({ level: 'silent' });
const PROMETHEUS = 'system:serviceaccount:monitoring:prometheus';

/** An API server that knows three tokens: Prometheus's (allowed), a tenant's (not), and a group member's. */
function world(options: { cacheTtlMs?: number; cacheEntries?: number; maxInFlight?: number } = {}) {
  const api = new FakeKube();
  const clock = new FakeClock();
  api.tokens.set('prom-token', { username: PROMETHEUS, uid: 'u-1', groups: ['system:serviceaccounts'] });
  api.tokens.set('tenant-token', { username: 'system:serviceaccount:team-a:default' });
  api.tokens.set('sre-token', { username: 'alice', groups: ['sre'] });
  api.nonResourceGrants.add(`${PROMETHEUS} get /metrics`);
  api.nonResourceGrants.add('group:sre get /metrics');
  const authorize = createMetricsAuthorizer({ client: api, clock, log, ...options });
  const reviews = () => api.requests.filter((r) => r.verb === 'create').map((r) => r.path);
  return { api, clock, authorize, reviews };
}

describe('bearerToken', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc ', 'abc'],
    ['Basic YTpi', undefined],
    ['Bearer', undefined],
    ['Bearer a b', undefined],
    [undefined, undefined],
  ])('%j gives %j', (header, token) => {
    expect(bearerToken(header)).toBe(token);
  });
});

describe('metrics authorization (TokenReview, then SubjectAccessReview of get /metrics)', () => {
  it('401 without a token or with one the API server does not know; 403 when not allowed; 200 when allowed', async () => {
    const { authorize, reviews } = world();
    expect(await authorize(undefined)).toEqual({ code: 401 });
    expect(await authorize('Basic YTpi')).toEqual({ code: 401 });
    expect(reviews()).toEqual([]); // nothing to review: the API server is not asked
    expect(await authorize('Bearer made-up')).toEqual({ code: 401 });
    expect(await authorize('Bearer tenant-token')).toEqual({ code: 403, user: 'system:serviceaccount:team-a:default' });
    expect(await authorize('Bearer prom-token')).toEqual({ code: 200, user: PROMETHEUS });
    expect(await authorize('Bearer sre-token')).toEqual({ code: 200, user: 'alice' }); // through its group
    // An unknown token costs one TokenReview and no SubjectAccessReview.
    expect(reviews()).toEqual([
      TOKEN_REVIEWS_PATH,
      TOKEN_REVIEWS_PATH,
      ACCESS_REVIEWS_PATH,
      TOKEN_REVIEWS_PATH,
      ACCESS_REVIEWS_PATH,
      TOKEN_REVIEWS_PATH,
      ACCESS_REVIEWS_PATH,
    ]);
  });

  it('asks about the reviewed user, its uid and groups, for the non-resource URL get /metrics', async () => {
    const { api, authorize } = world();
    const bodies: unknown[] = [];
    const create = api.create.bind(api);
    api.create = <T>(path: string, body: unknown): Promise<T> => {
      bodies.push(body);
      return create<T>(path, body);
    };
    await authorize('Bearer prom-token');
    expect(bodies).toEqual([
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'prom-token' } },
      {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: PROMETHEUS,
          uid: 'u-1',
          groups: ['system:serviceaccounts'],
          nonResourceAttributes: { path: '/metrics', verb: 'get' },
        },
      },
    ]);
  });

  it('reuses a decision for its TTL: a revoked token or a removed grant is refused once it has passed, not later', async () => {
    const { api, clock, authorize, reviews } = world({ cacheTtlMs: 60_000 });
    expect((await authorize('Bearer prom-token')).code).toBe(200);
    api.tokens.delete('prom-token'); // revoked: the ServiceAccount or its token is deleted
    await clock.advance(59_999);
    expect((await authorize('Bearer prom-token')).code).toBe(200); // still within the TTL
    expect(reviews()).toHaveLength(2); // one TokenReview and one SubjectAccessReview for both scrapes
    await clock.advance(1);
    expect((await authorize('Bearer prom-token')).code).toBe(401);

    expect((await authorize('Bearer sre-token')).code).toBe(200);
    api.nonResourceGrants.delete('group:sre get /metrics'); // the ClusterRoleBinding is removed
    await clock.advance(60_000);
    expect((await authorize('Bearer sre-token')).code).toBe(403);
    // And a refusal is not remembered past its TTL either: a new grant lets the token in.
    api.nonResourceGrants.add('alice get /metrics');
    expect((await authorize('Bearer sre-token')).code).toBe(403);
    await clock.advance(60_000);
    expect((await authorize('Bearer sre-token')).code).toBe(200);
  });

  it('remembers a bounded number of tokens, the oldest forgotten first', async () => {
    const { authorize, reviews } = world({ cacheEntries: 2 });
    await authorize('Bearer prom-token');
    await authorize('Bearer sre-token');
    await authorize('Bearer tenant-token'); // pushes prom-token out
    const before = reviews().length;
    await authorize('Bearer tenant-token');
    await authorize('Bearer sre-token');
    expect(reviews()).toHaveLength(before);
    await authorize('Bearer prom-token');
    expect(reviews()).toHaveLength(before + 2);
  });

  it('a review that fails answers 503 and is not remembered', async () => {
    const { api, authorize } = world();
    api.fail('create', 'tokenreviews', 500);
    expect(await authorize('Bearer prom-token')).toEqual({ code: 503 });
    api.fail('create', 'subjectaccessreviews', 403); // e.g. the operator lacks the RBAC to ask
    expect(await authorize('Bearer prom-token')).toEqual({ code: 503, user: PROMETHEUS });
    expect(await authorize('Bearer prom-token')).toEqual({ code: 200, user: PROMETHEUS });
  });

  it('shares one review among concurrent requests with a token, and bounds the reviews in flight', async () => {
    const { authorize, reviews } = world({ maxInFlight: 1 });
    const [a, b, c] = await Promise.all([
      authorize('Bearer prom-token'),
      authorize('Bearer prom-token'),
      authorize('Bearer made-up'),
    ]);
    expect([a.code, b.code, c.code]).toEqual([200, 200, 429]);
    expect(reviews()).toEqual([TOKEN_REVIEWS_PATH, ACCESS_REVIEWS_PATH]);
    expect((await authorize('Bearer made-up')).code).toBe(401);
  });
});
