import DialogContentText from '@material-ui/core/DialogContentText';
import { ReactNode } from 'react';
import { FormDialog } from '../FormDialog';

/** Asks before a destructive action; shows its error instead of closing. */
export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => Promise<void>;
  onClose: () => void;
}) {
  const { open, title, children, confirmLabel, onConfirm, onClose } = props;
  return (
    <FormDialog
      open={open}
      title={title}
      submitLabel={confirmLabel}
      destructive
      fullWidth={false}
      maxWidth="sm"
      onClose={onClose}
      onSubmit={async () => {
        await onConfirm();
        onClose();
      }}
    >
      <DialogContentText component="div">{children}</DialogContentText>
    </FormDialog>
  );
}
