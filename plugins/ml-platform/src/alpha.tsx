import {
  ApiBlueprint,
  PageBlueprint,
  createFrontendPlugin,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/frontend-plugin-api';
import { EntityContentBlueprint } from '@backstage/plugin-catalog-react/alpha';
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
