import {
  BackstageCredentials,
  coreServices,
  createServiceFactory,
  createServiceRef,
} from '@backstage/backend-plugin-api';
import {
  MlPlatformApi,
  MlPlatformClient,
} from '@internal/plugin-ml-platform-common';

/**
 * The ML platform for other backend plugins and modules (scaffolder actions,
 * for one): the HTTP API, called with a token the auth service issues on
 * behalf of the given credentials, as `catalogServiceRef` does.
 *
 * @public
 */
export interface MlPlatformService {
  /** The API as seen by `credentials` (e.g. a scaffolder task's initiator). */
  forCredentials(credentials: BackstageCredentials): MlPlatformApi;
}

/** @public */
export const mlPlatformServiceRef = createServiceRef<MlPlatformService>({
  id: 'ml-platform.service',
  scope: 'plugin',
  defaultFactory: async service =>
    createServiceFactory({
      service,
      deps: { auth: coreServices.auth, discovery: coreServices.discovery },
      factory: ({ auth, discovery }) => ({
        forCredentials: credentials =>
          new MlPlatformClient({
            discoveryApi: discovery,
            fetchApi: {
              fetch: async (input, init) => {
                const { token } = await auth.getPluginRequestToken({
                  onBehalfOf: credentials,
                  targetPluginId: 'ml-platform',
                });
                const headers = new Headers(init?.headers);
                headers.set('Authorization', `Bearer ${token}`);
                return fetch(input, { ...init, headers });
              },
            },
          }),
      }),
    }),
});
