import { useApi } from '@backstage/core-plugin-api';
import {
  COMMIT_SHA,
  ModelBuild,
  ModelRef,
} from '@internal/plugin-ml-platform-common';
import TextField from '@material-ui/core/TextField';
import { useState } from 'react';
import { mlPlatformApiRef } from '../../api';
import { FormDialog } from '../FormDialog';

/** Asks the platform to build a branch (or one commit) of the model. */
export function BuildDialog(props: {
  modelRef: ModelRef;
  open: boolean;
  onClose: () => void;
  onCreated: (build: ModelBuild) => void;
}) {
  const { modelRef, open, onClose, onCreated } = props;
  const api = useApi(mlPlatformApiRef);
  const [branch, setBranch] = useState('');
  const [commit, setCommit] = useState('');
  const commitError =
    commit.trim() && !COMMIT_SHA.test(commit.trim())
      ? 'expected a commit SHA (7 to 64 hex digits)'
      : undefined;

  const submit = async () => {
    const build = await api.createBuild(modelRef, {
      ...(branch.trim() ? { branch: branch.trim() } : {}),
      ...(commit.trim() ? { commit: commit.trim() } : {}),
    });
    setBranch('');
    setCommit('');
    onCreated(build);
    onClose();
  };

  return (
    <FormDialog
      open={open}
      title="Build a branch"
      submitLabel="Build"
      submitDisabled={!!commitError}
      onSubmit={submit}
      onClose={onClose}
    >
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
    </FormDialog>
  );
}
