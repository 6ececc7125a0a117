import { EmptyState } from '@backstage/core-components';
import Box from '@material-ui/core/Box';
import { ComponentProps, ReactElement, ReactNode } from 'react';

/**
 * A tab's list with its main action above it, on the right; while there is
 * nothing to list, an empty state that offers the action instead.
 */
export function TabContent(props: {
  action: ReactElement;
  empty: boolean;
  emptyState: Omit<ComponentProps<typeof EmptyState>, 'action'>;
  children: ReactNode;
}) {
  const { action, empty, emptyState, children } = props;
  if (empty) {
    return <EmptyState {...emptyState} action={action} />;
  }
  return (
    <>
      <Box display="flex" justifyContent="flex-end" mb={2}>
        {action}
      </Box>
      {children}
    </>
  );
}
