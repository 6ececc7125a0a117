import { createApp } from '@backstage/frontend-defaults';
import {
  createFrontendFeatureLoader,
  createFrontendModule,
} from '@backstage/frontend-plugin-api';
import catalogPlugin from '@backstage/plugin-catalog/alpha';
import { mlPlatformGrafanaHintCard } from '@internal/plugin-ml-platform/alpha';
import { navModule } from './modules/nav';

/**
 * Grafana on the model page: with `grafana.domain` set, the community
 * Grafana plugin's dashboards and alerts cards (they find the platform's
 * generated dashboards and rules through the entity's
 * `grafana/dashboard-selector` and `grafana/alert-label-selector`
 * annotations); without it, a card with the dashboard to download.
 */
export function grafanaFeaturesFor(config: { has(key: string): boolean }) {
  if (config.has('grafana.domain')) {
    return [import('@backstage-community/plugin-grafana/alpha')];
  }
  return [
    createFrontendModule({
      pluginId: 'ml-platform',
      extensions: [mlPlatformGrafanaHintCard],
    }),
  ];
}

const grafanaFeatures = createFrontendFeatureLoader({
  loader: ({ config }) => grafanaFeaturesFor(config),
});

// Plugins listed in package.json are discovered through `app.packages`
// (all but Grafana's, chosen above); the catalog is named here because the
// nav module refers to its pages.
export default createApp({
  features: [catalogPlugin, navModule, grafanaFeatures],
});
