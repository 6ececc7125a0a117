import { ResponseErrorPanel } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { ModelBuild, ModelRef } from '@internal/plugin-ml-platform-common';
import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogTitle from '@material-ui/core/DialogTitle';
import TextField from '@material-ui/core/TextField';
import { FormEvent, useState } from 'react';
import { mlPlatformApiRef } from '../../api';
import { useElementId } from '../../hooks';

const COMMIT = /^[0-9a-fA-F]{7,64}$/;

/** Asks the platform to build a branch (or one commit) of the model. */
export function BuildDialog(props: {
  modelRef: ModelRef;
  open: boolean;
  onClose: () => void;
  onCreated: (build: ModelBuild) => void;
}) {
  const { modelRef, open, onClose, onCreated } = props;
  const api = useApi(mlPlatformApiRef);
  const titleId = useElementId('ml-platform-build-dialog-title');
  const [branch, setBranch] = useState('');
  const [commit, setCommit] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error>();
  const commitError =
    commit.trim() && !COMMIT.test(commit.trim())
      ? 'expected a commit SHA (7 to 64 hex digits)'
      : undefined;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (commitError) return;
    setBusy(true);
    setError(undefined);
    try {
      const build = await api.createBuild(modelRef, {
        ...(branch.trim() ? { branch: branch.trim() } : {}),
        ...(commit.trim() ? { commit: commit.trim() } : {}),
      });
      setBranch('');
      setCommit('');
      onCreated(build);
      onClose();
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog
      aria-labelledby={titleId}
      open={open}
      onClose={busy ? undefined : onClose}
      fullWidth
    >
      <form onSubmit={submit}>
        <DialogTitle id={titleId}>Build a branch</DialogTitle>
        <DialogContent>
          <TextField
            id="build-branch"
            fullWidth
            margin="normal"
            label="Branch"
            value={branch}
            onChange={e => setBranch(e.target.value)}
            helperText="Leave empty to build the model's tracked branch"
          />
          <TextField
            id="build-commit"
            fullWidth
            margin="normal"
            label="Commit (optional)"
            value={commit}
            onChange={e => setCommit(e.target.value)}
            error={!!commitError}
            helperText={
              commitError ?? 'A commit on the branch, instead of its head'
            }
          />
          {error && <ResponseErrorPanel error={error} />}
        </DialogContent>
        <DialogActions>
          <Button onClick={onClose} disabled={busy}>
            Cancel
          </Button>
          <Button
            type="submit"
            color="primary"
            variant="contained"
            disabled={busy || !!commitError}
          >
            Build
          </Button>
        </DialogActions>
      </form>
    </Dialog>
  );
}
