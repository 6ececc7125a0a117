import { ResponseErrorPanel } from '@backstage/core-components';
import Button from '@material-ui/core/Button';
import Dialog, { DialogProps } from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogTitle from '@material-ui/core/DialogTitle';
import Typography from '@material-ui/core/Typography';
import { FormEvent, ReactNode, useState } from 'react';
import { useElementId } from '../../hooks';

export type FormDialogProps = {
  title: ReactNode;
  children: ReactNode;
  onClose: () => void;
  /** Defaults to open: most dialogs are mounted only while shown. */
  open?: boolean;
  submitLabel?: ReactNode;
  /**
   * Sends the form. Return the promise to show the dialog busy until it
   * settles and its error if it fails; return nothing when there is nothing
   * to send. Without `onSubmit` the dialog only shows, with a Close button.
   */
  onSubmit?: () => Promise<void> | undefined;
  submitDisabled?: boolean;
  /** Shows the submit button in the secondary (danger) colour. */
  destructive?: boolean;
  /** Beside the buttons while submitting, e.g. which step is running. */
  status?: ReactNode;
  noValidate?: boolean;
  fullWidth?: boolean;
  maxWidth?: DialogProps['maxWidth'];
};

/**
 * A titled dialog with Cancel and submit buttons. It stays open and busy
 * while submitting and shows the error instead of closing; the caller
 * closes it once the submission has done its work.
 */
export function FormDialog(props: FormDialogProps) {
  const {
    title,
    children,
    onClose,
    open = true,
    submitLabel,
    onSubmit,
    submitDisabled = false,
    destructive = false,
    status,
    noValidate,
    fullWidth = true,
    maxWidth,
  } = props;
  const titleId = useElementId('ml-platform-dialog-title');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error>();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    // Enter in a field submits too: allow only what the button allows.
    if (busy || submitDisabled || !onSubmit) return;
    const pending = onSubmit();
    if (!pending) return;
    setBusy(true);
    setError(undefined);
    try {
      await pending;
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };

  const content = (
    <>
      <DialogTitle id={titleId}>{title}</DialogTitle>
      <DialogContent>
        {children}
        {error && <ResponseErrorPanel error={error} />}
      </DialogContent>
      <DialogActions>
        {busy && status && <Typography variant="body2">{status}</Typography>}
        <Button onClick={onClose} disabled={busy}>
          {onSubmit ? 'Cancel' : 'Close'}
        </Button>
        {onSubmit && (
          <Button
            type="submit"
            color={destructive ? 'secondary' : 'primary'}
            variant="contained"
            disabled={busy || submitDisabled}
          >
            {submitLabel}
          </Button>
        )}
      </DialogActions>
    </>
  );

  return (
    <Dialog
      aria-labelledby={titleId}
      open={open}
      onClose={busy ? undefined : onClose}
      fullWidth={fullWidth}
      maxWidth={maxWidth}
    >
      {onSubmit ? (
        <form onSubmit={submit} noValidate={noValidate}>
          {content}
        </form>
      ) : (
        content
      )}
    </Dialog>
  );
}
