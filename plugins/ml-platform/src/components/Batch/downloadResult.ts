import {
  BatchExecution,
  MlPlatformApi,
} from '@internal/plugin-ml-platform-common';

/** `churn-1a2b3c4d-predictions.csv` */
export function resultFilename(execution: BatchExecution, model: string) {
  const format =
    execution.output?.type === 'file' ? execution.output.format : 'csv';
  return `${model}-${execution.id.slice(0, 8)}-predictions.${format}`;
}

/**
 * Fetches the result with the user's credentials (a plain link would carry
 * none) and hands it to the browser as a download.
 */
export async function downloadResult(
  api: Pick<MlPlatformApi, 'downloadExecutionResult'>,
  execution: BatchExecution,
  model: string,
): Promise<void> {
  const blob = await api.downloadExecutionResult(execution.id);
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = resultFilename(execution, model);
  document.body.appendChild(link);
  try {
    link.click();
  } finally {
    link.remove();
    // Some browsers read the URL after click() returns; free it a bit later.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }
}
