import { createRouteRef } from '@backstage/core-plugin-api';

/** The ML Platform page (every model and deployment). */
export const rootRouteRef = createRouteRef({ id: 'ml-platform' });

/** The ML Platform tab of a model's entity page (legacy frontend system). */
export const entityContentRouteRef = createRouteRef({
  id: 'ml-platform:entity-content',
});
