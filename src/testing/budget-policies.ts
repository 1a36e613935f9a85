/**
 * An AICostPolicy with a budget exceeded in November 2026 and onExceeded DenyNewGPUPods, with the status the
 * leader writes for it: for the admission webhook's tests, which read budgets as the leader left them.
 */
export interface ExceededBudget {
  readonly name: string;
  readonly mode: 'Audit' | 'Enforce';
  /** namespaceSelector, selector, exclude. */
  readonly scope: Readonly<Record<string, unknown>>;
  readonly amount: string;
  /** status.budget.spent, six decimals. */
  readonly spent: string;
  readonly percent: number;
  readonly contact?: string;
}

export function exceededBudgetPolicy(b: ExceededBudget) {
  return {
    metadata: { name: b.name, generation: 1 },
    spec: {
      ...b.scope,
      rules: {
        budget: {
          amount: b.amount,
          mode: b.mode,
          onExceeded: ['DenyNewGPUPods'],
          ...(b.contact === undefined ? {} : { contact: b.contact }),
        },
      },
    },
    status: {
      observedGeneration: 1,
      currency: 'USD',
      budget: {
        periodStart: '2026-11-01T00:00:00Z',
        periodEnd: '2026-12-01T00:00:00Z',
        accountedUntil: '2026-11-21T11:55:00Z',
        spent: b.spent,
        percent: b.percent,
        forecast: b.spent.replace(/(\.\d\d)\d+$/, '$1'),
        forecastPercent: b.percent,
        exceededAt: '2026-11-20T08:00:00Z',
      },
    },
  };
}
