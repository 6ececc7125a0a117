import Button, { ButtonProps } from '@material-ui/core/Button';
import Tooltip from '@material-ui/core/Tooltip';
import type { Decision } from '../../hooks';

export type ActionButtonProps = ButtonProps & {
  /** The permission decision for this action. */
  decision?: Decision;
  /** Why the action cannot run now, for reasons other than permissions. */
  disabledReason?: string;
};

/**
 * A button that, when it may not be used, stays visible but disabled and
 * says why in a tooltip instead of disappearing.
 */
export function ActionButton(props: ActionButtonProps) {
  const { decision, disabledReason, children, ...buttonProps } = props;
  const reason =
    decision && !decision.allowed
      ? decision.reason ?? 'You are not allowed to do this'
      : disabledReason;
  if (!reason) {
    return <Button {...buttonProps}>{children}</Button>;
  }
  // Disabled buttons fire no mouse events; the span carries the tooltip.
  return (
    <Tooltip title={reason}>
      <span>
        <Button {...buttonProps} disabled>
          {children}
        </Button>
      </span>
    </Tooltip>
  );
}
