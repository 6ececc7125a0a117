import { ModelBuild } from '@internal/plugin-ml-platform-common';
import TextField from '@material-ui/core/TextField';
import { shortSha } from '../../lib/format';

export function buildOptionLabel(build: ModelBuild): string {
  return [
    `v${build.version}`,
    build.branch,
    build.commitSha && shortSha(build.commitSha),
    build.commitMessage,
  ]
    .filter(Boolean)
    .join(' · ');
}

/** Picks one of the given builds. */
export function BuildSelect(props: {
  id: string;
  label: string;
  builds: ModelBuild[];
  value: string;
  onChange: (buildId: string) => void;
  helperText?: string;
}) {
  const { id, label, builds, value, onChange, helperText } = props;
  return (
    <TextField
      id={id}
      select
      fullWidth
      margin="normal"
      label={label}
      value={value}
      onChange={e => onChange(e.target.value)}
      SelectProps={{ native: true }}
      helperText={helperText}
    >
      {builds.map(b => (
        <option key={b.id} value={b.id}>
          {buildOptionLabel(b)}
        </option>
      ))}
    </TextField>
  );
}
