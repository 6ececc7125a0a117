import {
  ApiBlueprint,
  PageBlueprint,
  createFrontendPlugin,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/frontend-plugin-api';
import {
  EntityCardBlueprint,
  EntityContentBlueprint,
} from '@backstage/plugin-catalog-react/alpha';
import {
  MlPlatformClient,
  isMlModelEntity,
} from '@internal/plugin-ml-platform-common';
import BubbleChartIcon from '@material-ui/icons/BubbleChart';
import { mlPlatformApiRef } from './api';
import { rootRouteRef } from './routes';

const mlPlatformApi = ApiBlueprint.make({
  params: defineParams =>
    defineParams({
      api: mlPlatformApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) =>
        new MlPlatformClient({ discoveryApi, fetchApi }),
    }),
});

const mlPlatformPage = PageBlueprint.make({
  params: {
    path: '/ml-platform',
    title: 'ML Platform',
    icon: <BubbleChartIcon />,
    routeRef: rootRouteRef,
    loader: () => import('./components/ModelsPage').then(m => <m.ModelsPage />),
  },
});

/**
 * The ML Platform tab on the entity page of `spec.type: ml-model`
 * components, at `…/ml-platform` (where notification links point).
 *
 * @alpha
 */
export const mlPlatformEntityContent = EntityContentBlueprint.make({
  params: {
    path: 'ml-platform',
    title: 'ML Platform',
    icon: <BubbleChartIcon />,
    filter: isMlModelEntity,
    loader: () =>
      import('./components/EntityMlPlatformContent').then(m => (
        <m.EntityMlPlatformContent />
      )),
  },
});

/**
 * A card on the model page saying how to see its Grafana dashboards, with
 * the generated dashboard for download; for portals without Grafana (the
 * app installs `@backstage-community/plugin-grafana` instead when
 * `grafana.domain` is set).
 *
 * @alpha
 */
export const mlPlatformGrafanaHintCard = EntityCardBlueprint.make({
  name: 'grafana-hint',
  params: {
    filter: isMlModelEntity,
    loader: () =>
      import('./components/Monitoring').then(m => <m.GrafanaHintCard />),
  },
});

/**
 * The ML platform plugin for the new frontend system.
 *
 * @alpha
 */
export default createFrontendPlugin({
  pluginId: 'ml-platform',
  title: 'ML Platform',
  icon: <BubbleChartIcon />,
  info: { packageJson: () => import('../package.json') },
  routes: { root: rootRouteRef },
  extensions: [mlPlatformApi, mlPlatformPage, mlPlatformEntityContent],
});
