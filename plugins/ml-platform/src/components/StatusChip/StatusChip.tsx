import {
  StatusAborted,
  StatusError,
  StatusOK,
  StatusPending,
  StatusRunning,
  StatusWarning,
} from '@backstage/core-components';

const byStatus: Record<string, typeof StatusOK> = {
  succeeded: StatusOK,
  ready: StatusOK,
  queued: StatusPending,
  pending: StatusPending,
  running: StatusRunning,
  deploying: StatusRunning,
  degraded: StatusWarning,
  failed: StatusError,
  cancelled: StatusAborted,
  stopped: StatusAborted,
  skipped: StatusAborted,
  // Replica states.
  starting: StatusRunning,
  restarting: StatusWarning,
  stopping: StatusAborted,
};

/** A build, step, deployment, replica or execution status with its Backstage status icon. */
export function StatusChip(props: { status: string; label?: string }) {
  const Icon = byStatus[props.status] ?? StatusPending;
  return <Icon>{props.label ?? props.status}</Icon>;
}
