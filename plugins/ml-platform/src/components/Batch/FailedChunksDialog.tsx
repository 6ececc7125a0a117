import { Progress, ResponseErrorPanel } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import Typography from '@material-ui/core/Typography';
import useAsync from 'react-use/esm/useAsync';
import { mlPlatformApiRef } from '../../api';
import { formatCount } from '../../lib/format';
import { FormDialog } from '../FormDialog';

/** The chunks that failed after all their retries, with the model's errors. */
export function FailedChunksDialog(props: {
  executionId: string;
  onClose: () => void;
}) {
  const api = useApi(mlPlatformApiRef);
  const { value, loading, error } = useAsync(
    () => api.listExecutionChunks(props.executionId, 'failed'),
    [api, props.executionId],
  );
  let content;
  if (loading) {
    content = <Progress />;
  } else if (error) {
    content = <ResponseErrorPanel error={error} />;
  } else if (!value?.length) {
    content = <Typography>No chunk failed.</Typography>;
  } else {
    content = (
      <Table size="small" aria-label="Failed chunks">
        <TableHead>
          <TableRow>
            <TableCell>Chunk</TableCell>
            <TableCell>Rows</TableCell>
            <TableCell>Attempts</TableCell>
            <TableCell>Error</TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {value.map(chunk => (
            <TableRow key={chunk.seq}>
              <TableCell>#{chunk.seq}</TableCell>
              <TableCell>
                {formatCount(chunk.rowStart)}–{formatCount(chunk.rowEnd - 1)}
              </TableCell>
              <TableCell>{chunk.attempts}</TableCell>
              <TableCell>
                <Typography
                  variant="body2"
                  component="pre"
                  style={{ whiteSpace: 'pre-wrap', margin: 0 }}
                >
                  {chunk.error}
                </Typography>
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    );
  }
  return (
    <FormDialog title="Failed chunks" onClose={props.onClose} maxWidth="md">
      {content}
    </FormDialog>
  );
}
