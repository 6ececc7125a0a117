import { useApi } from '@backstage/core-plugin-api';
import { ModelRef } from '@internal/plugin-ml-platform-common';
import { mlPlatformApiRef } from '../api';
import { usePolledAsync } from './usePolledAsync';

/** The most builds one request returns (the API's maximum page). */
export const BUILDS_PAGE_SIZE = 200;

/** The model's builds, newest first, kept fresh. */
export function useBuilds(ref: ModelRef) {
  const api = useApi(mlPlatformApiRef);
  return usePolledAsync(
    () => api.listBuilds(ref, { limit: BUILDS_PAGE_SIZE }),
    [api, ref],
  );
}
