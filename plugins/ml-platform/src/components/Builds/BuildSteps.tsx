import { BuildStep } from '@internal/plugin-ml-platform-common';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import { buildDurationMs, formatDuration } from '../../lib/format';
import { StatusChip } from '../StatusChip';

function stepDuration(step: BuildStep): string {
  const ms = step.durationMs ?? buildDurationMs(step);
  return ms === undefined ? '' : formatDuration(ms);
}

/** The build's steps in order: checkout, install, test, smoke, package… */
export function BuildSteps(props: { steps: BuildStep[] }) {
  return (
    <Table size="small" aria-label="Build steps">
      <TableHead>
        <TableRow>
          <TableCell>Step</TableCell>
          <TableCell>Status</TableCell>
          <TableCell>Duration</TableCell>
          <TableCell>Message</TableCell>
        </TableRow>
      </TableHead>
      <TableBody>
        {props.steps.map(step => (
          <TableRow key={step.name}>
            <TableCell>{step.name}</TableCell>
            <TableCell>
              <StatusChip status={step.status} />
            </TableCell>
            <TableCell>{stepDuration(step)}</TableCell>
            <TableCell>{step.message}</TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}
