export * from './manifestSchema';
export * from './parseManifest';
export * from './jsonSchema';
