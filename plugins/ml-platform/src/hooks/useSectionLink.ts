import { useCallback } from 'react';
import { useLocation } from 'react-router-dom';

/**
 * Links to another section of the ML Platform tab (`?tab=builds&build=…`).
 * Built on the current path, so they do not depend on how the entity page
 * nests its routes.
 */
export function useSectionLink(): (params: Record<string, string>) => string {
  const { pathname } = useLocation();
  return useCallback(
    params => `${pathname}?${new URLSearchParams(params)}`,
    [pathname],
  );
}
