import { createServiceFactory } from '@backstage/backend-plugin-api';
import {
  DataPlaneDispatcher,
  mlPlatformDataPlaneServiceRef,
} from '@internal/plugin-ml-platform-node';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The data plane as `createMlPlatformRootHttpRouter` wires it, for test
 * backends (whose root router is their own): add `factory` to the features,
 * then `attach` the backend's server. `enabled = false` sends invocations
 * to the plugin's routes instead.
 */
export class TestDataPlane extends DataPlaneDispatcher {
  enabled = true;
  /** Invocations the data plane answered. */
  served = 0;

  readonly factory = createServiceFactory({
    service: mlPlatformDataPlaneServiceRef,
    deps: {},
    factory: () => this,
  });

  dispatch(req: IncomingMessage, res: ServerResponse) {
    if (!this.enabled || !super.dispatch(req, res)) return false;
    this.served++;
    return true;
  }
}
