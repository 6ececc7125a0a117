import TextField from '@material-ui/core/TextField';
import { IntRange } from '../../lib/numbers';

/**
 * A whole-number field whose blank means "the default". The caller parses
 * the text with `parseOptionalInt` and the same `range`, and passes its error.
 */
export function NumberField(props: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  range: IntRange;
  error?: string;
  helperText?: string;
}) {
  const { id, label, value, onChange, range, error, helperText } = props;
  return (
    <TextField
      id={id}
      type="number"
      margin="dense"
      fullWidth
      label={label}
      value={value}
      onChange={e => onChange(e.target.value)}
      inputProps={{ min: range.min, max: range.max, step: 1 }}
      error={!!error}
      helperText={error ?? helperText}
    />
  );
}
