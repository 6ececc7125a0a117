import { grafanaFeaturesFor } from './App';

describe('Grafana on the model page', () => {
  it('installs the community Grafana plugin when grafana.domain is set', async () => {
    const [feature] = grafanaFeaturesFor({
      has: key => key === 'grafana.domain',
    });
    const plugin = (await feature) as any;
    expect(plugin.default.id).toBe('grafana');
  });

  it('shows the dashboard download hint instead when it is not', () => {
    const [module] = grafanaFeaturesFor({ has: () => false }) as any[];
    expect(module.$$type).toBe('@backstage/FrontendModule');
    expect(module.pluginId).toBe('ml-platform');
  });
});
