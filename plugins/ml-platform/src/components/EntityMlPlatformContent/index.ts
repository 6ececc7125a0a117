export { EntityMlPlatformContent } from './EntityMlPlatformContent';
