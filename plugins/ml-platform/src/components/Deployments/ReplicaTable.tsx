import {
  DeploymentReplica,
  ModelBuild,
} from '@internal/plugin-ml-platform-common';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import { buildLabel, formatTime } from '../../lib/format';
import { StatusChip } from '../StatusChip';

/** What the runtime says about each replica, e.g. mid-rollout or restarting. */
export function ReplicaTable(props: {
  replicas: DeploymentReplica[];
  builds: ModelBuild[] | undefined;
}) {
  return (
    <Table size="small" aria-label="Replicas">
      <TableHead>
        <TableRow>
          <TableCell>Replica</TableCell>
          <TableCell>State</TableCell>
          <TableCell>Build</TableCell>
          <TableCell>Restarts</TableCell>
          <TableCell>Started</TableCell>
          <TableCell>Last error</TableCell>
        </TableRow>
      </TableHead>
      <TableBody>
        {props.replicas.map(replica => (
          <TableRow key={replica.id}>
            <TableCell>
              <code>{replica.id}</code>
              {replica.pid !== undefined && ` (pid ${replica.pid})`}
            </TableCell>
            <TableCell>
              <StatusChip status={replica.state} />
            </TableCell>
            <TableCell>{buildLabel(replica.buildId, props.builds)}</TableCell>
            <TableCell>{replica.restarts}</TableCell>
            <TableCell>{formatTime(replica.startedAt)}</TableCell>
            <TableCell>{replica.lastError}</TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}
