export * from './MlPlatformClient';
