/**
 * The kubernetes runtime and the S3 artifact store of the ML platform.
 *
 * @packageDocumentation
 */
export { mlPlatformModuleKubernetes as default } from './module';
export { KubernetesRuntime } from './KubernetesRuntime';
export { KubernetesBatchRuntime } from './KubernetesBatchRuntime';
export { S3ArtifactStore } from './S3ArtifactStore';
