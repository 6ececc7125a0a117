import { DEFAULT_NAMESPACE } from '@backstage/catalog-model';
import { useEntity } from '@backstage/plugin-catalog-react';
import { ModelRef } from '@internal/plugin-ml-platform-common';
import { useMemo } from 'react';

/** The platform's address of the entity on the page. */
export function useModelRef(): ModelRef {
  const { entity } = useEntity();
  const namespace = entity.metadata.namespace ?? DEFAULT_NAMESPACE;
  const name = entity.metadata.name;
  return useMemo(() => ({ namespace, name }), [namespace, name]);
}
