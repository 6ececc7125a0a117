import { ResponseErrorPanel } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import {
  CreateDeploymentBody,
  DeploymentType,
  ModelBuild,
  ModelDeployment,
  ModelRef,
} from '@internal/plugin-ml-platform-common';
import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogTitle from '@material-ui/core/DialogTitle';
import FormControl from '@material-ui/core/FormControl';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import FormHelperText from '@material-ui/core/FormHelperText';
import FormLabel from '@material-ui/core/FormLabel';
import Grid from '@material-ui/core/Grid';
import Radio from '@material-ui/core/Radio';
import RadioGroup from '@material-ui/core/RadioGroup';
import TextField from '@material-ui/core/TextField';
import { FormEvent, useState } from 'react';
import { mlPlatformApiRef } from '../../api';
import { useElementId } from '../../hooks';
import { definedOnly, parseOptionalInt } from '../../lib/numbers';
import { BuildSelect } from './BuildSelect';
import { NumberField } from './NumberField';

// Five or six space-separated fields, as the manifest schema accepts.
const CRON = /^(\S+\s+){4,5}\S+$/;

type Sizes = Record<
  | 'replicas'
  | 'minReplicas'
  | 'maxReplicas'
  | 'chunkSize'
  | 'parallelism'
  | 'maxRetries'
  | 'schedule',
  string
>;

const str = (n: number | string | undefined) =>
  n === undefined ? '' : String(n);

/** The build's own manifest sizes, when the build carries its manifest. */
function sizesOf(build: ModelBuild | undefined): Sizes {
  const spec = build?.manifest?.spec;
  return {
    replicas: str(spec?.online?.replicas),
    minReplicas: str(spec?.online?.minReplicas),
    maxReplicas: str(spec?.online?.maxReplicas),
    chunkSize: str(spec?.batch?.chunkSize),
    parallelism: str(spec?.batch?.parallelism),
    maxRetries: str(spec?.batch?.maxRetries),
    schedule: str(spec?.batch?.schedule),
  };
}

/** The request body, or what is wrong with the form. */
export function deploymentBody(
  buildId: string,
  type: DeploymentType,
  sizes: Sizes,
): { body?: CreateDeploymentBody; errors: Partial<Sizes> } {
  const errors: Partial<Sizes> = {};
  const int = (key: keyof Sizes, min: number, max?: number) => {
    const parsed = parseOptionalInt(sizes[key], { min, max });
    if (parsed.error) errors[key] = parsed.error;
    return parsed.value;
  };
  if (type === 'online') {
    const replicas = int('replicas', 0, 64);
    const minReplicas = int('minReplicas', 0, 64);
    const maxReplicas = int('maxReplicas', 1, 64);
    if (maxReplicas !== undefined) {
      if (minReplicas !== undefined && minReplicas > maxReplicas) {
        errors.minReplicas = `must not exceed max replicas (${maxReplicas})`;
      }
      if (replicas !== undefined && replicas > maxReplicas) {
        errors.replicas = `must not exceed max replicas (${maxReplicas})`;
      }
    }
    if (Object.keys(errors).length) return { errors };
    return {
      errors,
      body: {
        buildId,
        type,
        ...definedOnly({ replicas, minReplicas, maxReplicas }),
      },
    };
  }
  const chunkSize = int('chunkSize', 1);
  const parallelism = int('parallelism', 1, 64);
  const maxRetries = int('maxRetries', 0, 20);
  const schedule = sizes.schedule.trim() || undefined;
  if (schedule && !CRON.test(schedule)) {
    errors.schedule = 'expected a cron expression like "0 3 * * *"';
  }
  if (Object.keys(errors).length) return { errors };
  return {
    errors,
    body: {
      buildId,
      type,
      batch: definedOnly({ chunkSize, parallelism, maxRetries, schedule }),
    },
  };
}

/** Deploys a succeeded build online (kept running) or as a batch model. */
export function DeployDialog(props: {
  modelRef: ModelRef;
  open: boolean;
  builds: ModelBuild[];
  deployments: ModelDeployment[];
  onClose: () => void;
  onCreated: (deployment: ModelDeployment) => void;
}) {
  const { modelRef, open, builds, deployments, onClose, onCreated } = props;
  const api = useApi(mlPlatformApiRef);
  const titleId = useElementId('ml-platform-deploy-dialog-title');
  const taken = new Set(deployments.map(d => d.type));
  const [buildId, setBuildId] = useState(builds[0]?.id ?? '');
  const [type, setType] = useState<DeploymentType>(
    taken.has('online') && !taken.has('batch') ? 'batch' : 'online',
  );
  const [sizes, setSizes] = useState<Sizes>(() => sizesOf(builds[0]));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error>();

  const { body, errors } = deploymentBody(buildId, type, sizes);
  const set = (key: keyof Sizes) => (value: string) =>
    setSizes(s => ({ ...s, [key]: value }));
  const blank = 'Blank: the value in the build’s mlmodel.yaml';

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!body) return;
    setBusy(true);
    setError(undefined);
    try {
      const created = await api.createDeployment(modelRef, body);
      onCreated(created);
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
        <DialogTitle id={titleId}>Deploy a build</DialogTitle>
        <DialogContent>
          <BuildSelect
            id="deploy-build"
            label="Build"
            builds={builds}
            value={buildId}
            onChange={id => {
              setBuildId(id);
              setSizes(sizesOf(builds.find(b => b.id === id)));
            }}
            helperText="Only succeeded builds can be deployed"
          />
          <FormControl component="fieldset" margin="normal">
            <FormLabel component="legend">Deployment type</FormLabel>
            <RadioGroup
              row
              value={type}
              onChange={e => setType(e.target.value as DeploymentType)}
            >
              <FormControlLabel
                value="online"
                control={<Radio />}
                label="Online"
                disabled={taken.has('online')}
              />
              <FormControlLabel
                value="batch"
                control={<Radio />}
                label="Batch"
                disabled={taken.has('batch')}
              />
            </RadioGroup>
            <FormHelperText>
              {type === 'online'
                ? 'Replicas stay running and answer predictions.'
                : 'Nothing runs until an execution is started, by hand or on the schedule.'}
              {taken.size > 0 &&
                ' A model has one deployment of each type; roll out another build from its card.'}
            </FormHelperText>
          </FormControl>
          {type === 'online' ? (
            <Grid container spacing={2}>
              <Grid item xs={4}>
                <NumberField
                  id="deploy-replicas"
                  label="Replicas"
                  value={sizes.replicas}
                  onChange={set('replicas')}
                  error={errors.replicas}
                  helperText={blank}
                  min={0}
                  max={64}
                />
              </Grid>
              <Grid item xs={4}>
                <NumberField
                  id="deploy-min-replicas"
                  label="Min replicas"
                  value={sizes.minReplicas}
                  onChange={set('minReplicas')}
                  error={errors.minReplicas}
                  helperText="0 scales to zero when idle"
                  min={0}
                  max={64}
                />
              </Grid>
              <Grid item xs={4}>
                <NumberField
                  id="deploy-max-replicas"
                  label="Max replicas"
                  value={sizes.maxReplicas}
                  onChange={set('maxReplicas')}
                  error={errors.maxReplicas}
                  min={1}
                  max={64}
                />
              </Grid>
            </Grid>
          ) : (
            <Grid container spacing={2}>
              <Grid item xs={4}>
                <NumberField
                  id="deploy-chunk-size"
                  label="Chunk size (rows)"
                  value={sizes.chunkSize}
                  onChange={set('chunkSize')}
                  error={errors.chunkSize}
                  helperText={blank}
                  min={1}
                />
              </Grid>
              <Grid item xs={4}>
                <NumberField
                  id="deploy-parallelism"
                  label="Parallelism"
                  value={sizes.parallelism}
                  onChange={set('parallelism')}
                  error={errors.parallelism}
                  helperText="Chunks running at once"
                  min={1}
                  max={64}
                />
              </Grid>
              <Grid item xs={4}>
                <NumberField
                  id="deploy-max-retries"
                  label="Retries"
                  value={sizes.maxRetries}
                  onChange={set('maxRetries')}
                  error={errors.maxRetries}
                  helperText="Per failed chunk"
                  min={0}
                  max={20}
                />
              </Grid>
              <Grid item xs={12}>
                <TextField
                  id="deploy-schedule"
                  fullWidth
                  margin="dense"
                  label="Schedule (cron, optional)"
                  placeholder="0 3 * * *"
                  value={sizes.schedule}
                  onChange={e => set('schedule')(e.target.value)}
                  error={!!errors.schedule}
                  helperText={
                    errors.schedule ??
                    'Starts an execution on this schedule; blank: only by hand'
                  }
                />
              </Grid>
            </Grid>
          )}
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
            disabled={busy || !body || !buildId || taken.has(type)}
          >
            Deploy
          </Button>
        </DialogActions>
      </form>
    </Dialog>
  );
}
