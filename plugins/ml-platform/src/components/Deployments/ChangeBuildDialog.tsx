import { ResponseErrorPanel } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import {
  ModelBuild,
  ModelDeployment,
} from '@internal/plugin-ml-platform-common';
import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogContentText from '@material-ui/core/DialogContentText';
import DialogTitle from '@material-ui/core/DialogTitle';
import { FormEvent, useState } from 'react';
import { mlPlatformApiRef } from '../../api';
import { useElementId } from '../../hooks';
import { buildLabel } from '../../lib/format';
import { BuildSelect } from './BuildSelect';

/**
 * Rolls a deployment out to another succeeded build: a newer one (roll out)
 * or an earlier one (roll back). The same PATCH either way; the new build's
 * replicas start before the old ones stop.
 */
export function ChangeBuildDialog(props: {
  mode: 'rollout' | 'rollback';
  deployment: ModelDeployment;
  /** Succeeded builds to choose from, newest first. */
  builds: ModelBuild[];
  allBuilds: ModelBuild[];
  onClose: () => void;
  onChanged: () => void;
}) {
  const { mode, deployment, builds, allBuilds, onClose, onChanged } = props;
  const api = useApi(mlPlatformApiRef);
  const titleId = useElementId('ml-platform-change-build-dialog-title');
  const [buildId, setBuildId] = useState(builds[0]?.id ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error>();
  const verb = mode === 'rollout' ? 'Roll out' : 'Roll back';

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api.updateDeployment(deployment.id, { buildId });
      onChanged();
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
      open
      onClose={busy ? undefined : onClose}
      fullWidth
    >
      <form onSubmit={submit}>
        <DialogTitle id={titleId}>
          {verb} the {deployment.type} deployment
        </DialogTitle>
        <DialogContent>
          <DialogContentText>
            It runs {buildLabel(deployment.buildId, allBuilds)} now.
            {deployment.type === 'online' &&
              ' The chosen build’s replicas start first; the old ones stop once they are ready.'}
          </DialogContentText>
          <BuildSelect
            id={`${mode}-build`}
            label={mode === 'rollout' ? 'New build' : 'Earlier build'}
            builds={builds}
            value={buildId}
            onChange={setBuildId}
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
            disabled={busy || !buildId}
          >
            {verb}
          </Button>
        </DialogActions>
      </form>
    </Dialog>
  );
}
