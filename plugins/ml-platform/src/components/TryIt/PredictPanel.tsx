import { ResponseErrorPanel } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import {
  ManifestField,
  ModelInterface,
  ModelRef,
  PredictionResult,
} from '@internal/plugin-ml-platform-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Tab from '@material-ui/core/Tab';
import Tabs from '@material-ui/core/Tabs';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import { FormEvent, useState } from 'react';
import { mlPlatformApiRef } from '../../api';
import {
  isV2Body,
  recordsExample,
  matrixInputs,
  v2Example,
  v2MatrixBody,
} from '../../lib/examples';
import { InputForm, initialInputValues, rowFromValues } from '../InputForm';
import { PredictionView } from './PredictionView';

type Mode = 'form' | 'json';

const pretty = (o: unknown) => JSON.stringify(o, null, 2);

/**
 * One prediction from the portal: a form from the build's input schema or
 * the raw request body, and the answer with its status and latency. Models
 * that take a 2-D array (`ndarray`) are called with the single-tensor
 * Open Inference Protocol form; any V2 body typed in goes to the V2 route.
 */
export function PredictPanel(props: {
  modelRef: ModelRef;
  fields?: ManifestField[];
  modelInterface?: ModelInterface;
}) {
  const { modelRef, fields, modelInterface } = props;
  const matrix = matrixInputs(fields, modelInterface);
  const api = useApi(mlPlatformApiRef);
  const [mode, setMode] = useState<Mode>(fields ? 'form' : 'json');
  const [values, setValues] = useState(() => initialInputValues(fields ?? []));
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [json, setJson] = useState(() =>
    pretty(matrix ? v2Example(fields, modelInterface) : recordsExample(fields)),
  );
  const [jsonError, setJsonError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<PredictionResult>();
  const [error, setError] = useState<Error>();

  const bodyHelp = matrix
    ? `Open Inference Protocol: every input in one [N, ${
        matrix.length
      }] tensor (${matrix.map(f => f.name).join(', ')}); or dataframe_records`
    : 'dataframe_records, dataframe_split, instances or inputs; or Open Inference Protocol tensors';

  /** The form's row as a request body, with the fields it cannot hold. */
  const formBody = (formFields: ManifestField[]) => {
    const { row, errors } = rowFromValues(formFields, values);
    if (!matrix) return { body: { dataframe_records: [row] }, errors };
    // A matrix has no gaps: every input is needed.
    for (const f of formFields) {
      if (!(f.name in row) && !errors[f.name]) {
        errors[f.name] = 'required: the model takes every input';
      }
    }
    return { body: v2MatrixBody(formFields, [row]), errors };
  };

  const switchMode = (next: Mode) => {
    // The body editor starts from what the form holds.
    if (next === 'json' && fields) {
      setJson(pretty(formBody(fields).body));
      setJsonError(undefined);
    }
    setMode(next);
  };

  const requestBody = (): unknown | undefined => {
    if (mode === 'form' && fields) {
      const { body, errors } = formBody(fields);
      setFieldErrors(errors);
      return Object.keys(errors).length ? undefined : body;
    }
    try {
      const parsed = JSON.parse(json);
      setJsonError(undefined);
      return parsed;
    } catch (e) {
      setJsonError(`Not valid JSON: ${(e as Error).message}`);
      return undefined;
    }
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const body = requestBody();
    if (body === undefined) return;
    setBusy(true);
    setError(undefined);
    try {
      // Model errors come back as a result; only transport failures throw.
      setResult(
        await (isV2Body(body)
          ? api.infer(modelRef.name, body)
          : api.predict(modelRef, body)),
      );
    } catch (e) {
      setResult(undefined);
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} noValidate>
      {fields ? (
        <Tabs
          value={mode}
          onChange={(_e, next) => switchMode(next)}
          indicatorColor="primary"
          aria-label="Input mode"
        >
          <Tab value="form" label="Form" />
          <Tab value="json" label="JSON" />
        </Tabs>
      ) : (
        <Typography variant="body2" color="textSecondary" paragraph>
          The build carries no input schema (<code>spec.schema.inputs</code> in
          mlmodel.yaml); write the request body yourself.
        </Typography>
      )}
      <Box mt={2}>
        {mode === 'form' && fields ? (
          <InputForm
            fields={fields}
            values={values}
            onChange={setValues}
            errors={fieldErrors}
            disabled={busy}
          />
        ) : (
          <TextField
            id="try-it-body"
            label="Request body"
            multiline
            fullWidth
            variant="outlined"
            minRows={8}
            value={json}
            onChange={e => setJson(e.target.value)}
            error={!!jsonError}
            helperText={jsonError ?? bodyHelp}
            inputProps={{ style: { fontFamily: 'monospace' } }}
            disabled={busy}
          />
        )}
      </Box>
      <Box mt={2}>
        <Button
          type="submit"
          variant="contained"
          color="primary"
          disabled={busy}
        >
          {busy ? 'Predicting…' : 'Predict'}
        </Button>
      </Box>
      {error && <ResponseErrorPanel error={error} />}
      {result && <PredictionView result={result} />}
    </form>
  );
}
