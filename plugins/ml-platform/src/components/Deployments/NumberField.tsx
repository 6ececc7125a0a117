import TextField from '@material-ui/core/TextField';

/** A whole-number field whose blank means "the default". */
export function NumberField(props: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  error?: string;
  helperText?: string;
  min?: number;
  max?: number;
}) {
  const { id, label, value, onChange, error, helperText, min, max } = props;
  return (
    <TextField
      id={id}
      type="number"
      margin="dense"
      fullWidth
      label={label}
      value={value}
      onChange={e => onChange(e.target.value)}
      inputProps={{ min, max, step: 1 }}
      error={!!error}
      helperText={error ?? helperText}
    />
  );
}
