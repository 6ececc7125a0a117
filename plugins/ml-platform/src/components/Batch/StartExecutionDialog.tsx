import { useApi } from '@backstage/core-plugin-api';
import {
  BatchExecution,
  DataFormat,
  ModelBuild,
  ModelDeployment,
  ModelRef,
} from '@internal/plugin-ml-platform-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import FormControl from '@material-ui/core/FormControl';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import FormHelperText from '@material-ui/core/FormHelperText';
import FormLabel from '@material-ui/core/FormLabel';
import Grid from '@material-ui/core/Grid';
import Radio from '@material-ui/core/Radio';
import RadioGroup from '@material-ui/core/RadioGroup';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import { useState } from 'react';
import { mlPlatformApiRef } from '../../api';
import { buildLabel, formatCount } from '../../lib/format';
import { SIZE_RANGES } from '../../lib/numbers';
import { FormDialog } from '../FormDialog';
import { NumberField } from '../NumberField';
import {
  ExecutionForm,
  InputKind,
  OutputKind,
  formatOfFilename,
  validateExecutionForm,
} from './executionForm';

const FORMATS: DataFormat[] = ['csv', 'jsonl', 'parquet'];

/**
 * Starts a batch execution: which model (a batch deployment or a build),
 * which rows (an uploaded file, a server path or a URL) and where the
 * predictions go (a file or a table).
 */
export function StartExecutionDialog(props: {
  modelRef: ModelRef;
  batchDeployments: ModelDeployment[];
  builds: ModelBuild[];
  onClose: () => void;
  onStarted: (execution: BatchExecution) => void;
}) {
  const { modelRef, batchDeployments, builds, onClose, onStarted } = props;
  const api = useApi(mlPlatformApiRef);
  const succeeded = builds.filter(b => b.status === 'succeeded');
  const [form, setForm] = useState<ExecutionForm>(() => ({
    target: batchDeployments[0]
      ? `deployment:${batchDeployments[0].id}`
      : `build:${succeeded[0]?.id ?? ''}`,
    inputKind: 'upload',
    path: '',
    url: '',
    outputKind: 'file',
    outputFormat: 'csv',
    connection: '',
    table: '',
    chunkSize: '',
    parallelism: '',
  }));
  const [touched, setTouched] = useState(false);
  const [stage, setStage] = useState<string>();
  const { errors, body } = validateExecutionForm(form);
  const shown = touched ? errors : {};
  const set = <K extends keyof ExecutionForm>(
    key: K,
    value: ExecutionForm[K],
  ) => setForm(f => ({ ...f, [key]: value }));

  const start = async (valid: NonNullable<typeof body>) => {
    let input = valid.input;
    if (form.inputKind === 'upload' && form.file) {
      setStage(`Uploading ${form.file.name}…`);
      const uploaded = await api.uploadInput(
        modelRef,
        form.file,
        form.file.name,
      );
      input = {
        type: 'upload',
        uploadId: uploaded.uploadId,
        format: uploaded.format,
      };
    }
    if (!input) return;
    setStage('Starting…');
    const execution = await api.createExecution(modelRef, { ...valid, input });
    onStarted(execution);
    onClose();
  };

  return (
    <FormDialog
      title="Start a batch execution"
      submitLabel="Start"
      submitDisabled={touched && !body}
      onSubmit={() => {
        setTouched(true);
        return body && start(body);
      }}
      status={stage}
      onClose={onClose}
      maxWidth="md"
      noValidate
    >
      <TextField
        id="execution-target"
        select
        fullWidth
        margin="normal"
        label="Model"
        value={form.target}
        onChange={e => set('target', e.target.value)}
        SelectProps={{ native: true }}
        error={!!shown.target}
        helperText={
          shown.target ??
          'A batch deployment uses its sizes; a build runs with the defaults'
        }
      >
        {batchDeployments.map(d => (
          <option key={d.id} value={`deployment:${d.id}`}>
            Batch deployment ({buildLabel(d.buildId, builds)})
          </option>
        ))}
        {succeeded.map(b => (
          <option key={b.id} value={`build:${b.id}`}>
            Build v{b.version}
            {b.branch ? ` (${b.branch})` : ''}
          </option>
        ))}
      </TextField>

      <FormControl component="fieldset" margin="normal" fullWidth>
        <FormLabel component="legend">Input</FormLabel>
        <RadioGroup
          row
          value={form.inputKind}
          onChange={e => set('inputKind', e.target.value as InputKind)}
        >
          <FormControlLabel
            value="upload"
            control={<Radio />}
            label="Upload a file"
          />
          <FormControlLabel
            value="path"
            control={<Radio />}
            label="Server path"
          />
          <FormControlLabel value="url" control={<Radio />} label="URL" />
        </RadioGroup>
        {form.inputKind === 'upload' && (
          <Box display="flex" alignItems="center" style={{ gap: 16 }}>
            <Button variant="outlined" component="label">
              Choose file
              <input
                type="file"
                hidden
                aria-label="Input file"
                accept=".csv,.jsonl,.ndjson,.parquet"
                onChange={e => {
                  const file = e.target.files?.[0];
                  set('file', file);
                  const format = file && formatOfFilename(file.name);
                  if (format) set('outputFormat', format);
                }}
              />
            </Button>
            <Typography variant="body2">
              {form.file
                ? `${form.file.name} (${formatCount(form.file.size)} bytes)`
                : 'CSV, JSON Lines or Parquet'}
            </Typography>
          </Box>
        )}
        {form.inputKind === 'path' && (
          <TextField
            id="execution-path"
            fullWidth
            margin="dense"
            label="Path on the server"
            placeholder="/data/customers.parquet"
            value={form.path}
            onChange={e => set('path', e.target.value)}
            error={!!shown.path}
            helperText={shown.path}
          />
        )}
        {form.inputKind === 'url' && (
          <TextField
            id="execution-url"
            fullWidth
            margin="dense"
            label="URL"
            placeholder="https://example.com/customers.csv"
            value={form.url}
            onChange={e => set('url', e.target.value)}
            error={!!shown.url}
            helperText={shown.url}
          />
        )}
        {shown.file && <FormHelperText error>{shown.file}</FormHelperText>}
      </FormControl>

      <FormControl component="fieldset" margin="normal" fullWidth>
        <FormLabel component="legend">Output</FormLabel>
        <RadioGroup
          row
          value={form.outputKind}
          onChange={e => set('outputKind', e.target.value as OutputKind)}
        >
          <FormControlLabel value="file" control={<Radio />} label="File" />
          <FormControlLabel
            value="table"
            control={<Radio />}
            label="Database table"
          />
        </RadioGroup>
        {form.outputKind === 'file' ? (
          <TextField
            id="execution-output-format"
            select
            margin="dense"
            label="Format"
            value={form.outputFormat}
            onChange={e => set('outputFormat', e.target.value as DataFormat)}
            SelectProps={{ native: true }}
          >
            {FORMATS.map(f => (
              <option key={f} value={f}>
                {f}
              </option>
            ))}
          </TextField>
        ) : (
          <Grid container spacing={2}>
            <Grid item xs={6}>
              <TextField
                id="execution-connection"
                fullWidth
                margin="dense"
                label="Connection"
                value={form.connection}
                onChange={e => set('connection', e.target.value)}
                error={!!shown.connection}
                helperText={
                  shown.connection ??
                  'A connection under mlPlatform.batch.connections'
                }
              />
            </Grid>
            <Grid item xs={6}>
              <TextField
                id="execution-table"
                fullWidth
                margin="dense"
                label="Table"
                value={form.table}
                onChange={e => set('table', e.target.value)}
                error={!!shown.table}
                helperText={shown.table}
              />
            </Grid>
          </Grid>
        )}
      </FormControl>

      <Grid container spacing={2}>
        <Grid item xs={6}>
          <NumberField
            id="execution-chunk-size"
            label="Chunk size (optional)"
            value={form.chunkSize}
            onChange={v => set('chunkSize', v)}
            error={shown.chunkSize}
            helperText="Rows per chunk; blank: the deployment's"
            range={SIZE_RANGES.chunkSize}
          />
        </Grid>
        <Grid item xs={6}>
          <NumberField
            id="execution-parallelism"
            label="Parallelism (optional)"
            value={form.parallelism}
            onChange={v => set('parallelism', v)}
            error={shown.parallelism}
            helperText="Chunks at once; blank: the deployment's"
            range={SIZE_RANGES.parallelism}
          />
        </Grid>
      </Grid>
    </FormDialog>
  );
}
