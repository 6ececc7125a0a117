import { Table, TableColumn } from '@backstage/core-components';
import {
  BatchExecution,
  ExecutionInput,
  ExecutionOutput,
  ModelBuild,
} from '@internal/plugin-ml-platform-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Typography from '@material-ui/core/Typography';
import { useMemo } from 'react';
import { Decision } from '../../hooks';
import { buildLabel, formatTime } from '../../lib/format';
import { ActionButton } from '../ActionButton';
import { ExecutionProgress } from '../ExecutionProgress';
import { Principal } from '../Principal';
import { StatusChip } from '../StatusChip';

export function describeInput(input: ExecutionInput | undefined): string {
  switch (input?.type) {
    case 'upload':
      return `upload${input.format ? ` (${input.format})` : ''}`;
    case 'path':
      return input.path;
    case 'url':
      return input.url;
    case 'sql':
      return `query on ${input.connection}`;
    default:
      return '';
  }
}

export function describeOutput(output: ExecutionOutput | undefined): string {
  if (!output) return '';
  return output.type === 'file'
    ? `${output.format} file`
    : `table ${output.table} on ${output.connection}`;
}

const isActive = (e: BatchExecution) =>
  e.status === 'pending' || e.status === 'running';

/** Executions, newest first, with live progress and what can be done next. */
export function ExecutionsTable(props: {
  executions: BatchExecution[];
  builds: ModelBuild[] | undefined;
  /** May the user cancel executions. */
  canCancel: Decision;
  cancelling: string[];
  onCancel: (execution: BatchExecution) => void;
  onDownload: (execution: BatchExecution) => void;
  onShowFailedChunks: (execution: BatchExecution) => void;
}) {
  const { executions, builds, canCancel, cancelling } = props;
  const columns: TableColumn<BatchExecution>[] = [
    {
      title: 'Started',
      field: 'createdAt',
      render: e => (
        <>
          {formatTime(e.createdAt)}
          <Typography variant="caption" component="div">
            {e.trigger === 'schedule' && 'on schedule'}
            {e.trigger !== 'schedule' && e.createdBy && (
              <>
                by <Principal entityRef={e.createdBy} />
              </>
            )}
          </Typography>
        </>
      ),
    },
    {
      title: 'Build',
      field: 'buildId',
      render: e => buildLabel(e.buildId, builds),
    },
    {
      title: 'Input → output',
      render: e => `${describeInput(e.input)} → ${describeOutput(e.output)}`,
    },
    {
      title: 'Status',
      field: 'status',
      render: e => (
        <>
          <StatusChip status={e.status} />
          {e.error && (
            <Typography variant="caption" color="error" component="div">
              {e.error}
            </Typography>
          )}
        </>
      ),
    },
    {
      title: 'Progress',
      render: e => <ExecutionProgress execution={e} />,
    },
    {
      title: 'Actions',
      render: e => (
        <Box display="flex" flexWrap="wrap" style={{ gap: 4 }}>
          {isActive(e) && (
            <ActionButton
              size="small"
              decision={canCancel}
              disabledReason={
                cancelling.includes(e.id) ? 'Cancelling…' : undefined
              }
              onClick={() => props.onCancel(e)}
            >
              Cancel
            </ActionButton>
          )}
          {e.status === 'succeeded' && e.output?.type === 'file' && (
            <Button
              size="small"
              color="primary"
              onClick={() => props.onDownload(e)}
            >
              Download
            </Button>
          )}
          {e.chunksFailed > 0 && (
            <Button size="small" onClick={() => props.onShowFailedChunks(e)}>
              Failed chunks
            </Button>
          )}
        </Box>
      ),
    },
  ];
  // The table writes into its rows; give it copies.
  const rows = useMemo(() => executions.map(e => ({ ...e })), [executions]);
  return (
    <Table<BatchExecution>
      title={`Executions (${executions.length})`}
      columns={columns}
      data={rows}
      options={{
        paging: rows.length > 20,
        pageSize: 20,
        search: false,
        padding: 'dense',
        sorting: false,
      }}
    />
  );
}
