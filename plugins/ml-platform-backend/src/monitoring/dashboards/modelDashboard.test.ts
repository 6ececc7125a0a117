import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { parseManifest } from '@internal/plugin-ml-platform-common';
import fs from 'node:fs';
import path from 'node:path';
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

  it("serialises the churn example's dashboard to JSON that keeps the SDK's types, panels of the SDK's panel plugins", () => {
    const manifest = parseManifest(
      fs.readFileSync(
        path.resolve(
          __dirname,
          '../../../../../examples/models/churn/mlmodel.yaml',
        ),
        'utf8',
      ),
    );
    const built = buildModelDashboard({
      namespace: 'default',
      name: 'churn',
      outputs: manifest.spec.schema?.outputs,
    });
    // The JSON as served and pushed (the SDK's queries carry methods that
    // JSON drops), read back as the SDK's type.
    const json: dashboard.Dashboard = JSON.parse(JSON.stringify(built));
    // The SDK's required dashboard fields, with its types.
    for (const [key, value] of Object.entries(dashboard.defaultDashboard())) {
      expect({
        key,
        type: typeof json[key as keyof dashboard.Dashboard],
      }).toEqual({
        key,
        type: typeof value,
      });
    }
    const problems: string[] = [];
    for (const panel of panelsOf(json)) {
      if (panel.type === 'row') continue;
      const p = panel as dashboard.Panel;
      // Each visualisation is one of the SDK's panel plugins, and has the
      // options and field config that plugin's types require.
      let plugin: any;
      try {
        plugin = require(`@grafana/grafana-foundation-sdk/${p.type}`);
      } catch {
        problems.push(`${p.title}: ${p.type} is no SDK panel plugin`);
        continue;
      }
      if (typeof plugin.PanelBuilder !== 'function') {
        problems.push(`${p.title}: ${p.type} has no PanelBuilder`);
      }
      const required = plugin.defaultOptions?.() ?? {};
      for (const [key, value] of Object.entries(required)) {
        const actual = (p.options as Record<string, unknown> | undefined)?.[
          key
        ];
        if (typeof actual !== typeof value) {
          problems.push(`${p.title}: options.${key} is ${typeof actual}`);
        }
      }
      for (const target of (p.targets ?? []) as unknown as Target[]) {
        if (typeof target.expr !== 'string' || !target.expr) {
          problems.push(`${p.title}: a target without expr`);
        }
      }
      if (!p.gridPos || typeof p.gridPos.w !== 'number') {
        problems.push(`${p.title}: no gridPos`);
      }
    }
    expect(problems).toEqual([]);
    expect(
      panelsOf(json)
        .map(p => p.title ?? '')
        .filter(
          t =>
            t.startsWith('Distribution of') || t.startsWith('Predictions of'),
        ),
    ).toEqual([
      'Distribution of churn_probability',
      'Predictions of churn per value',
    ]);
  });
});
