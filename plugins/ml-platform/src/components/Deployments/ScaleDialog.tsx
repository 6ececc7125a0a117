import { useApi } from '@backstage/core-plugin-api';
import { ModelDeployment } from '@internal/plugin-ml-platform-common';
import { useState } from 'react';
import { mlPlatformApiRef } from '../../api';
import { FormDialog } from '../FormDialog';
import {
  parseReplicas,
  ReplicaCounts,
  ReplicaFields,
  ReplicaText,
} from './ReplicaFields';

/** Changes an online deployment's replica counts; sends only what changed. */
export function ScaleDialog(props: {
  deployment: ModelDeployment;
  onClose: () => void;
  onChanged: () => void;
}) {
  const { deployment, onClose, onChanged } = props;
  const api = useApi(mlPlatformApiRef);
  const [text, setText] = useState<ReplicaText>({
    replicas: String(deployment.replicas),
    minReplicas: String(deployment.minReplicas),
    maxReplicas: String(deployment.maxReplicas),
  });

  const { values, errors } = parseReplicas(text, deployment.maxReplicas);
  const body: ReplicaCounts = {};
  for (const key of ['replicas', 'minReplicas', 'maxReplicas'] as const) {
    const value = values[key];
    if (value !== undefined && value !== deployment[key]) body[key] = value;
  }
  const valid = !Object.values(errors).some(Boolean);
  const changed = Object.keys(body).length > 0;

  const submit = async () => {
    await api.updateDeployment(deployment.id, body);
    onChanged();
    onClose();
  };

  return (
    <FormDialog
      title="Scale the online deployment"
      submitLabel="Scale"
      submitDisabled={!valid || !changed}
      onSubmit={submit}
      onClose={onClose}
    >
      <ReplicaFields
        idPrefix="scale"
        value={text}
        errors={errors}
        onChange={(key, value) => setText(t => ({ ...t, [key]: value }))}
      />
    </FormDialog>
  );
}
