import { parseEntityRef } from '@backstage/catalog-model';
import { EntityRefLink } from '@backstage/plugin-catalog-react';

/**
 * Who asked for something: a catalog user or group links to its entity;
 * service subjects (e.g. `ml-platform-consumer`) are shown as they are.
 */
export function Principal(props: { entityRef?: string }) {
  const { entityRef } = props;
  if (!entityRef) {
    return null;
  }
  try {
    const ref = parseEntityRef(entityRef);
    if (['user', 'group'].includes(ref.kind.toLocaleLowerCase('en-US'))) {
      return <EntityRefLink entityRef={ref} hideIcon />;
    }
  } catch {
    // Not an entity ref.
  }
  return <span>{entityRef}</span>;
}
