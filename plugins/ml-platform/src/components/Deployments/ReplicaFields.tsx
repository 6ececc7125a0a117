import Grid from '@material-ui/core/Grid';
import { parseOptionalInt, SIZE_RANGES } from '../../lib/numbers';
import { NumberField } from '../NumberField';

type ReplicaKey = 'replicas' | 'minReplicas' | 'maxReplicas';
export type ReplicaText = Record<ReplicaKey, string>;
export type ReplicaCounts = Partial<Record<ReplicaKey, number>>;

const KEYS: ReplicaKey[] = ['replicas', 'minReplicas', 'maxReplicas'];

/**
 * An online deployment's replica counts as typed: each blank or in range,
 * and neither replicas nor min replicas above max replicas. A blank or
 * invalid max is checked against `currentMax`, when there is one.
 */
export function parseReplicas(
  text: ReplicaText,
  currentMax?: number,
): { values: ReplicaCounts; errors: Partial<ReplicaText> } {
  const values: ReplicaCounts = {};
  const errors: Partial<ReplicaText> = {};
  for (const key of KEYS) {
    const parsed = parseOptionalInt(text[key], SIZE_RANGES[key]);
    values[key] = parsed.value;
    if (parsed.error) errors[key] = parsed.error;
  }
  const max = values.maxReplicas ?? currentMax;
  if (max !== undefined) {
    for (const key of ['minReplicas', 'replicas'] as const) {
      const value = values[key];
      if (value !== undefined && value > max) {
        errors[key] = `must not exceed max replicas (${max})`;
      }
    }
  }
  return { values, errors };
}

/** The replicas, min replicas and max replicas fields, side by side. */
export function ReplicaFields(props: {
  idPrefix: string;
  value: ReplicaText;
  errors: Partial<ReplicaText>;
  onChange: (key: ReplicaKey, value: string) => void;
  replicasHelperText?: string;
}) {
  const { idPrefix, value, errors, onChange, replicasHelperText } = props;
  return (
    <Grid container spacing={2}>
      <Grid item xs={4}>
        <NumberField
          id={`${idPrefix}-replicas`}
          label="Replicas"
          value={value.replicas}
          onChange={v => onChange('replicas', v)}
          error={errors.replicas}
          helperText={replicasHelperText}
          range={SIZE_RANGES.replicas}
        />
      </Grid>
      <Grid item xs={4}>
        <NumberField
          id={`${idPrefix}-min-replicas`}
          label="Min replicas"
          value={value.minReplicas}
          onChange={v => onChange('minReplicas', v)}
          error={errors.minReplicas}
          helperText="0 scales to zero when idle"
          range={SIZE_RANGES.minReplicas}
        />
      </Grid>
      <Grid item xs={4}>
        <NumberField
          id={`${idPrefix}-max-replicas`}
          label="Max replicas"
          value={value.maxReplicas}
          onChange={v => onChange('maxReplicas', v)}
          error={errors.maxReplicas}
          range={SIZE_RANGES.maxReplicas}
        />
      </Grid>
    </Grid>
  );
}
