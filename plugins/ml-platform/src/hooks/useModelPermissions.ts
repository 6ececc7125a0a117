import { useApi } from '@backstage/core-plugin-api';
import {
  ModelPermissions,
  ModelRef,
} from '@internal/plugin-ml-platform-common';
import useAsync from 'react-use/esm/useAsync';
import { mlPlatformApiRef } from '../api';

/** One action's decision: allowed, or the reason shown on the disabled control. */
export type Decision = ModelPermissions['build'];

/**
 * What the user may do with the model. Until the answer arrives, and when it
 * cannot be had, actions stay disabled and say why.
 */
export function useModelPermissions(ref: ModelRef): ModelPermissions {
  const api = useApi(mlPlatformApiRef);
  const { value, error } = useAsync(
    () => api.getModelPermissions(ref),
    [api, ref.namespace, ref.name],
  );
  if (value) {
    return value;
  }
  const pending: Decision = {
    allowed: false,
    reason: error
      ? `Could not check permissions: ${error.message}`
      : 'Checking permissions…',
  };
  return {
    build: pending,
    deploy: pending,
    execute: pending,
    register: pending,
    cancelBuild: pending,
    updateDeployment: pending,
    deleteDeployment: pending,
    cancelExecution: pending,
    updateAlerts: pending,
    invoke: pending,
    read: pending,
  };
}
