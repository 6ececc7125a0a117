import {
  DeploymentType,
  MlPlatformApi,
  ModelBuild,
  ModelDeployment,
  ModelRef,
} from '@internal/plugin-ml-platform-common';
import { isUuid, modelLabel, parseModelRef } from './args';
import { CliError, ExitCode, UsageError } from './errors';

const PAGE = 100;

/** Whether an entity ref (`component:default/churn`) names `ref`. */
const isOf = (entityRef: string, ref: ModelRef) =>
  entityRef.toLowerCase() ===
  `component:${ref.namespace}/${ref.name}`.toLowerCase();

/** Every build of a model, newest first, page by page. */
async function* allBuilds(api: MlPlatformApi, ref: ModelRef) {
  for (let offset = 0; ; offset += PAGE) {
    const page = await api.listBuilds(ref, { limit: PAGE, offset });
    yield* page.items;
    if (page.items.length < PAGE || offset + PAGE >= page.totalCount) return;
  }
}

/**
 * A build of the model from `--build`: a version (`3`, `v3`), a build ID,
 * or, when absent, the newest succeeded build.
 */
export async function resolveBuild(
  api: MlPlatformApi,
  ref: ModelRef,
  spec: string | undefined,
): Promise<ModelBuild> {
  if (spec !== undefined && isUuid(spec)) {
    const build = await api.getBuild(spec);
    if (!isOf(build.modelRef, ref)) {
      throw new UsageError(
        `--build: build ${spec} is of ${build.modelRef}, not ${modelLabel(
          ref,
        )}`,
      );
    }
    return build;
  }
  let version: number | undefined;
  if (spec !== undefined) {
    const match = /^v?(\d+)$/i.exec(spec.trim());
    if (!match) {
      throw new UsageError(
        `--build: "${spec}" is neither a version (3 or v3) nor a build ID`,
      );
    }
    version = Number(match[1]);
  }
  for await (const build of allBuilds(api, ref)) {
    if (
      version === undefined
        ? build.status === 'succeeded'
        : build.version === version
    ) {
      return build;
    }
  }
  throw new CliError(
    version === undefined
      ? `${modelLabel(
          ref,
        )} has no succeeded build: run \`mlp build ${modelLabel(ref)} --wait\``
      : `${modelLabel(ref)} has no build v${version}`,
    ExitCode.notFound,
  );
}

/**
 * The newest succeeded build older than `current`: what a rollback goes back to.
 */
export async function previousBuild(
  api: MlPlatformApi,
  ref: ModelRef,
  current: ModelBuild,
): Promise<ModelBuild> {
  for await (const build of allBuilds(api, ref)) {
    if (build.version < current.version && build.status === 'succeeded') {
      return build;
    }
  }
  throw new CliError(
    `${modelLabel(ref)} has no succeeded build before v${
      current.version
    } to roll back to`,
    ExitCode.notFound,
  );
}

/**
 * A deployment from `MODEL|DEPLOYMENT`: its ID, or the model's deployment of
 * `type` (the only one when the type is not given).
 */
export async function resolveDeployment(
  api: MlPlatformApi,
  target: string,
  type?: DeploymentType,
): Promise<ModelDeployment> {
  if (isUuid(target)) {
    const deployment = await api.getDeployment(target);
    if (type && deployment.type !== type) {
      throw new UsageError(
        `deployment ${target} is ${deployment.type}, not ${type}`,
      );
    }
    return deployment;
  }
  let ref: ModelRef;
  try {
    ref = parseModelRef(target);
  } catch (error) {
    throw new UsageError(`${(error as Error).message}, or a deployment ID`);
  }
  const all = await api.listDeployments(ref);
  const matching = type ? all.filter(d => d.type === type) : all;
  if (matching.length === 1) return matching[0];
  if (matching.length === 0) {
    throw new CliError(
      `${modelLabel(ref)} has no ${type ?? ''}${type ? ' ' : ''}deployment`,
      ExitCode.notFound,
    );
  }
  throw new UsageError(
    `${modelLabel(
      ref,
    )} has an online and a batch deployment: add --online or --batch`,
  );
}

/** The model a deployment or build belongs to, from its entity ref. */
export function modelOf(modelRef: string): ModelRef {
  return parseModelRef(modelRef);
}
