import { Link } from '@backstage/core-components';
import { useEntity } from '@backstage/plugin-catalog-react';
import { commitUrl, sourceLocationUrl } from '../../lib/commitUrl';
import { shortSha } from '../../lib/format';

/**
 * A commit's short SHA, linked to the repository when the entity's source
 * location is a web URL.
 */
export function CommitLink(props: { sha?: string; message?: string }) {
  const { entity } = useEntity();
  if (!props.sha) {
    return null;
  }
  const source = sourceLocationUrl(entity);
  const label = <code>{shortSha(props.sha)}</code>;
  if (!source) {
    return <span title={props.message}>{label}</span>;
  }
  return (
    <Link to={commitUrl(source, props.sha)} title={props.message}>
      {label}
    </Link>
  );
}
