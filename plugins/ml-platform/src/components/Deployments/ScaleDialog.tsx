import { ResponseErrorPanel } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { ModelDeployment } from '@internal/plugin-ml-platform-common';
import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogTitle from '@material-ui/core/DialogTitle';
import Grid from '@material-ui/core/Grid';
import { FormEvent, useState } from 'react';
import { mlPlatformApiRef } from '../../api';
import { useElementId } from '../../hooks';
import { parseOptionalInt } from '../../lib/numbers';
import { NumberField } from './NumberField';

/** Changes an online deployment's replica counts; sends only what changed. */
export function ScaleDialog(props: {
  deployment: ModelDeployment;
  onClose: () => void;
  onChanged: () => void;
}) {
  const { deployment, onClose, onChanged } = props;
  const api = useApi(mlPlatformApiRef);
  const titleId = useElementId('ml-platform-scale-dialog-title');
  const [replicas, setReplicas] = useState(String(deployment.replicas));
  const [minReplicas, setMinReplicas] = useState(
    String(deployment.minReplicas),
  );
  const [maxReplicas, setMaxReplicas] = useState(
    String(deployment.maxReplicas),
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error>();

  const r = parseOptionalInt(replicas, { min: 0, max: 64 });
  const min = parseOptionalInt(minReplicas, { min: 0, max: 64 });
  const max = parseOptionalInt(maxReplicas, { min: 1, max: 64 });
  const effectiveMax = max.value ?? deployment.maxReplicas;
  const errors = {
    replicas:
      r.error ??
      (r.value !== undefined && r.value > effectiveMax
        ? `must not exceed max replicas (${effectiveMax})`
        : undefined),
    minReplicas:
      min.error ??
      (min.value !== undefined && min.value > effectiveMax
        ? `must not exceed max replicas (${effectiveMax})`
        : undefined),
    maxReplicas: max.error,
  };
  const body: {
    replicas?: number;
    minReplicas?: number;
    maxReplicas?: number;
  } = {};
  if (r.value !== undefined && r.value !== deployment.replicas) {
    body.replicas = r.value;
  }
  if (min.value !== undefined && min.value !== deployment.minReplicas) {
    body.minReplicas = min.value;
  }
  if (max.value !== undefined && max.value !== deployment.maxReplicas) {
    body.maxReplicas = max.value;
  }
  const valid = !Object.values(errors).some(Boolean);
  const changed = Object.keys(body).length > 0;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!valid || !changed) return;
    setBusy(true);
    setError(undefined);
    try {
      await api.updateDeployment(deployment.id, body);
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
        <DialogTitle id={titleId}>Scale the online deployment</DialogTitle>
        <DialogContent>
          <Grid container spacing={2}>
            <Grid item xs={4}>
              <NumberField
                id="scale-replicas"
                label="Replicas"
                value={replicas}
                onChange={setReplicas}
                error={errors.replicas}
                min={0}
                max={64}
              />
            </Grid>
            <Grid item xs={4}>
              <NumberField
                id="scale-min-replicas"
                label="Min replicas"
                value={minReplicas}
                onChange={setMinReplicas}
                error={errors.minReplicas}
                helperText="0 scales to zero when idle"
                min={0}
                max={64}
              />
            </Grid>
            <Grid item xs={4}>
              <NumberField
                id="scale-max-replicas"
                label="Max replicas"
                value={maxReplicas}
                onChange={setMaxReplicas}
                error={errors.maxReplicas}
                min={1}
                max={64}
              />
            </Grid>
          </Grid>
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
            disabled={busy || !valid || !changed}
          >
            Scale
          </Button>
        </DialogActions>
      </form>
    </Dialog>
  );
}
