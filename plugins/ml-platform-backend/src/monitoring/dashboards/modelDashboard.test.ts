import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { buildModelDashboard, dashboardUid } from './modelDashboard';

const churn = () =>
  buildModelDashboard({
    namespace: 'default',
    name: 'churn',
    outputs: [
      { name: 'churn_probability', type: 'double' },
      { name: 'churn', type: 'boolean' },
    ],
  });

type Target = { expr: string; datasource: { uid: string } };
const panelsOf = (d: dashboard.Dashboard) =>
  (d.panels ?? []) as (dashboard.Panel | dashboard.RowPanel)[];

describe('buildModelDashboard', () => {
  it('derives a uid of at most 40 characters from the entity ref', () => {
    expect(dashboardUid('default', 'churn')).toBe('mlp-default-churn');
    const long = dashboardUid(
      'marketing-analytics',
      'customer-lifetime-value-v2',
    );
    expect(long.length).toBeLessThanOrEqual(40);
    expect(long).toMatch(/^mlp-marketing-analytics-[a-z0-9-]*[0-9a-f]{16}$/);
    // Cut names that share a prefix still differ.
    expect(
      dashboardUid('marketing-analytics', 'customer-lifetime-value-v3'),
    ).not.toBe(long);
    expect(dashboardUid('default', 'a.b')).toMatch(
      /^mlp-default-a_b-[0-9a-f]{16}$/,
    );
  });

  it('tags the dashboard for the grafana/dashboard-selector annotation', () => {
    const d = churn();
    expect(d.uid).toBe('mlp-default-churn');
    expect(d.tags).toEqual(
      expect.arrayContaining(['ml-model', 'ml-model:churn']),
    );
  });

  it('has a Prometheus datasource variable and a version variable every query uses', () => {
    const d = churn();
    const variables = d.templating?.list ?? [];
    expect(variables.map(v => [v.name, v.type])).toEqual([
      ['datasource', 'datasource'],
      ['version', 'query'],
    ]);
    const panels = panelsOf(d).filter(
      p => p.type !== 'row',
    ) as dashboard.Panel[];
    expect(panels.length).toBeGreaterThan(8);
    for (const panel of panels) {
      expect(panel.datasource?.uid).toBe('${datasource}');
      for (const target of (panel.targets ?? []) as unknown as Target[]) {
        expect(target.datasource.uid).toBe('${datasource}');
        expect(target.expr).toContain('namespace="default",model="churn"');
      }
    }
    expect(new Set(panelsOf(d).map(p => p.id)).size).toBe(panelsOf(d).length);
  });

  it('has the rows of the issue, and a distribution panel per output', () => {
    const d = churn();
    expect(
      panelsOf(d)
        .filter(p => p.type === 'row')
        .map(p => p.title),
    ).toEqual([
      'Traffic',
      'Latency',
      'Errors',
      'Predictions',
      'Custom KPIs',
      'Replicas',
    ]);
    const titles = panelsOf(d).map(p => p.title);
    expect(titles).toContain('Distribution of churn_probability');
    expect(titles).toContain('Predictions of churn per value');
    const heatmap = panelsOf(d).find(
      p => p.title === 'Distribution of churn_probability',
    ) as dashboard.Panel;
    expect(heatmap.type).toBe('heatmap');
    expect((heatmap.targets![0] as unknown as Target).expr).toContain(
      'output="churn_probability"',
    );
  });
});
