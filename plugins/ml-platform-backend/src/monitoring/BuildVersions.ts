import { ModelBuild } from '@internal/plugin-ml-platform-common';

/**
 * Build ids to version numbers (labels read `version="3"`), looked up once
 * per build: builds never change their version.
 */
export class BuildVersions {
  private readonly versions = new Map<string, Promise<number>>();

  constructor(
    private readonly getBuild: (
      id: string,
    ) => Promise<Pick<ModelBuild, 'version'> | undefined>,
  ) {}

  /** The build's version, or 0 for a build the platform does not know. */
  get(buildId: string): Promise<number> {
    let version = this.versions.get(buildId);
    if (!version) {
      version = this.getBuild(buildId).then(
        build => build?.version ?? 0,
        () => {
          this.versions.delete(buildId); // try again next time
          return 0;
        },
      );
      this.versions.set(buildId, version);
    }
    return version;
  }
}
