import { createRouteRef } from '@backstage/core-plugin-api';

/** The ML Platform page (every model and deployment). */
export const rootRouteRef = createRouteRef({ id: 'ml-platform' });
