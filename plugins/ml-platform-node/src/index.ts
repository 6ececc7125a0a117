/**
 * Extension points and interfaces for modules of the ml-platform backend.
 *
 * @packageDocumentation
 */
export * from './ArtifactStore';
export * from './Runtime';
export * from './LocalArtifactStore';
export * from './git';
export * from './gitInput';
export * from './paths';
export * from './MlPlatformService';
export * from './extensions';
export * from './dataPlane';
