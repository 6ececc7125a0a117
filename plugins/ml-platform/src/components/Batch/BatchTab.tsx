import { Progress, ResponseErrorPanel } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { BatchExecution } from '@internal/plugin-ml-platform-common';
import { useState } from 'react';
import { mlPlatformApiRef } from '../../api';
import {
  useBuilds,
  useModelPermissions,
  useModelRef,
  usePolledAsync,
} from '../../hooks';
import { ActionButton } from '../ActionButton';
import { TabContent } from '../TabContent';
import { downloadResult } from './downloadResult';
import { ExecutionsTable } from './ExecutionsTable';
import { FailedChunksDialog } from './FailedChunksDialog';
import { StartExecutionDialog } from './StartExecutionDialog';

/** Batch executions of the model: start one, follow them, fetch results. */
export function BatchTab() {
  const ref = useModelRef();
  const api = useApi(mlPlatformApiRef);
  const permissions = useModelPermissions(ref);
  const builds = useBuilds(ref);
  const executions = usePolledAsync(() => api.listExecutions(ref), [api, ref]);
  // Only the start dialog needs these; it reloads them when it opens.
  const deployments = usePolledAsync(
    () => api.listDeployments(ref),
    [api, ref],
    null,
  );
  const [startOpen, setStartOpen] = useState(false);
  const [failedChunksOf, setFailedChunksOf] = useState<string>();
  const [cancelling, setCancelling] = useState<string[]>([]);
  const [actionError, setActionError] = useState<Error>();

  if (executions.loading) {
    return <Progress />;
  }
  if (!executions.value) {
    return (
      <ResponseErrorPanel
        error={executions.error ?? new Error('No executions')}
      />
    );
  }

  const batchDeployments = (deployments.value ?? []).filter(
    d => d.type === 'batch',
  );
  const succeeded = (builds.value?.items ?? []).filter(
    b => b.status === 'succeeded',
  );
  let cannotStart: string | undefined;
  if (deployments.loading || builds.loading) {
    cannotStart = 'Loading deployments and builds…';
  } else if (!batchDeployments.length && !succeeded.length) {
    cannotStart = 'No batch deployment or succeeded build to run';
  }

  const cancel = async (execution: BatchExecution) => {
    setCancelling(c => [...c, execution.id]);
    setActionError(undefined);
    try {
      await api.cancelExecution(execution.id);
      await executions.refresh();
    } catch (e) {
      setActionError(e as Error);
    } finally {
      setCancelling(c => c.filter(id => id !== execution.id));
    }
  };
  const download = async (execution: BatchExecution) => {
    setActionError(undefined);
    try {
      await downloadResult(api, execution, ref.name);
    } catch (e) {
      setActionError(e as Error);
    }
  };

  const startButton = (
    <ActionButton
      decision={permissions.execute}
      disabledReason={cannotStart}
      variant="contained"
      color="primary"
      onClick={() => {
        deployments.refresh();
        setStartOpen(true);
      }}
    >
      Start execution
    </ActionButton>
  );

  return (
    <>
      {actionError && <ResponseErrorPanel error={actionError} />}
      <TabContent
        action={startButton}
        empty={executions.value.length === 0}
        emptyState={{
          missing: 'data',
          title: 'No executions yet',
          description:
            'An execution scores a whole dataset: the rows are split into chunks that run in parallel, are retried on failure, and write their predictions to a file or a table.',
        }}
      >
        <ExecutionsTable
          executions={executions.value}
          builds={builds.value?.items}
          canCancel={permissions.cancelExecution}
          cancelling={cancelling}
          onCancel={cancel}
          onDownload={download}
          onShowFailedChunks={e => setFailedChunksOf(e.id)}
        />
      </TabContent>
      {startOpen && (
        <StartExecutionDialog
          modelRef={ref}
          batchDeployments={batchDeployments}
          builds={succeeded}
          onClose={() => setStartOpen(false)}
          onStarted={() => executions.refresh()}
        />
      )}
      {failedChunksOf && (
        <FailedChunksDialog
          executionId={failedChunksOf}
          onClose={() => setFailedChunksOf(undefined)}
        />
      )}
    </>
  );
}
