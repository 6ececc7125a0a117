import { ManifestField } from '@internal/plugin-ml-platform-common';
import Checkbox from '@material-ui/core/Checkbox';
import FormControl from '@material-ui/core/FormControl';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import FormHelperText from '@material-ui/core/FormHelperText';
import Grid from '@material-ui/core/Grid';
import TextField from '@material-ui/core/TextField';
import { InputValues } from './values';

export interface InputFormProps {
  fields: ManifestField[];
  values: InputValues;
  onChange: (values: InputValues) => void;
  /** Per-field messages, e.g. from `rowFromValues`. */
  errors?: Record<string, string>;
  disabled?: boolean;
}

function FieldInput(props: {
  field: ManifestField;
  value: string | boolean;
  error?: string;
  disabled?: boolean;
  onChange: (value: string | boolean) => void;
}) {
  const { field, value, error, disabled, onChange } = props;
  const help = error ?? field.description ?? field.type;
  if (field.type === 'boolean') {
    return (
      <FormControl error={!!error} disabled={disabled}>
        <FormControlLabel
          label={field.name}
          control={
            <Checkbox
              color="primary"
              checked={value === true}
              onChange={e => onChange(e.target.checked)}
            />
          }
        />
        <FormHelperText>{help}</FormHelperText>
      </FormControl>
    );
  }
  const numeric = field.type === 'integer' || field.type === 'double';
  return (
    <TextField
      id={`input-field-${field.name}`}
      fullWidth
      variant="outlined"
      margin="dense"
      label={field.name}
      type={numeric ? 'number' : 'text'}
      inputProps={
        numeric ? { step: field.type === 'integer' ? 1 : 'any' } : undefined
      }
      required={field.required}
      value={typeof value === 'string' ? value : ''}
      error={!!error}
      helperText={help}
      disabled={disabled}
      onChange={e => onChange(e.target.value)}
    />
  );
}

/**
 * A form for one record of a model's input, one control per manifest field:
 * numbers for integer and double, a checkbox for boolean, text for string.
 */
export function InputForm(props: InputFormProps) {
  const { fields, values, onChange, errors, disabled } = props;
  return (
    <Grid container spacing={2}>
      {fields.map(field => (
        <Grid item xs={12} sm={6} md={4} key={field.name}>
          <FieldInput
            field={field}
            value={
              values[field.name] ?? (field.type === 'boolean' ? false : '')
            }
            error={errors?.[field.name]}
            disabled={disabled}
            onChange={value => onChange({ ...values, [field.name]: value })}
          />
        </Grid>
      ))}
    </Grid>
  );
}
