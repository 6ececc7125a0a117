import { useApi } from '@backstage/core-plugin-api';
import {
  ModelBuild,
  ModelDeployment,
} from '@internal/plugin-ml-platform-common';
import DialogContentText from '@material-ui/core/DialogContentText';
import { useState } from 'react';
import { mlPlatformApiRef } from '../../api';
import { buildLabel } from '../../lib/format';
import { FormDialog } from '../FormDialog';
import { BuildSelect } from './BuildSelect';

/**
 * Rolls a deployment out to another succeeded build: a newer one (roll out)
 * or an earlier one (roll back). The same PATCH either way; the new build's
 * replicas start before the old ones stop.
 */
export function ChangeBuildDialog(props: {
  mode: 'rollout' | 'rollback';
  deployment: ModelDeployment;
  /** Succeeded builds to choose from, newest first. */
  builds: ModelBuild[];
  allBuilds: ModelBuild[];
  onClose: () => void;
  onChanged: () => void;
}) {
  const { mode, deployment, builds, allBuilds, onClose, onChanged } = props;
  const api = useApi(mlPlatformApiRef);
  const [buildId, setBuildId] = useState(builds[0]?.id ?? '');
  const verb = mode === 'rollout' ? 'Roll out' : 'Roll back';

  const submit = async () => {
    await api.updateDeployment(deployment.id, { buildId });
    onChanged();
    onClose();
  };

  return (
    <FormDialog
      title={`${verb} the ${deployment.type} deployment`}
      submitLabel={verb}
      submitDisabled={!buildId}
      onSubmit={submit}
      onClose={onClose}
    >
      <DialogContentText>
        It runs {buildLabel(deployment.buildId, allBuilds)} now.
        {deployment.type === 'online' &&
          ' The chosen build’s replicas start first; the old ones stop once they are ready.'}
      </DialogContentText>
      <BuildSelect
        id={`${mode}-build`}
        label={mode === 'rollout' ? 'New build' : 'Earlier build'}
        builds={builds}
        value={buildId}
        onChange={setBuildId}
      />
    </FormDialog>
  );
}
