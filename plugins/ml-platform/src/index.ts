/**
 * The ML platform frontend plugin (legacy frontend system; the new frontend
 * system plugin is the `/alpha` export).
 *
 * @packageDocumentation
 */
export {
  mlPlatformPlugin,
  MlPlatformPage,
  EntityMlPlatformContent,
  isMlModel,
} from './plugin';
export { mlPlatformApiRef } from './api';
