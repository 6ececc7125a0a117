import { createApiRef } from '@backstage/core-plugin-api';
import { MlPlatformApi } from '@internal/plugin-ml-platform-common';

/**
 * The ML platform backend, as seen by the UI. Works in both the new and the
 * legacy frontend systems.
 *
 * @public
 */
export const mlPlatformApiRef = createApiRef<MlPlatformApi>({
  id: 'plugin.ml-platform.service',
});
