import {
  LoggerService,
  createExtensionPoint,
} from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { ArtifactLinks, ArtifactStore } from './ArtifactStore';
import { ModelPackages, Runtime } from './Runtime';

/** What an artifact store factory gets. @public */
export interface ArtifactStoreFactoryContext {
  /** The root config (the store reads its own section). */
  config: Config;
  logger: LoggerService;
}

/** @public */
export type ArtifactStoreFactory = (
  context: ArtifactStoreFactoryContext,
) => ArtifactStore | Promise<ArtifactStore>;

/** @public */
export interface MlPlatformArtifactStoreExtensionPoint {
  /**
   * Makes a store selectable through `mlPlatform.artifacts.type`: a store
   * instance, or a factory the plugin calls only when that type is chosen.
   * A second store of the same type is refused.
   */
  addArtifactStore(store: ArtifactStore): void;
  addArtifactStore(type: string, factory: ArtifactStoreFactory): void;
}

/**
 * Lets backend modules add artifact stores to the ml-platform plugin.
 *
 * @public
 */
export const mlPlatformArtifactStoreExtensionPoint =
  createExtensionPoint<MlPlatformArtifactStoreExtensionPoint>({
    id: 'ml-platform.artifact-stores',
  });

/** What a runtime factory gets. @public */
export interface RuntimeFactoryContext {
  /** The root config (the runtime reads its own section). */
  config: Config;
  logger: LoggerService;
  /** The artifact store `mlPlatform.artifacts.type` chose. */
  artifactStore: ArtifactStore;
  /** Tokened platform URLs for runtimes that run models on other hosts. */
  artifactLinks: ArtifactLinks;
  /** Builds unpacked on this host, for runtimes that run local processes. */
  packages: ModelPackages;
}

/** @public */
export type RuntimeFactory = (
  context: RuntimeFactoryContext,
) => Runtime | Promise<Runtime>;

/** @public */
export interface MlPlatformRuntimeExtensionPoint {
  /**
   * Makes a runtime selectable through `mlPlatform.runtime`: a factory the
   * plugin calls only when that type is chosen (or a ready instance). A
   * second runtime of the same type, `local` included, is refused.
   */
  addRuntime(type: string, factory: RuntimeFactory): void;
  addRuntime(runtime: Runtime): void;
}

/**
 * Lets backend modules add runtimes (for example `kubernetes`) to the
 * ml-platform plugin.
 *
 * @public
 */
export const mlPlatformRuntimeExtensionPoint =
  createExtensionPoint<MlPlatformRuntimeExtensionPoint>({
    id: 'ml-platform.runtimes',
  });

/**
 * Factories by type that refuse a second registration of a type, as
 * kubernetes-backend's extension points do. Used by the plugin behind both
 * extension points.
 *
 * @public
 */
export class TypedFactories<T, C> {
  private readonly factories = new Map<
    string,
    (context: C) => T | Promise<T>
  >();

  constructor(
    private readonly what: string,
    builtIn: Record<string, (context: C) => T | Promise<T>> = {},
  ) {
    for (const [type, factory] of Object.entries(builtIn))
      this.factories.set(type, factory);
  }

  add(
    typeOrInstance: string | (T & { type: string }),
    factory?: (context: C) => T | Promise<T>,
  ): void {
    const type =
      typeof typeOrInstance === 'string' ? typeOrInstance : typeOrInstance.type;
    if (this.factories.has(type)) {
      throw new Error(
        `A ${this.what} of type "${type}" is already registered; each type can be registered once`,
      );
    }
    const create =
      typeof typeOrInstance === 'string' ? factory : () => typeOrInstance;
    if (!create) throw new Error(`The ${this.what} "${type}" has no factory`);
    this.factories.set(type, create);
  }

  types(): string[] {
    return [...this.factories.keys()];
  }

  /**
   * Creates the chosen one (synchronously when its factory is); an unknown
   * type throws at once, naming the available ones.
   */
  create(type: string, context: C, configKey: string): T | Promise<T> {
    const factory = this.factories.get(type);
    if (!factory) {
      throw new Error(
        `${configKey} is "${type}", but no ${
          this.what
        } of that type is installed; available: ${this.types().join(', ')}`,
      );
    }
    return factory(context);
  }
}
