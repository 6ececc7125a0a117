import { CodeSnippet, EmptyState } from '@backstage/core-components';
import { useEntity } from '@backstage/plugin-catalog-react';
import { ML_MODEL_COMPONENT_TYPE } from '@internal/plugin-ml-platform-common';
import Typography from '@material-ui/core/Typography';

/**
 * Shown instead of the ML Platform tab on entities that are not models, in
 * the manner of `MissingAnnotationEmptyState`: what to add, and where.
 */
export function NotAnMlModel() {
  const { entity } = useEntity();
  const yaml = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ${entity.metadata.name}
spec:
  type: ${ML_MODEL_COMPONENT_TYPE}
  owner: ${
    (entity.spec?.owner as string | undefined) ?? 'group:default/my-team'
  }`;
  return (
    <EmptyState
      missing="field"
      title="Not an ML model"
      description={
        <>
          The ML platform builds and deploys catalog components with{' '}
          <code>spec.type: {ML_MODEL_COMPONENT_TYPE}</code>. This entity is a{' '}
          <code>{entity.kind}</code>
          {entity.spec?.type ? (
            <>
              {' '}
              of type <code>{String(entity.spec.type)}</code>
            </>
          ) : null}
          .
        </>
      }
      action={
        <>
          <Typography variant="body1">
            Declare the component a model in its <code>catalog-info.yaml</code>{' '}
            and add an <code>mlmodel.yaml</code> next to it:
          </Typography>
          <CodeSnippet
            text={yaml}
            language="yaml"
            showLineNumbers
            highlightedNumbers={[6]}
          />
        </>
      }
    />
  );
}
