import {
  StatusAborted,
  StatusError,
  StatusOK,
  StatusPending,
  StatusRunning,
  StatusWarning,
} from '@backstage/core-components';
import { makeStyles } from '@material-ui/core/styles';

const byStatus: Record<string, typeof StatusOK> = {
  succeeded: StatusOK,
  ready: StatusOK,
  queued: StatusPending,
  pending: StatusPending,
  running: StatusRunning,
  deploying: StatusRunning,
  degraded: StatusWarning,
  failed: StatusError,
  // An attempt the permission policy or a quota refused.
  refused: StatusWarning,
  cancelled: StatusAborted,
  stopped: StatusAborted,
  skipped: StatusAborted,
  // Replica states.
  starting: StatusRunning,
  restarting: StatusWarning,
  stopping: StatusAborted,
  // Alert rule states.
  ok: StatusOK,
  firing: StatusError,
  resolved: StatusOK,
};

const useStyles = makeStyles(
  {
    // Backstage's Status* components are block-level flex boxes; an
    // inline-flex wrapper lets the chip sit inside a line of text.
    root: {
      display: 'inline-flex',
      alignItems: 'center',
      verticalAlign: 'bottom',
      maxWidth: '100%',
    },
  },
  { name: 'MlPlatformStatusChip' },
);

/**
 * A build, step, deployment, replica or execution status with its Backstage
 * status icon. It renders inline, so it can sit in a sentence, and its text
 * is read by assistive technology.
 */
export function StatusChip(props: { status: string; label?: string }) {
  const classes = useStyles();
  const Icon = byStatus[props.status] ?? StatusPending;
  return (
    <span className={classes.root} data-testid="status-chip">
      {/*
        The Status* components hide their text from assistive technology
        (aria-hidden) and name themselves "Status ok" and the like; undo both
        so the status itself is read. The icon stays hidden, as MUI icons are.
      */}
      <Icon aria-hidden={undefined} aria-label={undefined}>
        {props.label ?? props.status}
      </Icon>
    </span>
  );
}
