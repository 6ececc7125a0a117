import { useApi } from '@backstage/core-plugin-api';
import {
  CreateDeploymentBody,
  DeploymentType,
  ModelBuild,
  ModelDeployment,
  ModelRef,
} from '@internal/plugin-ml-platform-common';
import FormControl from '@material-ui/core/FormControl';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import FormHelperText from '@material-ui/core/FormHelperText';
import FormLabel from '@material-ui/core/FormLabel';
import Grid from '@material-ui/core/Grid';
import Radio from '@material-ui/core/Radio';
import RadioGroup from '@material-ui/core/RadioGroup';
import TextField from '@material-ui/core/TextField';
import { useState } from 'react';
import { mlPlatformApiRef } from '../../api';
import { definedOnly, parseOptionalInt, SIZE_RANGES } from '../../lib/numbers';
import { FormDialog } from '../FormDialog';
import { NumberField } from '../NumberField';
import { BuildSelect } from './BuildSelect';
import { parseReplicas, ReplicaFields } from './ReplicaFields';

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
  if (type === 'online') {
    const { values, errors } = parseReplicas(sizes);
    if (Object.keys(errors).length) return { errors };
    return { errors, body: { buildId, type, ...definedOnly(values) } };
  }
  const errors: Partial<Sizes> = {};
  const int = (key: 'chunkSize' | 'parallelism' | 'maxRetries') => {
    const parsed = parseOptionalInt(sizes[key], SIZE_RANGES[key]);
    if (parsed.error) errors[key] = parsed.error;
    return parsed.value;
  };
  const chunkSize = int('chunkSize');
  const parallelism = int('parallelism');
  const maxRetries = int('maxRetries');
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
  const taken = new Set(deployments.map(d => d.type));
  const [buildId, setBuildId] = useState(builds[0]?.id ?? '');
  const [type, setType] = useState<DeploymentType>(
    taken.has('online') && !taken.has('batch') ? 'batch' : 'online',
  );
  const [sizes, setSizes] = useState<Sizes>(() => sizesOf(builds[0]));

  const { body, errors } = deploymentBody(buildId, type, sizes);
  const set = (key: keyof Sizes, value: string) =>
    setSizes(s => ({ ...s, [key]: value }));
  const blank = 'Blank: the value in the build’s mlmodel.yaml';

  const deploy = async (valid: CreateDeploymentBody) => {
    const created = await api.createDeployment(modelRef, valid);
    onCreated(created);
    onClose();
  };

  return (
    <FormDialog
      open={open}
      title="Deploy a build"
      submitLabel="Deploy"
      submitDisabled={!body || !buildId || taken.has(type)}
      onSubmit={() => body && deploy(body)}
      onClose={onClose}
    >
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
        <ReplicaFields
          idPrefix="deploy"
          value={sizes}
          errors={errors}
          onChange={set}
          replicasHelperText={blank}
        />
      ) : (
        <Grid container spacing={2}>
          <Grid item xs={4}>
            <NumberField
              id="deploy-chunk-size"
              label="Chunk size (rows)"
              value={sizes.chunkSize}
              onChange={v => set('chunkSize', v)}
              error={errors.chunkSize}
              helperText={blank}
              range={SIZE_RANGES.chunkSize}
            />
          </Grid>
          <Grid item xs={4}>
            <NumberField
              id="deploy-parallelism"
              label="Parallelism"
              value={sizes.parallelism}
              onChange={v => set('parallelism', v)}
              error={errors.parallelism}
              helperText="Chunks running at once"
              range={SIZE_RANGES.parallelism}
            />
          </Grid>
          <Grid item xs={4}>
            <NumberField
              id="deploy-max-retries"
              label="Retries"
              value={sizes.maxRetries}
              onChange={v => set('maxRetries', v)}
              error={errors.maxRetries}
              helperText="Per failed chunk"
              range={SIZE_RANGES.maxRetries}
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
              onChange={e => set('schedule', e.target.value)}
              error={!!errors.schedule}
              helperText={
                errors.schedule ??
                'Starts an execution on this schedule; blank: only by hand'
              }
            />
          </Grid>
        </Grid>
      )}
    </FormDialog>
  );
}
